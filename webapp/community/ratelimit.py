"""Rate limits on posting and commenting: the site's DB-backed limiter (Litestar ``RateLimitMiddleware`` on the
``rate_limit`` store, i.e. the ``kv_store`` table shared by all replicas), mounted on the community controllers.

Keyed per kind and per logged-in account (client IP for anonymous requests, which are refused anyway), so posting
does not eat into the comment budget or into the log-in limits. Limits are read from the environment when the
app is built (``RateLimitSettings``: ``DRSKIN_RATE_LIMIT_POST``, default 5 per minute, and
``DRSKIN_RATE_LIMIT_COMMENT``, default 20); ``0`` disables one.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.middleware import DefineMiddleware
from litestar.middleware.rate_limit import RateLimitConfig, RateLimitMiddleware, get_remote_address
from litestar.types import ASGIApp, Receive, Scope, Send

from webapp.core.guards import SESSION_USER_ID
from webapp.core.settings import get_rate_limit_settings

OPT_KEY = "community_rate_limit"


def limit_per_minute(kind: str) -> int:
    """Posts or comments (``kind``) per minute per account; 0: no limit."""
    settings = get_rate_limit_settings()
    return {"post": settings.post_per_minute, "comment": settings.comment_per_minute}[kind]


def _identifier(kind: str) -> Any:
    def identify(request: Request[Any, Any, Any]) -> str:
        try:
            user = request.session.get(SESSION_USER_ID)
        except Exception:
            user = None
        return f"community-{kind}::{'user:' + str(user) if user else 'ip:' + get_remote_address(request)}"

    return identify


def _applies(kind: str) -> Any:
    def applies(request: Request[Any, Any, Any]) -> bool:
        return request.method == "POST" and request.route_handler.opt.get(OPT_KEY) == kind

    return applies


class CommunityRateLimitMiddleware(RateLimitMiddleware):
    def __init__(self, app: ASGIApp, kind: str) -> None:
        self.per_minute = limit_per_minute(kind)
        config = RateLimitConfig(rate_limit=("minute", max(self.per_minute, 1)), check_throttle_handler=_applies(kind),
                                 identifier_for_request=_identifier(kind), store="rate_limit")
        super().__init__(app, config)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.per_minute <= 0:
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def community_rate_limits() -> list[DefineMiddleware]:
    return [DefineMiddleware(CommunityRateLimitMiddleware, kind=kind) for kind in ("post", "comment")]
