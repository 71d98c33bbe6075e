"""The account's optional context for the classifier (``users.birth_year``, ``users.sex``): the model weighs a
person's age and sex with the photo when they are given; they are never required.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("birth_year", sa.Integer(), nullable=True))
    op.add_column("users", sa.Column("sex", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:  # SQLite cannot drop a column in place before 3.35
        batch.drop_column("sex")
        batch.drop_column("birth_year")
