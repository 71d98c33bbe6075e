"""Errors become HTML pages that say what to do (or a redirect to log in); health checks keep their JSON."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, NotFoundException
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from webapp.core.diagnosis_result import UnreadableResult
from webapp.core.i18n import N_, gettext, request_language

log = logging.getLogger(__name__)

_MESSAGES = {
    400: (N_("Something in the request was wrong"), N_("Go back, check the form and try again.")),
    403: (N_("This form has expired"), N_("Reload the page and submit the form again. (Cookies must be enabled.)")),
    404: (N_("Page not found"), N_("The page does not exist, or it is not yours to see.")),
    405: (N_("Not allowed"), N_("That address does not accept this kind of request.")),
    413: (N_("The photo is too large"), N_("Choose a smaller photo: the limit is shown on the upload page.")),
    429: (N_("Too many attempts"), N_("Wait a minute, then try again.")),
    500: (N_("Something went wrong on our side"), N_("Try again in a minute. Nothing you sent was half-saved.")),
    503: (N_("The site's database is unavailable for a moment"),
          N_("Try again in a minute. Nothing you sent was half-saved, and nothing you saved before is lost.")),
    507: (N_("The site has no room to store this right now"),
          N_("Nothing you sent was saved, and nothing you saved before is lost. Try again later.")),
}
# A stored diagnosis whose document this site cannot read (``UnreadableResult``): our fault, and only that one.
_UNREADABLE_RESULT = (N_("This saved result cannot be shown"),
                      N_("It was saved in a form this version of Dr. Skin cannot read. Your other results are safe, "
                         "and the problem is logged for us to fix."))
# A community post or comment that is too large is mostly text: say so, not "the photo" (the same 413 otherwise).
_TOO_LARGE_POST = (N_("What you sent is too large"),
                   N_("Shorten the text, or attach a smaller photo, and send it again."))
DATABASE_RETRY_AFTER_S = 30


def refuse_null_bytes(app: Any) -> Any:
    """Route middleware: an address with a null character (``/static/x%00``) names nothing, so it is the 404 page;
    left to the static files' ``open()`` it was a 500 with a traceback ("embedded null byte")."""

    async def middleware(scope: Any, receive: Any, send: Any) -> None:
        if "\x00" in scope.get("path", ""):
            raise NotFoundException("The address holds a null character.")
        await app(scope, receive, send)

    return middleware


def _page(request: Request[Any, Any, Any], status_code: int, detail: str | None = None,
          headers: dict[str, str] | None = None, title_advice: tuple[str, str] | None = None) -> Response[Any]:
    title, advice = title_advice or _MESSAGES.get(status_code, _MESSAGES[400] if status_code < 500 else _MESSAGES[500])
    if status_code == 413 and request.url.path.startswith("/community"):
        title, advice = _TOO_LARGE_POST
    if request.url.path.startswith("/health"):
        return Response({"status_code": status_code, "detail": title}, status_code=status_code, headers=headers)
    # Errors raised before routing skip the route middleware: decide the language here too.
    lang = request_language(request)
    title, advice = gettext(lang, title), gettext(lang, advice)
    return Template("pages/error.html", context={"status_code": status_code, "title": title, "advice": advice,
                                                 "detail": detail}, status_code=status_code, headers=headers)


def not_authorized_handler(request: Request[Any, Any, Any], exc: NotAuthorizedException) -> Response[Any]:
    if request.url.path.startswith("/health"):
        return Response({"detail": "not authorised"}, status_code=401)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    flash(request, gettext(request, "Log in to continue."), category="info")
    return Redirect(f"/login?next={quote(target, safe='')}")


def http_exception_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    detail = None
    if status == 403 and "csrf" not in str(exc.detail).lower():
        detail = str(exc.detail)
    headers = None
    if status == 429:
        # Say when to come back: the limiter's RateLimit-* headers, and Retry-After (seconds) from its reset time.
        headers = {k: v for k, v in (exc.headers or {}).items() if k.lower().startswith("ratelimit")}
        headers["Retry-After"] = str((exc.headers or {}).get("RateLimit-Reset") or 60)
    return _page(request, status, detail, headers)


# Connection-level failures of the PostgreSQL drivers, by class name (asyncpg's and psycopg's).
_CONNECTION_ERRORS = {"ConnectionDoesNotExistError", "CannotConnectNowError", "ConnectionFailureError",
                      "InterfaceError", "AdminShutdown", "ConnectionTimeout"}


def _raised_in_database_layer(exc: BaseException) -> bool:
    import traceback

    return any(part in frame.filename for frame in traceback.extract_tb(exc.__traceback__)
               for part in ("/sqlalchemy/", "/asyncpg/", "/psycopg/", "/aiosqlite/"))


def _chain(exc: BaseException) -> list[BaseException]:
    seen: set[int] = set()
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def is_database_outage(exc: BaseException) -> bool:
    """Whether ``exc`` comes from the database being unreachable — a refused, dropped or shut-down connection —
    rather than a bad query, a missing table or a constraint (those stay 500s with a traceback in the log)."""
    from sqlalchemy.exc import DBAPIError

    chain = _chain(exc)
    if not any(isinstance(item, DBAPIError) or _raised_in_database_layer(item) for item in chain):
        return False  # only errors from the database layer (asyncpg's refused connect is a bare OSError)
    for item in chain:
        if isinstance(item, DBAPIError) and item.connection_invalidated:
            return True
        if isinstance(item, OSError) or type(item).__name__ in _CONNECTION_ERRORS:
            return True
    return False


_SQLITE_FULL = 13
_POSTGRES_DISK_FULL = "53100"  # SQLSTATE disk_full


def is_storage_full(exc: BaseException) -> bool:
    """Whether ``exc`` says the storage is full: SQLite's ``SQLITE_FULL`` ("database or disk is full"), PostgreSQL's
    ``disk_full`` (53100, "could not extend file … No space left on device"), or an ``ENOSPC``/``EDQUOT`` write."""
    import errno

    for item in _chain(exc):
        if getattr(item, "sqlite_errorcode", None) == _SQLITE_FULL:
            return True
        if _POSTGRES_DISK_FULL in (getattr(item, "sqlstate", None), getattr(item, "pgcode", None)):
            return True
        if isinstance(item, OSError) and item.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
    return False


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if any(isinstance(item, UnreadableResult) for item in _chain(exc)):
        log.error("unreadable stored result on %s %s: %s", request.method, request.url.path, exc)
        return _page(request, 500, title_advice=_UNREADABLE_RESULT)
    if is_storage_full(exc):
        # Not a bug either: the transaction was rolled back, so nothing is half-written. An operator must act.
        log.error("storage full on %s %s: %r", request.method, request.url.path, exc)
        return _page(request, 507)
    if is_database_outage(exc):
        # An outage is not a bug: a 503 that says so; the pool's pre-ping reconnects when the database is back.
        log.warning("database unavailable on %s %s: %r", request.method, request.url.path, exc)
        return _page(request, 503, headers={"Retry-After": str(DATABASE_RETRY_AFTER_S)})
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _page(request, 500)
