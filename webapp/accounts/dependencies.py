"""Dependencies: the user service and the logged-in user."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from advanced_alchemy.extensions.litestar.providers import create_service_provider
from litestar import Request
from litestar.exceptions import NotAuthorizedException
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.accounts.services import UserService
from webapp.core.guards import SESSION_GENERATION, SESSION_USER_ID
from webapp.core.i18n import _
from webapp.core.timezones import remember_account_zone
from webapp.db.models import User

provide_user_service = create_service_provider(UserService)


async def provide_current_user(request: Request[Any, Any, Any], db_session: AsyncSession) -> User | None:
    """The logged-in user, or None (anonymous, the account was deleted in another session, or its password changed
    since this session began: every other session ends then)."""
    raw = request.session.get(SESSION_USER_ID)
    if not raw:
        return None
    try:
        user = await db_session.get(User, UUID(str(raw)))
    except ValueError:
        user = None
    if user is not None and request.session.get(SESSION_GENERATION, 0) != (user.session_generation or 0):
        user = None
    if user is None:
        request.clear_session()
        request.set_session({})  # still a session, so that the log-in redirect can flash why
    else:
        remember_account_zone(request, user.time_zone)  # changed on another device: follow the account
    return user


async def provide_user(request: Request[Any, Any, Any], db_session: AsyncSession) -> User:
    """The logged-in user; routes that need one are also guarded by ``requires_login``."""
    user = await provide_current_user(request, db_session)
    if user is None:
        raise NotAuthorizedException(_("Log in to see this page."))
    return user
