"""ORM models. They never cross the wire: controllers turn them into schemas first.

Every row that belongs to a person carries ``user_id`` so that ownership checks are one ``WHERE`` clause, and
deleting an account is a handful of bulk deletes that work the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

from advanced_alchemy.base import UUIDAuditBase, UUIDv7Base
from advanced_alchemy.extensions.litestar.store import StoreModelMixin
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from webapp.core.diagnosis_result import DiagnosisResult, UnreadableResult, load_result

metadata = UUIDAuditBase.metadata
# advanced-alchemy's JsonB breaks on SQLAlchemy 2.1 (util.portable_instancemethod is gone): spell it out.
JsonDocument = JSON().with_variant(JSONB(), "postgresql")


log = logging.getLogger(__name__)

class User(UUIDAuditBase):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(320), unique=True, index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_moderator: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The site's language for this account ("en", "ko"), applied at log-in on any device; None: not chosen yet.
    language: Mapped[str | None] = mapped_column(String(8), nullable=True, default=None)
    # Optional context the classifier weighs with the photo (skin_models.context): never required, cleared at will.
    birth_year: Mapped[int | None] = mapped_column(Integer, nullable=True, default=None)
    sex: Mapped[str | None] = mapped_column(String(8), nullable=True, default=None)
    # The IANA zone times are shown in ("Asia/Seoul"; webapp.core.timezones), from the browser at sign-up or chosen
    # on the account page; None: the browser's zone (cookie), else UTC. Stored times stay UTC.
    time_zone: Mapped[str | None] = mapped_column(String(64), nullable=True, default=None)
    # Raised when the password changes (a reset, or on the account page): a session that was started under an older
    # value is ended at its next request (webapp.accounts.dependencies), so every other device is logged out.
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


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
    # Days between photos the person wants (webapp.lesions.reminders): the spot is due for a re-check after that.
    recheck_days: Mapped[int] = mapped_column(Integer, default=30, server_default="30")
    # Its pin on the body map (webapp.lesions.bodymap), when the person placed one: the view ("front" / "back")
    # and fractions (0-1) of that view's width and height. Without one the pin sits on its body site's anchor.
    map_side: Mapped[str | None] = mapped_column(String(5), nullable=True)
    map_x: Mapped[float | None] = mapped_column(Float, nullable=True)
    map_y: Mapped[float | None] = mapped_column(Float, nullable=True)


class Diagnosis(UUIDAuditBase):
    """One analysed photo: the typed result (``webapp.core.diagnosis_result``) plus the columns pages sort and plot
    by."""

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
    # The stored document, of whatever shape it was written in; read it through ``result``.
    result_document: Mapped[dict[str, Any]] = mapped_column("result", JsonDocument)

    @property
    def result(self) -> DiagnosisResult:
        """The stored result, upgraded from any older shape and validated: the one place a row's result is read
        (``load_result``; raises ``UnreadableResult`` for a damaged document)."""
        return load_result(self.result_document)

    @result.setter
    def result(self, value: DiagnosisResult) -> None:
        self.result_document = value.stored()

    @property
    def readable_result(self) -> DiagnosisResult | None:
        """``result``, or None (logged) when the stored document cannot be read: for pages that list many
        diagnoses, so that one damaged row (say, written by a newer site before a rollback) shows as unreadable
        instead of taking the person's whole history, lesion or feed down with it."""
        try:
            return self.result
        except UnreadableResult as exc:
            log.error("diagnosis %s: stored result unreadable: %s", self.id, exc)
            return None


class CommunityPost(UUIDAuditBase):
    """A community post (``webapp/community``). ``title_search`` is the case-folded title, filled by the service, so
    that search is one ``LIKE`` that behaves the same on SQLite and PostgreSQL (SQLite's lower() is ASCII only).

    A shared diagnosis is a reference, chosen explicitly by its owner: deleting the diagnosis unshares it.
    """

    __tablename__ = "community_posts"
    __table_args__ = (Index("ix_community_posts_created_at", "created_at"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    title_search: Mapped[str] = mapped_column(String(400))
    body: Mapped[str] = mapped_column(Text)
    body_format: Mapped[str] = mapped_column(String(16), default="plain", server_default="plain")
    photo_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("photos.id", ondelete="SET NULL"), nullable=True)
    diagnosis_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("diagnoses.id", ondelete="SET NULL"),
                                                           nullable=True, index=True)
    share_diagnosis_photo: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    is_hidden: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    hidden_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    edited_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    hidden_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
                                                           nullable=True)


class CommunityComment(UUIDAuditBase):
    __tablename__ = "community_comments"

    post_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("community_posts.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    body: Mapped[str] = mapped_column(Text)
    body_format: Mapped[str] = mapped_column(String(16), default="plain", server_default="plain")
    is_hidden: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    hidden_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    edited_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    hidden_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
                                                           nullable=True)


class CommunityReport(UUIDAuditBase):
    """One person's report of one post or one comment (exactly one of the two); open until a moderator acts."""

    __tablename__ = "community_reports"
    __table_args__ = (
        UniqueConstraint("user_id", "post_id", name="uq_community_reports_user_post"),
        UniqueConstraint("user_id", "comment_id", name="uq_community_reports_user_comment"),
        CheckConstraint("(post_id IS NULL) <> (comment_id IS NULL)", name="one_target"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    post_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("community_posts.id", ondelete="CASCADE"),
                                                      nullable=True, index=True)
    comment_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("community_comments.id", ondelete="CASCADE"),
                                                         nullable=True, index=True)
    reason: Mapped[str] = mapped_column(String(500))
    resolved: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class PasswordResetToken(UUIDAuditBase):
    """One "forgot your password" link (webapp.accounts.recovery). Only the SHA-256 of the token is stored; a row is
    deleted when it is used, when a newer one is made and when the password changes, and ignored once expired."""

    __tablename__ = "password_reset_tokens"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))


class ShareLink(UUIDAuditBase):
    """A read-only link to one tracked spot for a doctor (webapp.sharing). Only the SHA-256 of the token is stored;
    the link ends at ``expires_at``, when revoked, and with its spot or its account (the rows are deleted)."""

    __tablename__ = "share_links"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    lesion_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lesions.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    # Whether the shared page shows the context the person gave with the photos (age, sex): their choice.
    include_context: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    open_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_opened_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)


class KeyValueItem(StoreModelMixin, UUIDv7Base):
    """Litestar store rows: server-side sessions and rate-limit counters, shared by all replicas."""

    __tablename__ = "kv_store"


__all__ = ["CommunityComment", "CommunityPost", "CommunityReport", "Diagnosis", "KeyValueItem", "Lesion",
           "PasswordResetToken", "Photo", "ShareLink", "User", "datetime", "metadata"]
