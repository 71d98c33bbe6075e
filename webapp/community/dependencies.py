"""Dependencies and guards for the community pages."""

from __future__ import annotations

from typing import Any

from advanced_alchemy.extensions.litestar.providers import create_service_provider
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.handlers.base import BaseRouteHandler
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.accounts.dependencies import provide_user
from webapp.community.services import CommentService, PostService, ReportService
from webapp.core.guards import SESSION_USER_ID
from webapp.db.models import User

provide_post_service = create_service_provider(PostService)
provide_comment_service = create_service_provider(CommentService)
provide_report_service = create_service_provider(ReportService)


def requires_login_to_write(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Reading is open to everybody; every handler marked ``opt={"write": True}`` needs a logged-in user."""
    if handler.opt.get("write") and not connection.session.get(SESSION_USER_ID):
        raise NotAuthorizedException("Log in to write in the community.")


async def provide_moderator(request: Request[Any, Any, Any], db_session: AsyncSession) -> User:
    """The logged-in moderator. Everybody else gets "not found": the queue's existence is no secret, but there is
    nothing to see for them."""
    user = await provide_user(request, db_session)
    if not user.is_moderator:
        raise NotFoundException("Not found.")
    return user
