"""Diagnosis pages: upload → service → result; history; photos. HTTP only."""

from __future__ import annotations

import base64
import logging
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter
from litestar.plugins.flash import flash
from litestar.response import Redirect, Response, Template

from webapp.accounts.dependencies import provide_current_user, provide_user
from webapp.core.body_sites import MODEL_SITE, body_site_choices
from webapp.core.diagnosis_result import DiagnosisResult
from webapp.core.errors import is_storage_full
from webapp.core.guards import requires_login
from webapp.core.i18n import _, ngettext
from webapp.core.images import PhotoError, clean_photo
from webapp.core.labels import label_name
from webapp.core.service_client import ServiceClient, ServiceError
from webapp.core.settings import get_upload_settings
from webapp.db.models import Diagnosis, User
from webapp.diagnoses import pending
from webapp.diagnoses.dependencies import (
    provide_diagnosis_service,
    provide_lesion_service,
    provide_photo_service,
    provide_service_client,
)
from webapp.diagnoses.forms import AttachForm, DiagnoseForm, context_fields
from webapp.diagnoses.services import DiagnosisService, PhotoService
from webapp.diagnoses.views import HistoryItem, ResultView, build_result_view, build_retake_view
from webapp.diagnoses.wording import photo_kind_note, spot_account
from webapp.lesions.schemas import LesionForm
from webapp.lesions.services import LesionService
from webapp.pages.context import home_context

log = logging.getLogger(__name__)
PER_PAGE = 10
_DEPENDENCIES = {
    "diagnoses": Provide(provide_diagnosis_service),
    "photos": Provide(provide_photo_service),
    "lesions": Provide(provide_lesion_service),
}


def stored_view(diagnosis: Diagnosis, lesion_name: str | None = None) -> ResultView:
    view = build_result_view(diagnosis.result, photo_url=f"/photos/{diagnosis.photo_id}",
                             overlay_url=f"/photos/{diagnosis.overlay_id}" if diagnosis.overlay_id else "")
    view.id, view.created_at, view.stored = diagnosis.id, diagnosis.created_at, True
    view.lesion_id, view.lesion_name = diagnosis.lesion_id, lesion_name
    return view


FOLLOW_SITE = "follow_site"  # session key: the body site given with the photo just uploaded


class DiagnoseController(Controller):
    dependencies = {**_DEPENDENCIES, "service": Provide(provide_service_client, sync_to_thread=False),  # noqa: RUF012 (Litestar reads these class attributes)
                    "current_user": Provide(provide_current_user)}

    @post("/diagnose", opt={"rate_limit": "diagnose"}, status_code=200)
    async def diagnose(self, request: Request[Any, Any, Any], service: ServiceClient, current_user: User | None,
                       diagnoses: DiagnosisService, lesions: LesionService,
                       data: Annotated[DiagnoseForm, Body(media_type=RequestEncodingType.MULTI_PART)]) -> Response[Any]:
        upload = get_upload_settings()
        lesion = None
        if current_user is not None and data.lesion_id:
            lesion = await lesions.get_owned(current_user.id, data.lesion_id)
        try:
            raw = await data.image.read() if data.image is not None else b""
            if len(raw) > upload.max_upload_bytes:
                raise PhotoError(_("The photo is too large (more than %(mb)s MB). Choose a smaller photo, or turn "
                                   "JavaScript on so the page can shrink it for you.", mb=f"{upload.max_upload_mb:g}"),
                                 status_code=413)
            fields, problems = context_fields(
                data, lesion_site=lesion.body_site if lesion is not None else None,
                birth_year=current_user.birth_year if current_user else None,
                sex=current_user.sex if current_user else None, logged_in=current_user is not None,
                this_year=datetime.now(UTC).year)
            if problems:
                raise PhotoError(" ".join(problems), status_code=400)
            photo = clean_photo(raw, max_side=upload.stored_max_side, max_pixels=upload.max_pixels)
            # End the read transaction before the seconds-long service call: a connection idle in a transaction
            # meanwhile would exhaust the pool under load (the soak test found it: 32 people, 15 connections).
            await diagnoses.repository.session.commit()
            answer = await service.diagnose(photo.jpeg, context=fields)
        except (PhotoError, ServiceError) as exc:
            context = await home_context(request, current_user, lesions)
            context["error"] = exc.message
            return Template("pages/home.html", context=context, status_code=exc.status_code)

        photo_url = "data:image/jpeg;base64," + base64.b64encode(photo.jpeg).decode("ascii")
        if not isinstance(answer, DiagnosisResult):
            # The photo could not be judged: a retake screen, and nothing is stored, logged in or not.
            return Template("diagnoses/retake.html", context={"retake": build_retake_view(answer, photo_url=photo_url)})
        result = answer

        if current_user is None:
            # Anonymous: shown once, straight from this POST, and written nowhere — unless the person ticked "keep
            # it for 30 minutes" to save it to an account they are about to create (webapp.diagnoses.pending).
            view = build_result_view(result, photo_url=photo_url)
            kept = data.keep == "yes"
            cookies = [await pending.keep(request, photo, result)] if kept else []
            return Template("diagnoses/result.html", cookies=cookies, context={
                "result": view, "lesions": [], "body_sites": body_site_choices(), "kept": kept,
                "kept_minutes": pending.PENDING_TTL_S // 60})

        try:
            diagnosis = await diagnoses.save(current_user.id, photo, result, lesion_id=lesion.id if lesion else None)
            await diagnoses.repository.session.commit()
        except Exception as exc:
            if not is_storage_full(exc):
                raise
            # The disk (or the database's quota) is full: the transaction is rolled back whole, so no diagnosis row
            # and no photo is half-written; the person keeps the upload page and is told so.
            log.error("storage full while saving a diagnosis: %r", exc)
            session = diagnoses.repository.session
            await session.rollback()
            await session.refresh(current_user)  # the rollback expired it; reading still works on a full disk
            context = await home_context(request, current_user, lesions)
            context["error"] = _("Your photo could not be stored: the site has no room left right now. Nothing was "
                                 "saved; try again later.")
            return Template("pages/home.html", context=context, status_code=507)
        if lesion is not None:
            flash(request, _("Added to “%(name)s”.", name=lesion.name), "success")
            return Redirect(f"/lesions/{lesion.id}")
        site = data.body_site.strip()
        if site in MODEL_SITE:  # the result's "Follow this spot" form starts from the body site given with the photo
            request.session[FOLLOW_SITE] = {"diagnosis": str(diagnosis.id), "site": site}
        return Redirect(f"/diagnoses/{diagnosis.id}")


async def _result_page(user: User, diagnosis: Diagnosis, lesions: LesionService, attach: AttachForm | None = None,
                       errors: list[str] | None = None, status_code: int = 200) -> Template:
    """A stored result; ``attach``/``errors``: the "Follow this spot" form as sent, and what was wrong with it (shown
    in the form, with what was typed kept)."""
    user_lesions = await lesions.list_owned(user.id)
    name = next((lesion.name for lesion in user_lesions if lesion.id == diagnosis.lesion_id), None)
    return Template("diagnoses/result.html", status_code=status_code, context={
        "result": stored_view(diagnosis, name), "lesions": user_lesions, "body_sites": body_site_choices(),
        "attach": attach or AttachForm(), "attach_errors": errors or []})


class DiagnosisController(Controller):
    guards = [requires_login]  # noqa: RUF012 (Litestar reads these class attributes)
    dependencies = {**_DEPENDENCIES, "user": Provide(provide_user)}  # noqa: RUF012 (Litestar reads these class attributes)

    @get("/history", name="history")
    async def history(self, user: User, diagnoses: DiagnosisService, photos: PhotoService, lesions: LesionService,
                      page: Annotated[int, Parameter(ge=1, le=100_000)] = 1) -> Template:
        items, total = await diagnoses.page(user.id, page, PER_PAGE)
        names = await diagnoses.lesion_names(user.id, {d.lesion_id for d in items if d.lesion_id})
        rows = []
        for d in items:
            result = d.readable_result  # the row's own columns still list a diagnosis whose document is damaged
            rows.append(HistoryItem(
                id=d.id, created_at=d.created_at, label=d.label, label_name=label_name(d.label),
                triage_level=d.triage_level, concerning_probability=d.concerning_probability,
                photo_url=f"/photos/{d.photo_id}", lesion_name=names.get(d.lesion_id) if d.lesion_id else None,
                photo_kind=photo_kind_note(result.photo_kind) if result else "",
                spot_account=spot_account(result.classification.patient_context) if result else []))
        pages = max(1, -(-total // PER_PAGE))
        changed = await lesions.changed(user.id)  # rows of a spot that changed say so (as My lesions does)
        return Template("diagnoses/history.html", context={"items": rows, "page": page, "pages": pages,
                                                           "total": total, "changed_rows": {
                                                               d.id for d in items if d.lesion_id in changed}})

    @post("/history/delete-all")
    async def delete_all(self, request: Request[Any, Any, Any], user: User, diagnoses: DiagnosisService,
                         data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
                         ) -> Redirect:
        if data.get("confirm") != "yes":
            flash(request, _("Tick the box to confirm that you want to delete every diagnosis."), "error")
            return Redirect("/history")
        count = await diagnoses.delete_all(user.id)
        await diagnoses.repository.session.commit()
        flash(request, ngettext(request, "Deleted %(num)d diagnosis and its photos.",
                                "Deleted %(num)d diagnoses and their photos.", count), "success")
        return Redirect("/history")

    @get("/diagnoses/{diagnosis_id:uuid}", name="diagnosis")
    async def show(self, request: Request[Any, Any, Any], user: User, diagnosis_id: uuid.UUID,
                   diagnoses: DiagnosisService, lesions: LesionService,
                   site: Annotated[str, Parameter(max_length=40)] = "") -> Template:
        """A stored result; "Follow this spot" starts from ``?site=``, else from the body site given with the photo
        just uploaded (kept in the session by the upload for this one diagnosis)."""
        diagnosis = await diagnoses.get_owned(user.id, diagnosis_id)
        hint = request.session.get(FOLLOW_SITE)
        if isinstance(hint, dict) and hint.get("diagnosis") == str(diagnosis.id):
            request.session.pop(FOLLOW_SITE, None)
            site = site or str(hint.get("site") or "")
        attach = AttachForm(lesion_id="new", body_site=site) if site in MODEL_SITE else None
        return await _result_page(user, diagnosis, lesions, attach)

    @post("/diagnoses/{diagnosis_id:uuid}/delete")
    async def delete(self, request: Request[Any, Any, Any], user: User, diagnosis_id: uuid.UUID,
                     diagnoses: DiagnosisService) -> Redirect:
        await diagnoses.delete_owned(user.id, diagnosis_id)
        await diagnoses.repository.session.commit()
        flash(request, _("The diagnosis and its photo were deleted."), "success")
        return Redirect("/history")

    @post("/diagnoses/{diagnosis_id:uuid}/lesion")
    async def attach(self, request: Request[Any, Any, Any], user: User, diagnosis_id: uuid.UUID,
                     diagnoses: DiagnosisService, lesions: LesionService,
                     data: Annotated[AttachForm, Body(media_type=RequestEncodingType.URL_ENCODED)]
                     ) -> Response[Any]:
        diagnosis = await diagnoses.get_owned(user.id, diagnosis_id)
        if data.lesion_id and data.lesion_id != "new":
            lesion = await lesions.get_owned(user.id, data.lesion_id)
            if data.new_lesion_name.strip():
                # Two answers at once: never drop the typed name silently, ask which one was meant.
                return await _result_page(user, diagnosis, lesions, data, [_(
                    "You typed a new name (“%(typed)s”) but chose “%(name)s” in the menu. To start a new lesion, "
                    "choose “+ a new lesion”; to add the photo to “%(name)s”, leave the name empty.",
                    typed=data.new_lesion_name.strip()[:100], name=lesion.name)], status_code=400)
        else:
            form = LesionForm(name=data.new_lesion_name, body_site=data.body_site, map_side=data.map_side,
                              map_x=data.map_x, map_y=data.map_y)
            problems = form.errors()
            if problems:  # shown in the form, with what was typed kept
                return await _result_page(user, diagnosis, lesions, data, problems, status_code=400)
            lesion = await lesions.create_for(user.id, form.name, form.body_site, form.position()[0])
        await diagnoses.attach(diagnosis, lesion)
        await diagnoses.repository.session.commit()
        flash(request, _("Added to “%(name)s”.", name=lesion.name), "success")
        return Redirect(f"/lesions/{lesion.id}")


class PhotoController(Controller):
    guards = [requires_login]  # noqa: RUF012 (Litestar reads these class attributes)
    dependencies = {"photos": Provide(provide_photo_service), "user": Provide(provide_user)}  # noqa: RUF012 (Litestar reads these class attributes)

    @get("/photos/{photo_id:uuid}", name="photo")
    async def photo(self, user: User, photo_id: uuid.UUID, photos: PhotoService) -> Response[bytes]:
        photo = await photos.get_owned(user.id, photo_id)
        return Response(photo.data, media_type=photo.content_type,
                        headers={"Cache-Control": "private, max-age=3600"})
