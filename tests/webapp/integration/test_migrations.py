"""The Alembic migration builds the same schema as the models, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio

from alembic import command

from webapp.db.migrate import alembic_config, downgrade, upgrade


async def test_upgrade_matches_models_and_downgrades(db_url):
    await asyncio.to_thread(upgrade, db_url)
    # `check` fails when autogenerate would still find differences between the models and the database.
    await asyncio.to_thread(command.check, alembic_config(db_url))
    await asyncio.to_thread(downgrade, db_url)
    await asyncio.to_thread(upgrade, db_url)
