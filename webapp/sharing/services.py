"""Share links: made, listed and revoked by the spot's owner; resolved (and counted) when a doctor opens one.

A link is ``/shared/<token>``: 256 random bits of which the database keeps only the SHA-256, valid for the 7 or 30
days the person chose, until revoked, and as long as its spot and its account exist (their deletion deletes the
rows). What it shows is one spot and nothing else of the account (``webapp.sharing.controllers``).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.db.models import Lesion, ShareLink

DURATIONS_DAYS = (7, 30)
TOKEN_BYTES = 32  # 256 bits


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class LinkState(Enum):
    OPEN = "open"
    EXPIRED = "expired"
    REVOKED = "revoked"
    UNKNOWN = "unknown"  # never made, or its spot or account was deleted


@dataclass(frozen=True)
class OwnedLink:
    """A link as its owner sees it (the token itself is never shown again after it was made)."""

    id: uuid.UUID
    created_at: datetime
    expires_at: datetime
    include_context: bool
    open_count: int
    last_opened_at: datetime | None


def parse_days(raw: str) -> int | None:
    try:
        days = int(raw.strip())
    except (ValueError, AttributeError):
        return None
    return days if days in DURATIONS_DAYS else None


async def create_link(session: AsyncSession, lesion: Lesion, days: int, include_context: bool,
                      now: datetime | None = None) -> tuple[str, ShareLink]:
    """A new link to ``lesion``: the token (only its digest is stored) and the row."""
    now = now or datetime.now(UTC)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    link = ShareLink(user_id=lesion.user_id, lesion_id=lesion.id, token_hash=token_digest(token),
                     expires_at=now + timedelta(days=days), include_context=include_context)
    session.add(link)
    await session.flush()
    return token, link


async def open_links(session: AsyncSession, user_id: uuid.UUID, lesion_id: uuid.UUID,
                     now: datetime | None = None) -> list[OwnedLink]:
    """The spot's links that still work, newest first."""
    now = now or datetime.now(UTC)
    rows = await session.scalars(select(ShareLink).where(
        ShareLink.user_id == user_id, ShareLink.lesion_id == lesion_id, ShareLink.revoked_at.is_(None),
        ShareLink.expires_at > now).order_by(ShareLink.created_at.desc()))
    return [OwnedLink(row.id, row.created_at, row.expires_at, row.include_context, row.open_count,
                      row.last_opened_at) for row in rows]


async def revoke(session: AsyncSession, user_id: uuid.UUID, lesion_id: uuid.UUID, link_id: uuid.UUID,
                 now: datetime | None = None) -> bool:
    """End one of the owner's links; False when there is no such link of theirs for this spot."""
    row = await session.scalar(select(ShareLink).where(ShareLink.id == link_id, ShareLink.user_id == user_id,
                                                       ShareLink.lesion_id == lesion_id))
    if row is None:
        return False
    if row.revoked_at is None:
        row.revoked_at = now or datetime.now(UTC)
        await session.flush()
    return True


async def resolve(session: AsyncSession, token: str, now: datetime | None = None) -> tuple[LinkState,
                                                                                           ShareLink | None]:
    """The link a token names and whether it still works."""
    if not token or len(token) > 128:
        return LinkState.UNKNOWN, None
    now = now or datetime.now(UTC)
    row = await session.scalar(select(ShareLink).where(ShareLink.token_hash == token_digest(token)))
    if row is None:
        return LinkState.UNKNOWN, None
    if row.revoked_at is not None:
        return LinkState.REVOKED, row
    if row.expires_at <= now:
        return LinkState.EXPIRED, row
    return LinkState.OPEN, row


async def count_opening(session: AsyncSession, link: ShareLink, now: datetime | None = None) -> None:
    link.open_count = (link.open_count or 0) + 1
    link.last_opened_at = now or datetime.now(UTC)
    await session.flush()


async def delete_for_lesion(session: AsyncSession, lesion_id: uuid.UUID) -> None:
    """A deleted spot's links end with it (done explicitly: SQLite enforces the foreign key's cascade only when its
    pragma is on)."""
    await session.execute(delete(ShareLink).where(ShareLink.lesion_id == lesion_id))


async def delete_for_user(session: AsyncSession, user_id: uuid.UUID) -> None:
    await session.execute(delete(ShareLink).where(ShareLink.user_id == user_id))


async def export_rows(session: AsyncSession, user_id: uuid.UUID) -> list[dict[str, object]]:
    """The account's links for its data export: when, for which spot, how often opened; never a token or digest."""
    rows = await session.scalars(select(ShareLink).where(ShareLink.user_id == user_id)
                                 .order_by(ShareLink.created_at))
    return [{"id": str(r.id), "lesion_id": str(r.lesion_id), "created_at": r.created_at.isoformat(),
             "expires_at": r.expires_at.isoformat(), "revoked_at": r.revoked_at.isoformat() if r.revoked_at else None,
             "include_context": r.include_context, "open_count": r.open_count,
             "last_opened_at": r.last_opened_at.isoformat() if r.last_opened_at else None} for r in rows]
