"""Server-side sessions kept in the database (never on a replica's disk), with a fresh id at every log-in, and
only for visitors with something to keep (a log-in, a flash message): an anonymous page view stores nothing."""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass
from typing import Any

from advanced_alchemy.extensions.litestar.store import SQLAlchemyStore
from litestar.connection import ASGIConnection
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.types import Empty, Message, ScopeSession

from webapp.core.errors import is_storage_full

log = logging.getLogger(__name__)

_ROTATE = "drskin_rotate_session"
_NEW_ID = "drskin_new_session_id"


def rotate_session_id(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    """Ask for a new session id when the response is sent (log-in): a planted cookie cannot be fixated."""
    connection.state[_ROTATE] = True


class RotatingSessionBackend(ServerSideSessionBackend):
    def get_session_id(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        if connection.state.get(_ROTATE):
            if not connection.state.get(_NEW_ID):
                connection.state[_NEW_ID] = self.generate_session_id()
            return str(connection.state[_NEW_ID])
        return super().get_session_id(connection)

    async def store_in_message(self, scope_session: ScopeSession, message: Message,
                               connection: ASGIConnection[Any, Any, Any, Any]) -> None:
        old_id = connection.cookies.get(self.config.key)
        has_cookie = bool(old_id) and old_id != "null"
        if not scope_session and not has_cookie:
            # Nothing to keep and no session to end: store no row and set no cookie. Otherwise every cookie-less
            # request (a crawler, a probe) would add a session row that lives for the whole session lifetime.
            return
        if connection.state.get(_ROTATE) and has_cookie:
            await self.delete(str(old_id), store=self.config.get_store_from_app(connection.scope["app"]))
        await super().store_in_message(scope_session or Empty, message, connection)


@dataclass
class DatabaseSessionConfig(ServerSideSessionConfig):
    _backend_class = RotatingSessionBackend  # type: ignore[assignment]


class BestEffortStore(SQLAlchemyStore):  # type: ignore[type-arg]
    """The store of what may go unwritten for a while: web sessions (rewritten after every response of a logged-in
    person, to renew them) and rate-limit counters. When the storage is full, a write is skipped and logged instead
    of failing every page: the session stays as it was stored, the counter does not count. What a person asked to
    keep (a photo, a kept result) still fails, with the page that says so."""

    async def set(self, key: str, value: str | bytes, expires_in: int | datetime.timedelta | None = None) -> None:
        try:
            await super().set(key, value, expires_in)
        except Exception as exc:
            if not is_storage_full(exc):
                raise
            log.error("storage full: %s entry not written: %r", self.namespace, exc)
