"""The PDF report for a doctor: a tracked spot, or one analysed photo. HTTP only; the owner's rows only."""

from __future__ import annotations

import asyncio
import uuid
import weakref
from datetime import UTC, datetime
from typing import Any

import anyio
from litestar import Controller, Request, get
from litestar.di import Provide
from litestar.response import Response

from webapp.accounts.dependencies import provide_user
from webapp.core.guards import requires_login
from webapp.core.timezones import request_time_zone
from webapp.db.models import Photo, User
from webapp.diagnoses.dependencies import provide_diagnosis_service, provide_lesion_service, provide_photo_service
from webapp.diagnoses.services import DiagnosisService, PhotoService
from webapp.lesions.services import LesionService
from webapp.reports.pdf import render
from webapp.reports.views import (
    ReportView,
    attachment_header,
    diagnosis_report,
    file_day,
    lesion_report,
)

# Laying a report out is up to a second or two of CPU (docs/site.md): at most two at once per process, so that a
# burst of downloads cannot take every core from the pages. A limiter of its own, so that waiting reports hold no
# thread of the pool the rest of the site shares; one per event loop (a limiter belongs to the loop it waits in).
_RENDERING: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = weakref.WeakKeyDictionary()


async def pdf_response(report: ReportView, disposition: str) -> Response[bytes]:
    """The report as a PDF download, laid out off the event loop (at most two at once per process)."""
    limiter = _RENDERING.setdefault(asyncio.get_running_loop(), anyio.CapacityLimiter(2))
    body = await anyio.to_thread.run_sync(render, report, limiter=limiter)  # off the event loop
    return Response(body, media_type="application/pdf",
                    headers={"Content-Disposition": disposition, "Cache-Control": "no-store"})


async def _owned_photos(photos: PhotoService, user: User, ids: set[uuid.UUID]) -> dict[uuid.UUID, Photo]:
    wanted = list(ids)
    if not wanted:
        return {}
    return {photo.id: photo for photo in await photos.list(Photo.id.in_(wanted), user_id=user.id)}


class ReportController(Controller):
    guards = [requires_login]  # noqa: RUF012 (Litestar reads these class attributes)
    dependencies = {"user": Provide(provide_user), "lesions": Provide(provide_lesion_service),  # noqa: RUF012 (Litestar reads these class attributes)
                    "diagnoses": Provide(provide_diagnosis_service), "photos": Provide(provide_photo_service)}

    @get("/lesions/{lesion_id:uuid}/report.pdf", name="lesion_report")
    async def lesion(self, request: Request[Any, Any, Any], user: User, lesion_id: uuid.UUID,
                     lesions: LesionService, diagnoses: DiagnosisService, photos: PhotoService) -> Response[bytes]:
        """Every photo of a tracked spot, the change between them, for a doctor."""
        lesion = await lesions.get_owned(user.id, lesion_id)
        items = await diagnoses.for_lesion(user.id, lesion.id)
        wanted = {d.photo_id for d in items} | {d.overlay_id for d in items if d.overlay_id}
        owned = await _owned_photos(photos, user, wanted)
        items = [d for d in items if d.photo_id in owned]
        now = datetime.now(UTC)
        zone = request_time_zone(request)
        report = lesion_report(user, lesion, items, owned, now, zone)
        return await pdf_response(report, attachment_header("lesion", lesion.name, file_day(now, zone)))

    @get("/diagnoses/{diagnosis_id:uuid}/report.pdf", name="diagnosis_report")
    async def diagnosis(self, request: Request[Any, Any, Any], user: User, diagnosis_id: uuid.UUID,
                        lesions: LesionService, diagnoses: DiagnosisService, photos: PhotoService) -> Response[bytes]:
        """One analysed photo, for a doctor."""
        diagnosis = await diagnoses.get_owned(user.id, diagnosis_id)
        photo = await photos.get_owned(user.id, diagnosis.photo_id)
        overlay = (await photos.get_one_or_none(id=diagnosis.overlay_id, user_id=user.id)
                   if diagnosis.overlay_id else None)
        lesion = await lesions.get_one_or_none(id=diagnosis.lesion_id, user_id=user.id) if diagnosis.lesion_id else None
        zone = request_time_zone(request)
        report = diagnosis_report(user, diagnosis, photo, overlay, lesion, datetime.now(UTC), zone)
        return await pdf_response(report, attachment_header("diagnosis", None, file_day(diagnosis.created_at, zone)))
