"""Alembic environment: async engines for SQLite (aiosqlite) and PostgreSQL (asyncpg/psycopg)."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from webapp.db.models import metadata

config = context.config


def _include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    # advanced-alchemy declares this index for Spanner only (ddl_if); it never exists elsewhere.
    return not (type_ == "index" and name == "ix_kv_store_key_namespace_unique")


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things: later migrations get "move and copy" batches for free.
        render_as_batch=connection.dialect.name == "sqlite",
        # GUID columns reflect as NUMERIC/CHAR/UUID depending on the dialect; comparing types is only noise.
        compare_type=False,
        include_object=_include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


def run_offline(url: str) -> None:
    context.configure(url=url, target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


_url = str(config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url"))
if context.is_offline_mode():
    run_offline(_url)
else:
    asyncio.run(_run_async(_url))
