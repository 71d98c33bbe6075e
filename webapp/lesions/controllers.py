"""Lesion pages. HTTP only."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import replace
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter
from litestar.plugins.flash import flash
from litestar.response import Redirect, Response, Template

from webapp.accounts.dependencies import provide_user
from webapp.core.body_sites import MODEL_SITE, REGIONS, body_site_choices, body_site_name, region_name, region_of
from webapp.core.guards import requires_login
from webapp.core.i18n import _
from webapp.core.timezones import request_time_zone
from webapp.db.models import User
from webapp.diagnoses.dependencies import provide_diagnosis_service, provide_lesion_service
from webapp.diagnoses.services import DiagnosisService
from webapp.lesions.bodymap import MappedSpot, browse_map, default_anchor, parse_region, region_link
from webapp.lesions.evolution import assess_evolution, choose_pair, compare, rule_text, timeline_svg
from webapp.lesions.reminders import MAX_DAYS, MIN_DAYS, calendar, parse_interval
from webapp.lesions.schemas import (
    LesionForm,
    LesionSummary,
    RecheckForm,
    RegionFilter,
    SiteForm,
    timeline_point,
)
from webapp.lesions.services import LesionService, stored_position
from webapp.sharing.services import DURATIONS_DAYS, open_links


class LesionController(Controller):
    path = "/lesions"
    guards = [requires_login]  # noqa: RUF012 (Litestar reads these class attributes)
    dependencies = {"user": Provide(provide_user), "lesions": Provide(provide_lesion_service),  # noqa: RUF012 (Litestar reads these class attributes)
                    "diagnoses": Provide(provide_diagnosis_service)}

    async def _list_page(self, request: Request[Any, Any, Any], user: User, lesions: LesionService,
                         form: LesionForm | None = None, errors: list[str] | None = None,
                         status_code: int = 200, region: str = "") -> Template:
        zone = request_time_zone(request)
        stats = await lesions.photo_stats(user.id)
        owned = await lesions.list_owned(user.id)
        changed = await lesions.changed(user.id)
        due = {item.lesion_id: item for item in await lesions.rechecks(
            user.id, lesions=owned, stats=stats, zone=zone)}
        chosen = parse_region(region, REGIONS) if region.strip() else None
        region_error = None
        if region.strip() and chosen is None:
            region_error = _("There is no body region “%(region)s”. Choose one of the regions below.",
                             region=region.strip()[:40])
            status_code = 400
        shown = [lesion for lesion in owned if chosen is None or region_of(lesion.body_site) == chosen]
        items, spots = [], []
        for number, lesion in enumerate(shown, start=1):
            count, photo_id, _taken = stats.get(lesion.id, (0, None, None))
            position = stored_position(lesion)
            site_name = body_site_name(lesion.body_site)
            items.append(LesionSummary(id=lesion.id, name=lesion.name, body_site=site_name,
                                       created_at=lesion.created_at, photo_count=count,
                                       last_photo_url=f"/photos/{photo_id}" if photo_id else None,
                                       recheck=due.get(lesion.id), number=number, changed=lesion.id in changed,
                                       on_map=position is not None or default_anchor(lesion.body_site) is not None))
            spots.append(MappedSpot(number=number, href=f"/lesions/{lesion.id}", site=lesion.body_site,
                                    position=position, label=f"{number}. {lesion.name} ({site_name})"))
        counts = Counter(region_of(lesion.body_site) for lesion in owned)
        filters = [RegionFilter(region=name, name=region_name(name), count=counts[name], href=region_link(name),
                                current=name == chosen) for name in REGIONS if counts[name] or name == chosen]
        return Template("lesions/list.html", status_code=status_code, context={
            "lesions": items, "form": form or LesionForm(), "errors": errors or [], "body_sites": body_site_choices(),
            "bodymap": browse_map(spots, MODEL_SITE, chosen), "filters": filters, "region": chosen,
            "region_label": region_name(chosen) if chosen else "", "region_error": region_error,
            "total": len(owned)})

    @get("/", name="lesions")
    async def list_lesions(self, request: Request[Any, Any, Any], user: User, lesions: LesionService,
                           region: str = "") -> Template:
        """Every tracked spot on the body map and in a list; ``?region=back`` (HAM10000's regions, with "-" for a
        space, or "unknown") shows only the spots there."""
        return await self._list_page(request, user, lesions, region=region)

    @post("/")
    async def create(self, request: Request[Any, Any, Any], user: User, lesions: LesionService,
                     data: Annotated[LesionForm, Body(media_type=RequestEncodingType.URL_ENCODED)]) -> Response[Any]:
        problems = data.errors()
        if problems:
            return await self._list_page(request, user, lesions, data, problems, status_code=400)
        lesion = await lesions.create_for(user.id, data.name, data.body_site, data.position()[0])
        await lesions.repository.session.commit()
        flash(request, _("Now tracking “%(name)s”. Add a photo of it below.", name=lesion.name), "success")
        return Redirect(f"/lesions/{lesion.id}")

    @get("/reminders.ics", name="reminders")
    async def reminders(self, request: Request[Any, Any, Any], user: User, lesions: LesionService) -> Response[bytes]:
        """Every tracked spot's re-check as a repeating all-day event, to import into any calendar."""
        due = await lesions.rechecks(user.id, zone=request_time_zone(request))
        body = calendar(due, summary=_("Dr. Skin: photograph “%(name)s” again"),
                        description=_("Time for a new photo of “%(name)s”, from the same distance and in the same "
                                      "light as before (every %(days)d days). See a doctor sooner if it changes, "
                                      "bleeds or itches."),
                        site_url=str(request.base_url), alarm_text=_("Photograph “%(name)s” again"))
        # Litestar adds "; charset=utf-8" to a text/ type itself (writing it here doubled it)
        return Response(body, media_type="text/calendar", headers={
            "Content-Disposition": 'attachment; filename="drskin-rechecks.ics"', "Cache-Control": "no-store"})

    @post("/{lesion_id:uuid}/recheck")
    async def set_recheck(self, request: Request[Any, Any, Any], user: User, lesion_id: uuid.UUID,
                          lesions: LesionService,
                          data: Annotated[RecheckForm, Body(media_type=RequestEncodingType.URL_ENCODED)]) -> Redirect:
        lesion = await lesions.get_owned(user.id, lesion_id)
        days = parse_interval(data.recheck_days)
        if days is None:
            flash(request, _("Choose a re-check interval of %(low)d to %(high)d days.", low=MIN_DAYS, high=MAX_DAYS),
                  "error")
        else:
            await lesions.set_recheck_days(lesion, days)
            await lesions.repository.session.commit()
            flash(request, _("Re-check every %(days)d days.", days=days), "success")
        return Redirect(f"/lesions/{lesion.id}")

    @post("/{lesion_id:uuid}/site")
    async def set_site(self, request: Request[Any, Any, Any], user: User, lesion_id: uuid.UUID,
                       lesions: LesionService,
                       data: Annotated[SiteForm, Body(media_type=RequestEncodingType.URL_ENCODED)]) -> Response[Any]:
        """A new body site and pin; a wrong one is a 400 page that says what was wrong, with the way back."""
        lesion = await lesions.get_owned(user.id, lesion_id)
        problems = data.site_errors()
        if problems:
            return Template("lesions/site_error.html", status_code=400,
                            context={"lesion": lesion, "errors": problems})
        await lesions.set_site(lesion, data.body_site, data.position()[0])
        await lesions.repository.session.commit()
        flash(request, _("Saved: %(site)s.", site=body_site_name(data.body_site)), "success")
        return Redirect(f"/lesions/{lesion.id}")

    @get("/{lesion_id:uuid}", name="lesion")
    async def show(self, request: Request[Any, Any, Any], user: User, lesion_id: uuid.UUID, lesions: LesionService,
                   diagnoses: DiagnosisService, a: Annotated[str | None, Parameter(max_length=64)] = None,
                   b: Annotated[str | None, Parameter(max_length=64)] = None) -> Template:
        """The spot over time; ``?a=<diagnosis id>&b=<id>`` picks the two photos to compare (default: the first and
        the latest). A pick that is not one of this spot's photos re-renders the page with a message (400)."""
        lesion = await lesions.get_owned(user.id, lesion_id)
        zone = request_time_zone(request)
        points = [timeline_point(d) for d in await diagnoses.for_lesion(user.id, lesion.id)]
        comparison = None
        if len(points) >= 2:
            earlier, later, problems = choose_pair(points, a, b)
            comparison = replace(compare(earlier, later), errors=problems)
        (due,) = await lesions.rechecks(user.id, lesions=[lesion], zone=zone)
        return Template("lesions/detail.html", status_code=400 if comparison and comparison.errors else 200, context={
            "lesion": lesion, "body_site": body_site_name(lesion.body_site), "recheck": due,
            "body_sites": body_site_choices(), "map_position": stored_position(lesion),
            "recheck_range": (MIN_DAYS, MAX_DAYS), "compare": comparison,
            "points": points, "evolution": assess_evolution(points), "rule": rule_text(),
            "share_links": await open_links(lesions.repository.session, user.id, lesion.id),
            "share_days": DURATIONS_DAYS,
            "plot": timeline_svg(points, zone=zone) if points else ""})

    @post("/{lesion_id:uuid}/delete")
    async def delete(self, request: Request[Any, Any, Any], user: User, lesion_id: uuid.UUID,
                     lesions: LesionService) -> Redirect:
        await lesions.delete_owned(user.id, lesion_id)
        await lesions.repository.session.commit()
        flash(request, _("The lesion was deleted. Its diagnoses are still in your history."), "success")
        return Redirect("/lesions")
