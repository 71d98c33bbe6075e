"""Dependencies for the diagnosis pages."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from litestar.datastructures import State
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core.service_client import ServiceClient
from webapp.diagnoses.services import DiagnosisService, PhotoService
from webapp.lesions.services import LesionService


async def provide_diagnosis_service(db_session: AsyncSession) -> AsyncGenerator[DiagnosisService, None]:
    async with DiagnosisService.new(session=db_session) as service:
        yield service


async def provide_photo_service(db_session: AsyncSession) -> AsyncGenerator[PhotoService, None]:
    async with PhotoService.new(session=db_session) as service:
        yield service


async def provide_lesion_service(db_session: AsyncSession) -> AsyncGenerator[LesionService, None]:
    async with LesionService.new(session=db_session) as service:
        yield service


def provide_service_client(state: State) -> ServiceClient:
    """The process-wide client created at start-up (see ``webapp.app``)."""
    return state.service_client  # type: ignore[no-any-return]
