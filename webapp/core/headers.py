"""Security headers sent with every response (pages, static files, errors, health checks)."""

from __future__ import annotations

from litestar.datastructures import ResponseHeader

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    # data: for the anonymous result (the photo is never stored), blob: for the JS preview.
    "img-src 'self' data: blob:",
    "media-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


def security_headers() -> list[ResponseHeader]:
    return [
        ResponseHeader(name="Content-Security-Policy", value=CONTENT_SECURITY_POLICY),
        ResponseHeader(name="X-Content-Type-Options", value="nosniff"),
        ResponseHeader(name="X-Frame-Options", value="DENY"),
        ResponseHeader(name="Referrer-Policy", value="same-origin"),
        ResponseHeader(name="Permissions-Policy", value="camera=(self), geolocation=(), microphone=()"),
        ResponseHeader(name="Cross-Origin-Opener-Policy", value="same-origin"),
    ]
