"""Lesion forms and views."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from webapp.core.body_sites import BODY_SITE_NAMES
from webapp.core.i18n import _
from webapp.core.labels import label_name
from webapp.diagnoses.views import OutlineView, build_outline
from webapp.diagnoses.wording import photo_kind_note, spot_account
from webapp.lesions.bodymap import MapPosition, parse_position
from webapp.lesions.reminders import Recheck

if TYPE_CHECKING:
    from webapp.db.models import Diagnosis

@dataclass
class SiteForm:
    """Where on the body: one of ``BODY_SITES`` and, optionally, a pin on the body map (``webapp.lesions.bodymap``:
    ``map_side`` is the view, front or back; ``map_x``/``map_y`` fractions of it)."""

    body_site: str = ""
    map_side: str = ""
    map_x: str = ""
    map_y: str = ""

    def site_errors(self) -> list[str]:
        if self.body_site not in BODY_SITE_NAMES:
            return [_("Choose where on the body the spot is.")]
        return self.position()[1]

    def position(self) -> tuple[MapPosition | None, list[str]]:
        return parse_position(self.body_site, self.map_side, self.map_x, self.map_y)


@dataclass
class LesionForm(SiteForm):
    name: str = ""

    def errors(self) -> list[str]:
        problems = []
        if not self.name.strip() or len(self.name.strip()) > 100:
            problems.append(_("Give the spot a short name (1–100 characters), like “mole left shoulder”."))
        return problems + self.site_errors()


@dataclass
class RecheckForm:
    recheck_days: str = ""


@dataclass(frozen=True)
class RegionFilter:
    region: str
    name: str
    count: int
    href: str
    current: bool


@dataclass(frozen=True)
class LesionSummary:
    id: uuid.UUID
    name: str
    body_site: str
    created_at: datetime
    photo_count: int
    last_photo_url: str | None
    recheck: Recheck | None = None
    number: int = 0  # its pin's number on the body map
    on_map: bool = True
    changed: bool = False  # the change rule flags it: worth showing a doctor


@dataclass(frozen=True)
class TimelinePoint:
    diagnosis_id: uuid.UUID
    taken_at: datetime
    photo_url: str
    overlay_url: str | None
    label: str
    label_name: str
    triage_level: str
    area_fraction: float | None
    concerning_probability: float
    outline: OutlineView | None = None
    border_irregularity: float | None = None
    colour_variegation: float | None = None
    photo_kind: str = ""  # "Kind of photo: phone photo (97 % sure)"; empty for models that do not tell
    spot_account: tuple[tuple[str, str], ...] = ()  # what the person said about the spot that day


@dataclass
class Evolution:
    """Whether the spot changed enough, first photo to latest, to be worth showing a doctor."""

    flagged: bool = False
    reasons: list[str] = field(default_factory=list)
    enough_photos: bool = False


@dataclass(frozen=True)
class Change:
    """One measure of two photos of a spot, earlier and later, and how it moved (texts for the page)."""

    key: str  # "area", "border", "colour", "concerning"
    name: str
    before: str
    after: str
    change: str  # "+22 %" (area, relative), "+0.15" (the others, difference); "—" when a photo lacks it
    flagged: bool = False  # beyond the change rule's threshold (area and concerning probability only)


@dataclass(frozen=True)
class Comparison:
    """Two photos of one spot side by side (``earlier`` before ``later``) and the change between them."""

    earlier: TimelinePoint
    later: TimelinePoint
    changes: list[Change]
    days_apart: int
    errors: list[str] = field(default_factory=list)


def timeline_point(diagnosis: Diagnosis) -> TimelinePoint:
    """A stored diagnosis as a point of its lesion's timeline (photo, outline if it has one, measurements)."""
    result = diagnosis.readable_result  # a damaged document: the point keeps the row's columns, no outline
    measured = result.measurements if result else None
    return TimelinePoint(
        diagnosis_id=diagnosis.id, taken_at=diagnosis.created_at, photo_url=f"/photos/{diagnosis.photo_id}",
        overlay_url=f"/photos/{diagnosis.overlay_id}" if diagnosis.overlay_id else None, label=diagnosis.label,
        label_name=label_name(diagnosis.label), triage_level=diagnosis.triage_level,
        area_fraction=diagnosis.area_fraction, concerning_probability=diagnosis.concerning_probability,
        outline=build_outline(result.segmentation) if result else None,
        border_irregularity=measured.border_irregularity if measured is not None else None,
        colour_variegation=measured.colour_variegation if measured is not None else None,
        photo_kind=photo_kind_note(result.photo_kind) if result else "",
        spot_account=tuple(spot_account(result.classification.patient_context)) if result else ())
