"""Diagnosis and photo storage. Ownership is part of every query: another user's row is simply "not found"."""

from __future__ import annotations

import uuid

from advanced_alchemy.filters import LimitOffset, OrderBy
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService
from litestar.exceptions import NotFoundException
from sqlalchemy import delete, select

from webapp.core.diagnosis_result import DiagnosisResult
from webapp.core.images import CleanPhoto
from webapp.db.models import Diagnosis, Lesion, Photo


class PhotoService(SQLAlchemyAsyncRepositoryService[Photo]):
    """Photos live in the database (bytes), never on a replica's disk."""

    class Repository(SQLAlchemyAsyncRepository[Photo]):
        model_type = Photo

    repository_type = Repository

    async def get_owned(self, user_id: uuid.UUID, photo_id: uuid.UUID) -> Photo:
        photo = await self.get_one_or_none(id=photo_id, user_id=user_id)
        if photo is None:
            raise NotFoundException("No such photo.")
        return photo


class DiagnosisService(SQLAlchemyAsyncRepositoryService[Diagnosis]):
    class Repository(SQLAlchemyAsyncRepository[Diagnosis]):
        model_type = Diagnosis

    repository_type = Repository

    async def save(self, user_id: uuid.UUID, photo: CleanPhoto, result: DiagnosisResult,
                   lesion_id: uuid.UUID | None = None) -> Diagnosis:
        """Store the photo and the result in the request's transaction (committed only if the page succeeds)."""
        session = self.repository.session
        photo_row = Photo(user_id=user_id, content_type="image/jpeg", width=photo.width, height=photo.height,
                          data=photo.jpeg)
        session.add(photo_row)
        await session.flush()
        row = Diagnosis(
            user_id=user_id, lesion_id=lesion_id, photo_id=photo_row.id, overlay_id=None,
            label=result.label, triage_level=result.triage.level,
            concerning_probability=result.triage.concerning_probability, area_fraction=result.area_fraction,
            synthetic_model=result.synthetic, model_versions=[model.model_dump(mode="json") for model in result.models],
            result=result,
        )
        session.add(row)
        await session.flush()
        return row

    async def get_owned(self, user_id: uuid.UUID, diagnosis_id: uuid.UUID) -> Diagnosis:
        diagnosis = await self.get_one_or_none(id=diagnosis_id, user_id=user_id)
        if diagnosis is None:
            raise NotFoundException("No such diagnosis.")
        return diagnosis

    async def page(self, user_id: uuid.UUID, page: int, per_page: int) -> tuple[list[Diagnosis], int]:
        items, total = await self.list_and_count(
            LimitOffset(limit=per_page, offset=(page - 1) * per_page),
            OrderBy(field_name="created_at", sort_order="desc"),
            user_id=user_id,
        )
        return list(items), total

    async def for_lesion(self, user_id: uuid.UUID, lesion_id: uuid.UUID) -> list[Diagnosis]:
        items = await self.list(OrderBy(field_name="created_at", sort_order="asc"), user_id=user_id,
                                lesion_id=lesion_id)
        return list(items)

    async def delete_owned(self, user_id: uuid.UUID, diagnosis_id: uuid.UUID) -> None:
        diagnosis = await self.get_owned(user_id, diagnosis_id)
        photo_ids = [pid for pid in (diagnosis.photo_id, diagnosis.overlay_id) if pid]
        session = self.repository.session
        await session.execute(delete(Diagnosis).where(Diagnosis.id == diagnosis.id, Diagnosis.user_id == user_id))
        await session.execute(delete(Photo).where(Photo.id.in_(photo_ids), Photo.user_id == user_id))
        await session.flush()

    async def delete_all(self, user_id: uuid.UUID) -> int:
        session = self.repository.session
        count = await self.count(user_id=user_id)
        await session.execute(delete(Diagnosis).where(Diagnosis.user_id == user_id))
        await session.execute(delete(Photo).where(Photo.user_id == user_id))
        await session.flush()
        return count

    async def attach(self, diagnosis: Diagnosis, lesion: Lesion) -> None:
        if lesion.user_id != diagnosis.user_id:  # defence in depth: both were loaded with the owner's id
            raise NotFoundException("No such lesion.")
        diagnosis.lesion_id = lesion.id
        await self.repository.session.flush()

    async def lesion_names(self, user_id: uuid.UUID, lesion_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
        if not lesion_ids:
            return {}
        rows = await self.repository.session.execute(
            select(Lesion.id, Lesion.name).where(Lesion.user_id == user_id, Lesion.id.in_(lesion_ids)))
        return {row.id: row.name for row in rows}
