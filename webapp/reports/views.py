"""What a report says, in the person's language: built from stored diagnoses with the site's own texts and
functions (the result view, the honest percentages, the change rule). Pure data; ``webapp.reports.pdf`` lays it out.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from webapp.core.body_sites import body_site_name
from webapp.core.i18n import _, current_language, ngettext
from webapp.core.labels import label_name, triage_label
from webapp.core.numbers import honest_percent
from webapp.core.timezones import local_time, to_zone, valid_zone
from webapp.db.models import Diagnosis, Lesion, Photo
from webapp.diagnoses.views import ProbabilityBar, build_result_view
from webapp.diagnoses.wording import DEFAULT_DISCLAIMER, SYNTHETIC_NOTE
from webapp.lesions.evolution import assess_evolution, compare, rule_text
from webapp.lesions.schemas import TimelinePoint, timeline_point


# ----------------------------------------------------------------------------------------------------- dates
def format_when(value: datetime, zone_name: str | None, lang: str | None = None) -> str:
    """A moment in the report: the site's one formatter (``webapp.core.timezones.local_time``), in the person's
    zone with the zone named (``25 Nov 2026, 06:54 KST``); an unknown zone is UTC, named."""
    return local_time(value, zone_name, lang or current_language())


def file_day(value: datetime, zone_name: str | None) -> str:
    """``2026-11-24``: the calendar day in the person's zone (for file names)."""
    return to_zone(value, zone_name).strftime("%Y-%m-%d")


def user_zone(user: Any) -> str:
    """The account's time zone (``User.time_zone``); UTC when it has none."""
    return valid_zone(getattr(user, "time_zone", None)) or "UTC"


# ------------------------------------------------------------------------------------------------------ views
@dataclass(frozen=True)
class Row:
    """One line of a small table: what, how much, and a note."""

    label: str
    value: str
    note: str = ""


@dataclass
class VisitView:
    """One analysed photo."""

    heading: str
    photo: bytes
    photo_size: tuple[int, int]
    caption: str
    outline: list[tuple[float, float]] | None  # in the analysed photo's pixels (``outline_size``)
    outline_size: tuple[int, int] | None
    looks_like: str
    urgency: str
    triage_level: str
    probabilities: list[ProbabilityBar]
    advice: str
    reason: str
    concerning: str
    measurements: list[Row]
    context_note: str
    warnings: list[str]
    models: list[str]
    synthetic_note: str
    spot_account: list[tuple[str, str]] = field(default_factory=list)  # (question, "Yes"/"No")
    photo_kind: str = ""
    kind_performance: str = ""
    closer_photo: str = ""


@dataclass
class ReportView:
    """Everything a report prints, already in the person's language."""

    lang: str
    brand: str
    title: str
    person: str | None
    generated: str
    disclaimer: str
    page_template: str  # "Page %(page)s of %(pages)s"
    subject: str  # the lesion's name, or what the photo looks like
    facts: list[str]
    section_titles: dict[str, str]
    change_title: str = ""
    change_lines: list[str] = field(default_factory=list)
    change_flagged: bool = False
    change_rule: str = ""
    table_header: list[str] = field(default_factory=list)
    table_rows: list[list[str]] = field(default_factory=list)
    visits: list[VisitView] = field(default_factory=list)


def _section_titles() -> dict[str, str]:
    return {"probabilities": _("Probabilities"), "what_to_do": _("What to do"), "measurements": _("Measurements"),
            "models": _("Models used"), "photo": _("About the photo"), "change": _("Change between visits"),
            "not_a_diagnosis": _("Not a diagnosis."), "spot": _("What you told us about the spot")}


def _frame(user: Any, subject: str, facts: list[str], zone: str, now: datetime) -> ReportView:
    return ReportView(
        lang=current_language(), brand="Dr. Skin", title=_("Report for your doctor"),
        # Accounts have no display name yet: the report names the person only once they give one.
        person=(getattr(user, "display_name", None) or None),
        generated=_("Generated %(date)s", date=format_when(now, zone)),
        disclaimer=_(DEFAULT_DISCLAIMER),
        page_template=_("Page %(page)s of %(pages)s"),
        subject=subject, facts=facts, section_titles=_section_titles())


def visit_view(diagnosis: Diagnosis, photo: Photo, overlay: Photo | None, heading: str) -> VisitView:
    """One diagnosis as the result page shows it, in print."""
    result = diagnosis.result
    view = build_result_view(result)
    outline = view.outline.vertices if view.outline is not None else None
    outline_size = (view.outline.width, view.outline.height) if view.outline is not None else None
    # Answers from before outlines came with the photo already outlined (the overlay): print that instead.
    shown = photo if outline is not None or overlay is None else overlay
    models = [_("%(name)s, version %(version)s", name=model.name, version=model.version or model.tag or "?")
              + (f" ({_('synthetic')})" if model.synthetic else "") for model in view.models]
    return VisitView(
        heading=heading, photo=shown.data, photo_size=(shown.width, shown.height),
        caption=_("The spot as the model outlined it") if (outline is not None or shown is overlay)
        else _("Your photo"),
        outline=outline, outline_size=outline_size,
        looks_like=f"{_('Looks most like:')} {view.label_name}",
        urgency=_("Urgency: %(level)s", level=triage_label(view.triage_level)), triage_level=view.triage_level,
        probabilities=view.bars,
        advice=view.triage_advice, reason=view.triage_reason,
        concerning=_("Concerning probability (melanoma + basal cell carcinoma + actinic keratosis): "
                     "%(probability)s", probability=honest_percent(view.concerning_probability)),
        measurements=[Row(m.name, m.value, m.help) for m in view.measurements]
        or [Row(_("No measurements: no spot was outlined."), "")],
        context_note=view.context_note, warnings=[w["message"] for w in view.warnings],
        models=models or [_("not reported")],
        synthetic_note=_(SYNTHETIC_NOTE) if view.synthetic_model else "",
        spot_account=view.spot_account, photo_kind=view.photo_kind, kind_performance=view.kind_performance,
        closer_photo=view.closer_photo)


def _number(value: float | None, fmt: str) -> str:
    return "—" if value is None else format(value, fmt)


def _change_row(first: TimelinePoint, last: TimelinePoint) -> list[str]:
    """First photo to latest, as the lesion page's compare view measures it (``evolution.compare``)."""
    changes = {change.key: change.change for change in compare(first, last).changes}
    return [_("Change, first to latest"), "", f"{triage_label(first.triage_level)} → {triage_label(last.triage_level)}",
            changes["concerning"], changes["area"], changes["border"], changes["colour"]]


def lesion_report(user: Any, lesion: Lesion, diagnoses: Sequence[Diagnosis], photos: dict[Any, Photo],
                  now: datetime, zone: str | None = None) -> ReportView:
    """A tracked spot: its facts, the change between visits, then every photo oldest first; times in ``zone``
    (the reader's: ``request_time_zone``; default the account's)."""
    zone = valid_zone(zone) or user_zone(user)
    facts = [body_site_name(lesion.body_site), _("tracked since %(date)s", date=format_when(lesion.created_at, zone)),
             ngettext(None, "%(num)d photo", "%(num)d photos", len(diagnoses))]
    report = _frame(user, lesion.name, facts, zone, now)
    report.change_title = _("Change between visits")
    points = [timeline_point(d) for d in diagnoses]
    evolution = assess_evolution(points)
    if not diagnoses:
        report.change_lines = [_("No photos of this spot yet.")]
    elif not evolution.enough_photos:
        report.change_lines = [_("Only one photo of this spot so far: a change can be measured from the second "
                                 "photo on.")]
    elif evolution.flagged:
        report.change_flagged = True
        report.change_lines = [_("This spot changed: worth showing a doctor."), *evolution.reasons]
    else:
        report.change_lines = [_("No change worth flagging between the first and the latest photo.")]
    report.change_rule = f"{_('How we flag a change:')} {rule_text()}"
    if diagnoses:
        report.table_header = [_("Date"), _("Most likely"), _("Urgency"), _("Concerning"), _("Area"),
                               _("Border irregularity"), _("Colour variation")]
        report.table_rows = [[format_when(d.created_at, zone), label_name(d.label), triage_label(d.triage_level),
                              honest_percent(d.concerning_probability),
                              "—" if d.area_fraction is None else f"{d.area_fraction * 100:.1f} %",
                              _number(point.border_irregularity, ".2f"), _number(point.colour_variegation, ".2f")]
                             for d, point in zip(diagnoses, points, strict=True)]
        if len(diagnoses) > 1:
            report.table_rows.append(_change_row(points[0], points[-1]))
    total = len(diagnoses)
    for number, diagnosis in enumerate(diagnoses, start=1):
        if diagnosis.readable_result is None:  # a damaged document: its table row stays, its page is left out
            continue
        overlay = photos.get(diagnosis.overlay_id) if diagnosis.overlay_id else None
        heading = _("Photo %(num)d of %(total)d: %(date)s", num=number, total=total,
                    date=format_when(diagnosis.created_at, zone))
        report.visits.append(visit_view(diagnosis, photos[diagnosis.photo_id], overlay, heading))
    return report


def diagnosis_report(user: Any, diagnosis: Diagnosis, photo: Photo, overlay: Photo | None, lesion: Lesion | None,
                     now: datetime, zone: str | None = None) -> ReportView:
    """One analysed photo, headed by its date (never by the class name, which would read like a diagnosis)."""
    zone = valid_zone(zone) or user_zone(user)
    taken = format_when(diagnosis.created_at, zone)
    facts = [f"{lesion.name} · {body_site_name(lesion.body_site)}"] if lesion is not None else []
    report = _frame(user, _("Photo of %(date)s", date=taken), facts, zone, now)
    report.visits.append(visit_view(diagnosis, photo, overlay, ""))  # the subject already names the date
    return report


# ------------------------------------------------------------------------------------------------- file names
def _ascii_slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:40].strip("-")


def attachment_header(kind: str, name: str | None, day: str) -> str:
    """``Content-Disposition`` for ``drskin-<kind>-<name>-<day>.pdf``: a safe ASCII ``filename`` for every
    browser and, when the name is not plain ASCII (a Korean name), the real one as RFC 5987 ``filename*``."""
    parts = ["drskin", kind]
    slug = _ascii_slug(name or "")
    if name and slug:
        parts.append(slug)
    ascii_name = "-".join([*parts, day]) + ".pdf"
    header = f'attachment; filename="{ascii_name}"'
    if name and (not name.isascii() or slug != name):
        clean = re.sub(r"[\x00-\x1f\x7f/\\\"]+", " ", name).strip()[:80]
        utf8_name = "-".join(["drskin", kind, clean, day]) + ".pdf"
        header += f"; filename*=UTF-8''{quote(utf8_name, safe='')}"
    return header
