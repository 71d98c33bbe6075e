"""A lesion's pin on the body map: the view (``lesions.map_side``: front or back) and where on it (``map_x``,
``map_y``: fractions 0-1 of the view's width and height); empty when no pin was placed.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lesions") as batch:
        batch.add_column(sa.Column("map_side", sa.String(length=5), nullable=True))
        batch.add_column(sa.Column("map_x", sa.Float(), nullable=True))
        batch.add_column(sa.Column("map_y", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("lesions") as batch:  # SQLite cannot drop a column in place before 3.35
        batch.drop_column("map_y")
        batch.drop_column("map_x")
        batch.drop_column("map_side")
