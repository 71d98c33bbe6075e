"""Guards are plain functions: they only look at the connection."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler

SESSION_USER_ID = "user_id"
SESSION_EMAIL = "email"
SESSION_GENERATION = "generation"  # the account's session_generation at log-in: an older one has been ended


def requires_login(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Anonymous visitors are sent to the log-in page (see the NotAuthorized handler)."""
    if not connection.session.get(SESSION_USER_ID):
        raise NotAuthorizedException("Log in to see this page.")
