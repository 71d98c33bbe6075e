"""Share links, HTTP only: the owner makes and revokes them from a spot's page; anyone with a link reads that one
spot — its page, its photos, its PDF — and nothing else of the account.

Every response under ``/shared/`` (pages, photos, the PDF, the 410 and 404 pages) carries ``Referrer-Policy:
no-referrer`` (the token never leaves in a Referer), ``Cache-Control: no-store`` and ``X-Robots-Tag: noindex``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body
from litestar.plugins.flash import flash
from litestar.response import Redirect, Response, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.accounts.dependencies import provide_user
from webapp.core.body_sites import body_site_name
from webapp.core.guards import requires_login
from webapp.core.i18n import _
from webapp.core.mail import site_url
from webapp.core.timezones import request_time_zone
from webapp.db.models import Diagnosis, Lesion, Photo, ShareLink, User
from webapp.diagnoses.dependencies import provide_lesion_service
from webapp.diagnoses.wording import context_note
from webapp.lesions.evolution import assess_evolution, rule_text, timeline_svg
from webapp.lesions.schemas import timeline_point
from webapp.lesions.services import LesionService
from webapp.reports.controllers import pdf_response
from webapp.reports.views import attachment_header, file_day, lesion_report
from webapp.sharing import services
from webapp.sharing.services import DURATIONS_DAYS, LinkState


@dataclass
class ShareForm:
    days: str = ""
    include_context: str = ""  # a checkbox: "on" when ticked


SHARED_HEADERS = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow"}


class ShareOwnerController(Controller):
    path = "/lesions/{lesion_id:uuid}/share"
    guards = [requires_login]  # noqa: RUF012 (Litestar reads these class attributes)
    dependencies = {"user": Provide(provide_user), "lesions": Provide(provide_lesion_service)}  # noqa: RUF012

    @post("/")
    async def create(self, request: Request[Any, Any, Any], user: User, lesion_id: uuid.UUID, lesions: LesionService,
                     db_session: AsyncSession,
                     data: Annotated[ShareForm, Body(media_type=RequestEncodingType.URL_ENCODED)]) -> Response[Any]:
        """A new link; the page that answers is the only place its address is ever shown."""
        lesion = await lesions.get_owned(user.id, lesion_id)
        days = services.parse_days(data.days)
        if days is None:
            flash(request, _("Choose how long the link works: %(choices)s days.",
                             choices=" / ".join(str(d) for d in DURATIONS_DAYS)), "error")
            return Redirect(f"/lesions/{lesion.id}#share")
        include_context = data.include_context.strip().lower() in {"1", "on", "true", "yes"}
        token, link = await services.create_link(db_session, lesion, days, include_context)
        await db_session.commit()
        return Template("sharing/created.html", headers=SHARED_HEADERS, context={
            "lesion": lesion, "url": f"{site_url(request)}/shared/{token}", "link": link, "days": days})

    @post("/{link_id:uuid}/revoke")
    async def revoke(self, request: Request[Any, Any, Any], user: User, lesion_id: uuid.UUID, link_id: uuid.UUID,
                     lesions: LesionService, db_session: AsyncSession) -> Redirect:
        lesion = await lesions.get_owned(user.id, lesion_id)
        if not await services.revoke(db_session, user.id, lesion.id, link_id):
            raise NotFoundException("No such link.")
        await db_session.commit()
        flash(request, _("The link was revoked: it no longer opens anything."), "success")
        return Redirect(f"/lesions/{lesion.id}#share")


def _ended(state: LinkState) -> Template:
    """410 for a link that worked once (expired, revoked), 404 for one the site does not know (or whose spot or
    account was deleted): both say the same, that the person who shared it can make a new one."""
    return Template("sharing/ended.html", status_code=404 if state is LinkState.UNKNOWN else 410,
                    headers=SHARED_HEADERS, context={"state": state.value})


class SharedController(Controller):
    """What a link opens. No log-in: the token is the permission, for this one spot."""

    path = "/shared/{token:str}"

    async def _open(self, db_session: AsyncSession, token: str) -> tuple[ShareLink, Lesion, User] | Template:
        state, link = await services.resolve(db_session, token)
        if state is not LinkState.OPEN or link is None:
            return _ended(state)
        lesion = await db_session.get(Lesion, link.lesion_id)
        owner = await db_session.get(User, link.user_id)
        if lesion is None or owner is None or lesion.user_id != owner.id:
            return _ended(LinkState.UNKNOWN)
        return link, lesion, owner

    @staticmethod
    async def _diagnoses(db_session: AsyncSession, lesion: Lesion) -> list[Diagnosis]:
        return list(await db_session.scalars(select(Diagnosis).where(
            Diagnosis.user_id == lesion.user_id, Diagnosis.lesion_id == lesion.id).order_by(Diagnosis.created_at)))

    @get("/", name="shared_lesion")
    async def page(self, request: Request[Any, Any, Any], db_session: AsyncSession, token: str) -> Template:
        opened = await self._open(db_session, token)
        if isinstance(opened, Template):
            return opened
        link, lesion, _owner = opened
        await services.count_opening(db_session, link)
        await db_session.commit()
        items = await self._diagnoses(db_session, lesion)
        base = f"/shared/{token}/photos"
        points = [replace(timeline_point(d), photo_url=f"{base}/{d.photo_id}",
                          overlay_url=f"{base}/{d.overlay_id}" if d.overlay_id else None) for d in items]
        readable = {d.id: d.readable_result for d in items} if link.include_context else {}
        notes = {id_: context_note(result.classification.patient_context) for id_, result in readable.items()
                 if result is not None}
        return Template("sharing/lesion.html", headers=SHARED_HEADERS, context={
            "lesion": lesion, "body_site": body_site_name(lesion.body_site), "points": points, "notes": notes,
            "evolution": assess_evolution(points), "rule": rule_text(), "expires_at": link.expires_at,
            "plot": timeline_svg(points, zone=request_time_zone(request)) if points else "",
            "report_url": f"/shared/{token}/report.pdf"})

    @get("/report.pdf", name="shared_report")
    async def report(self, request: Request[Any, Any, Any], db_session: AsyncSession, token: str) -> Response[Any]:
        opened = await self._open(db_session, token)
        if isinstance(opened, Template):
            return opened
        link, lesion, owner = opened
        items = await self._diagnoses(db_session, lesion)
        wanted = {d.photo_id for d in items} | {d.overlay_id for d in items if d.overlay_id}
        photos = {p.id: p for p in await db_session.scalars(
            select(Photo).where(Photo.id.in_(list(wanted)), Photo.user_id == owner.id))} if wanted else {}
        items = [d for d in items if d.photo_id in photos]
        now = datetime.now(UTC)
        zone = request_time_zone(request)
        report = lesion_report(owner, lesion, items, photos, now, zone)
        if not link.include_context:
            report.visits = [replace(visit, context_note="") for visit in report.visits]
        response = await pdf_response(report, attachment_header("lesion", lesion.name, file_day(now, zone)))
        response.headers.update(SHARED_HEADERS)
        return response

    @get("/photos/{photo_id:uuid}", name="shared_photo")
    async def photo(self, db_session: AsyncSession, token: str, photo_id: uuid.UUID) -> Response[Any]:
        """A photo or overlay of one of this spot's diagnoses; any other id is a 404."""
        opened = await self._open(db_session, token)
        if isinstance(opened, Template):
            return opened
        _link, lesion, owner = opened
        belongs = await db_session.scalar(select(Diagnosis.id).where(
            Diagnosis.user_id == owner.id, Diagnosis.lesion_id == lesion.id,
            (Diagnosis.photo_id == photo_id) | (Diagnosis.overlay_id == photo_id)).limit(1))
        picture = await db_session.get(Photo, photo_id) if belongs else None
        if picture is None or picture.user_id != owner.id:
            return Template("sharing/ended.html", status_code=404, headers=SHARED_HEADERS,
                            context={"state": "photo"})
        return Response(picture.data, media_type=picture.content_type, headers=SHARED_HEADERS)
