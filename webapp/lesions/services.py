"""Lesion database work."""

from __future__ import annotations

import uuid
from datetime import datetime

from advanced_alchemy.filters import OrderBy
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService
from litestar.exceptions import NotFoundException
from sqlalchemy import func, select, update

from webapp.db.models import Diagnosis, Lesion
from webapp.lesions.bodymap import MapPosition
from webapp.lesions.evolution import assess_evolution
from webapp.lesions.reminders import Recheck, recheck
from webapp.lesions.schemas import timeline_point
from webapp.sharing.services import delete_for_lesion as delete_share_links


class LesionService(SQLAlchemyAsyncRepositoryService[Lesion]):
    class Repository(SQLAlchemyAsyncRepository[Lesion]):
        model_type = Lesion

    repository_type = Repository

    async def create_for(self, user_id: uuid.UUID, name: str, body_site: str,
                         position: MapPosition | None = None) -> Lesion:
        return await self.create({"user_id": user_id, "name": name.strip(), "body_site": body_site,
                                  **_position_columns(position)}, auto_commit=False)

    async def set_site(self, lesion: Lesion, body_site: str, position: MapPosition | None) -> None:
        """A new body site, and its pin on the map (None: the site's anchor — but the same site sent again without a
        pin, as a form without JavaScript does, keeps the pin it has)."""
        if position is None and body_site == lesion.body_site:
            position = stored_position(lesion)
        lesion.body_site = body_site
        for column, value in _position_columns(position).items():
            setattr(lesion, column, value)
        await self.repository.session.flush()

    async def get_owned(self, user_id: uuid.UUID, lesion_id: uuid.UUID | str | None) -> Lesion:
        try:
            key = lesion_id if isinstance(lesion_id, uuid.UUID) else uuid.UUID(str(lesion_id))
        except ValueError as exc:
            raise NotFoundException("No such lesion.") from exc
        lesion = await self.get_one_or_none(id=key, user_id=user_id)
        if lesion is None:
            raise NotFoundException("No such lesion.")
        return lesion

    async def list_owned(self, user_id: uuid.UUID) -> list[Lesion]:
        return list(await self.list(OrderBy(field_name="created_at", sort_order="desc"), user_id=user_id))

    async def photo_stats(self, user_id: uuid.UUID) -> dict[uuid.UUID, tuple[int, uuid.UUID | None, datetime | None]]:
        """Per lesion with photos: how many diagnoses, the newest one's photo id and when it was taken."""
        session = self.repository.session
        counts = dict((await session.execute(
            select(Diagnosis.lesion_id, func.count()).where(Diagnosis.user_id == user_id,
                                                            Diagnosis.lesion_id.is_not(None))
            .group_by(Diagnosis.lesion_id))).tuples().all())
        latest: dict[uuid.UUID, tuple[uuid.UUID, datetime]] = {}
        rows = await session.execute(
            select(Diagnosis.lesion_id, Diagnosis.photo_id, Diagnosis.created_at)
            .where(Diagnosis.user_id == user_id, Diagnosis.lesion_id.is_not(None))
            .order_by(Diagnosis.created_at.asc()))
        for lesion_id, photo_id, created_at in rows.tuples():
            latest[lesion_id] = (photo_id, created_at)
        return {lesion_id: (count, *latest.get(lesion_id, (None, None))) for lesion_id, count in counts.items()}

    async def rechecks(self, user_id: uuid.UUID, now: datetime | None = None, *, lesions: list[Lesion] | None = None,
                       stats: dict[uuid.UUID, tuple[int, uuid.UUID | None, datetime | None]] | None = None,
                       zone: str | None = None) -> list[Recheck]:
        """The re-checks (``webapp.lesions.reminders``) of ``lesions`` (default: every tracked spot), the most
        overdue first; pass ``lesions`` / ``stats`` a page has already read to save the queries. Days are counted
        in ``zone`` (the reader's IANA time zone; None: UTC)."""
        stats = stats if stats is not None else await self.photo_stats(user_id)
        lesions = lesions if lesions is not None else await self.list_owned(user_id)
        items = [recheck(lesion.id, lesion.name, lesion.recheck_days, stats.get(lesion.id, (0, None, None))[2],
                         lesion.created_at, now, zone) for lesion in lesions]
        return sorted(items, key=lambda item: (item.due_on, item.name))

    async def changed(self, user_id: uuid.UUID) -> set[uuid.UUID]:
        """The tracked spots whose change rule (``webapp.lesions.evolution``) flags them as worth showing a doctor,
        so that the list and the history can say so too, not only the spot's own page."""
        rows = await self.repository.session.scalars(
            select(Diagnosis).where(Diagnosis.user_id == user_id, Diagnosis.lesion_id.is_not(None))
            .order_by(Diagnosis.created_at.asc()))
        by_lesion: dict[uuid.UUID, list[Diagnosis]] = {}
        for diagnosis in rows:
            if diagnosis.lesion_id is not None:
                by_lesion.setdefault(diagnosis.lesion_id, []).append(diagnosis)
        return {lesion_id for lesion_id, items in by_lesion.items()
                if assess_evolution([timeline_point(d) for d in items]).flagged}

    async def set_recheck_days(self, lesion: Lesion, days: int) -> None:
        lesion.recheck_days = days
        await self.repository.session.flush()

    async def delete_owned(self, user_id: uuid.UUID, lesion_id: uuid.UUID) -> None:
        """The lesion goes, and its share links with it; its diagnoses stay in the history, detached."""
        lesion = await self.get_owned(user_id, lesion_id)
        session = self.repository.session
        await delete_share_links(session, lesion.id)
        await session.execute(update(Diagnosis).where(Diagnosis.lesion_id == lesion.id,
                                                      Diagnosis.user_id == user_id).values(lesion_id=None))
        await session.delete(lesion)
        await session.flush()


def _position_columns(position: MapPosition | None) -> dict[str, str | float | None]:
    if position is None:
        return {"map_side": None, "map_x": None, "map_y": None}
    return {"map_side": position.view, "map_x": position.x, "map_y": position.y}


def stored_position(lesion: Lesion) -> MapPosition | None:
    """The lesion's pin as stored, or None when none was placed."""
    if lesion.map_side is None or lesion.map_x is None or lesion.map_y is None:
        return None
    return MapPosition(lesion.map_side, lesion.map_x, lesion.map_y)
