"""Security headers on every response (pages, static files, errors raised before routing, health checks)."""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

from webapp.core.settings import get_security_settings

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

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(self), geolocation=(), microphone=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


HSTS = "max-age=31536000; includeSubDomains"


async def add_security_headers(message: Message, scope: Scope) -> None:
    """A ``before_send`` hook: unlike route middleware it also sees 404s raised before routing. Over TLS (the
    request came as https, or the site is configured for secure cookies, i.e. served behind TLS) browsers are also
    told to use https only (HSTS)."""
    if message["type"] == "http.response.start":
        headers = MutableScopeHeaders.from_message(message)
        for name, value in SECURITY_HEADERS.items():
            if name not in headers:
                headers[name] = value
        if scope.get("scheme") == "https" or get_security_settings().secure_cookies:
            headers["Strict-Transport-Security"] = HSTS
