"""The account's time zone (``users.time_zone``, an IANA name such as ``Asia/Seoul``): pages show times in it, with
the zone named. Nullable: without one the browser's zone (a cookie) or UTC applies. Stored times stay UTC.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("time_zone", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:  # SQLite cannot drop a column in place before 3.35
        batch.drop_column("time_zone")
