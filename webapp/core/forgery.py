"""Cross-site request forgery defences on top of Litestar's double-submit CSRF token.

* **Origin check**: a state-changing request (POST, PUT, PATCH, DELETE) whose ``Origin`` — or, without one, its
  ``Referer`` — names another host than the one it was sent to is refused (403), whatever token it carries.
* **Token bound to the session**: at log-in the session records the CSRF cookie the browser holds; later
  state-changing requests of that session must carry the same cookie, so one user's cookie and token pair does
  not work in another user's session.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from litestar import Request
from litestar.exceptions import PermissionDeniedException

from webapp.core.guards import SESSION_USER_ID

CSRF_COOKIE = "csrftoken"  # Litestar's CSRFConfig default
SESSION_CSRF = "csrf_bound"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def bind_csrf_to_session(request: Request[Any, Any, Any]) -> None:
    """Call right after a log-in has set the session: the browser's current CSRF cookie becomes the session's."""
    token = request.cookies.get(CSRF_COOKIE)
    if token:
        request.session[SESSION_CSRF] = token


def _same_host(url: str, host: str) -> bool:
    return urlsplit(url).netloc.lower() == host.lower()


async def check_request_origin(request: Request[Any, Any, Any]) -> None:
    """A ``before_request`` hook: the origin check and the session binding (see the module docstring)."""
    if request.method not in UNSAFE_METHODS or request.url.path.startswith("/health"):
        return
    # The Origin header, or without one the Referer; "null" (a sandboxed or file page) is never this site.
    sender = request.headers.get("origin") or request.headers.get("referer")
    if sender and (sender == "null" or not _same_host(sender, request.headers.get("host", ""))):
        raise PermissionDeniedException("This form was sent from another web site, so it was refused.")
    try:
        session = request.session
    except Exception:  # routes without sessions (static files)
        return
    bound = session.get(SESSION_CSRF) if session.get(SESSION_USER_ID) else None
    if bound and request.cookies.get(CSRF_COOKIE) != bound:
        raise PermissionDeniedException("This form belongs to another session. Reload the page and send it again.")
