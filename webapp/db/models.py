"""ORM models. They never cross the wire: controllers turn them into schemas first.

Every row that belongs to a person carries ``user_id`` so that ownership checks are one ``WHERE`` clause, and
deleting an account is a handful of bulk deletes that work the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from advanced_alchemy.base import UUIDAuditBase, UUIDv7Base
from advanced_alchemy.extensions.litestar.store import StoreModelMixin
from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, LargeBinary, String, false
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

metadata = UUIDAuditBase.metadata
# advanced-alchemy's JsonB breaks on SQLAlchemy 2.1 (util.portable_instancemethod is gone): spell it out.
JsonDocument = JSON().with_variant(JSONB(), "postgresql")


class User(UUIDAuditBase):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(320), unique=True, index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_moderator: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Photo(UUIDAuditBase):
    """Image bytes (the re-encoded photo or the service's overlay). Served only to ``user_id``."""

    __tablename__ = "photos"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    content_type: Mapped[str] = mapped_column(String(50))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class Lesion(UUIDAuditBase):
    """A spot the user follows over time."""

    __tablename__ = "lesions"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    body_site: Mapped[str] = mapped_column(String(40))


class Diagnosis(UUIDAuditBase):
    """One analysed photo: the service's full answer plus the columns pages sort and plot by."""

    __tablename__ = "diagnoses"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    lesion_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("lesions.id", ondelete="SET NULL"), index=True,
                                                        nullable=True)
    photo_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("photos.id", ondelete="CASCADE"))
    overlay_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("photos.id", ondelete="SET NULL"), nullable=True)
    label: Mapped[str] = mapped_column(String(16))
    triage_level: Mapped[str] = mapped_column(String(16))
    concerning_probability: Mapped[float] = mapped_column(Float)
    area_fraction: Mapped[float | None] = mapped_column(Float, nullable=True)
    synthetic_model: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    model_versions: Mapped[list[dict[str, Any]]] = mapped_column(JsonDocument)
    result: Mapped[dict[str, Any]] = mapped_column(JsonDocument)


class KeyValueItem(StoreModelMixin, UUIDv7Base):
    """Litestar store rows: server-side sessions and rate-limit counters, shared by all replicas."""

    __tablename__ = "kv_store"


__all__ = ["Diagnosis", "KeyValueItem", "Lesion", "Photo", "User", "datetime", "metadata"]
