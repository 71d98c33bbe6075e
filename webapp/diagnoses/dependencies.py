"""Dependencies for the diagnosis pages."""

from __future__ import annotations

from advanced_alchemy.extensions.litestar.providers import create_service_provider
from litestar.datastructures import State

from webapp.core.service_client import ServiceClient
from webapp.diagnoses.services import DiagnosisService, PhotoService
from webapp.lesions.services import LesionService

provide_diagnosis_service = create_service_provider(DiagnosisService)
provide_photo_service = create_service_provider(PhotoService)
provide_lesion_service = create_service_provider(LesionService)


def provide_service_client(state: State) -> ServiceClient:
    """The process-wide client created at start-up (see ``webapp.app``)."""
    return state.service_client  # type: ignore[no-any-return]
