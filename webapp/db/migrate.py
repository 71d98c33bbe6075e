"""Alembic, configured in code so that it works from any directory and from an installed package."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from webapp.core.settings import get_database_settings, normalise_database_url

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(database_url: str | None = None) -> Config:
    """An Alembic ``Config`` for ``database_url`` (default: ``DATABASE_URL``)."""
    url = normalise_database_url(database_url) if database_url else get_database_settings().url
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # The URL travels as an attribute, not through the ini parser, which would choke on '%' in passwords.
    config.attributes["database_url"] = url
    return config


def upgrade(database_url: str | None = None, revision: str = "head") -> None:
    """Run ``alembic upgrade`` (blocking; call it from a thread inside an event loop)."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str | None = None, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)
