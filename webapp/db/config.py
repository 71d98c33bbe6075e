"""The advanced-alchemy configuration. Building it makes no connection."""

from __future__ import annotations

from typing import Any

from advanced_alchemy.extensions.litestar import AsyncSessionConfig, EngineConfig, SQLAlchemyAsyncConfig
from sqlalchemy import event

from webapp.core.settings import DatabaseSettings, get_database_settings


def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
    # WAL lets the session store write while a request still holds a read transaction; the pages commit their own
    # writes before the response starts, so two writers never wait on each other for long.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def build_alchemy_config(settings: DatabaseSettings | None = None) -> SQLAlchemyAsyncConfig:
    """The config used by the app, the CLI and the tests."""
    settings = settings or get_database_settings()
    engine = EngineConfig(echo=settings.echo) if settings.is_sqlite else EngineConfig(
        echo=settings.echo, pool_pre_ping=True, pool_size=5, max_overflow=10)
    config = SQLAlchemyAsyncConfig(
        connection_string=settings.url,
        engine_config=engine,
        session_config=AsyncSessionConfig(expire_on_commit=False),
        # Commit on 2xx and on redirects, roll back otherwise. Handlers that write also commit explicitly before
        # returning, so the row is durable before the session cookie (written by middleware) goes out.
        before_send_handler="autocommit_include_redirects",
        session_dependency_key="db_session",
        create_all=False,
    )
    if settings.is_sqlite:
        # Creating the engine object does not connect; the listener runs on each new connection.
        event.listen(config.get_engine().sync_engine, "connect", _sqlite_pragmas)
    return config
