"""A re-check interval per lesion (``lesions.recheck_days``, default 30): the site says which spots are due for a
new photo and offers the reminders as an iCalendar file.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("lesions", sa.Column("recheck_days", sa.Integer(), nullable=False, server_default="30"))


def downgrade() -> None:
    with op.batch_alter_table("lesions") as batch:  # SQLite cannot drop a column in place before 3.35
        batch.drop_column("recheck_days")
