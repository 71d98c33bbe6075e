"""Lesion forms and views."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from skin_models.context import SITES
from webapp.core.i18n import N_, _
from webapp.lesions.bodymap import MapPosition, parse_position
from webapp.lesions.reminders import Recheck

if TYPE_CHECKING:
    from webapp.db.models import Diagnosis
    from webapp.diagnoses.schemas import OutlineView

BODY_SITES: tuple[tuple[str, str], ...] = (
    ("scalp", N_("Scalp")), ("face", N_("Face")), ("ear", N_("Ear")), ("neck", N_("Neck")), ("chest", N_("Chest")),
    ("abdomen", N_("Abdomen")), ("back", N_("Back")), ("buttocks", N_("Buttocks")), ("upper_arm", N_("Upper arm")),
    ("forearm", N_("Forearm")), ("hand", N_("Hand")), ("palm_sole", N_("Palm or sole")),
    ("genital", N_("Genital area")), ("upper_leg", N_("Upper leg")), ("lower_leg", N_("Lower leg")),
    ("foot", N_("Foot")), ("other", N_("Other")),
)
BODY_SITE_NAMES = dict(BODY_SITES)
# The site's body sites in the classifier's vocabulary (HAM10000's localization, skin_models.context.SITES); the
# site keeps its finer names for people, the model gets the region it was trained on. "other" tells it nothing.
# HAM10000 has no buttocks: they go to "trunk", its label for the torso that is neither back, chest nor abdomen;
# palms and soles are its "acral". The lesion list filters by these regions (webapp.lesions.bodymap).
MODEL_SITE: dict[str, str | None] = {
    "scalp": "scalp", "face": "face", "ear": "ear", "neck": "neck", "chest": "chest", "abdomen": "abdomen",
    "back": "back", "buttocks": "trunk", "upper_arm": "upper extremity", "forearm": "upper extremity",
    "hand": "hand", "palm_sole": "acral", "genital": "genital", "upper_leg": "lower extremity",
    "lower_leg": "lower extremity", "foot": "foot", "other": None,
}
# The classifier's regions as people read them (a result says which were weighed).
MODEL_SITE_NAMES: dict[str, str] = {
    "abdomen": N_("Abdomen"), "acral": N_("Palms or soles"), "back": N_("Back"), "chest": N_("Chest"),
    "ear": N_("Ear"), "face": N_("Face"), "foot": N_("Foot"), "genital": N_("Genital area"), "hand": N_("Hand"),
    "lower extremity": N_("Leg"), "neck": N_("Neck"), "scalp": N_("Scalp"), "trunk": N_("Trunk"),
    "upper extremity": N_("Arm"),
}

# The list's filter: HAM10000's regions, and "unknown" for the spots that are not on the map.
REGIONS: tuple[str, ...] = ("scalp", "face", "ear", "neck", "chest", "abdomen", "back", "trunk", "upper extremity",
                            "hand", "acral", "genital", "lower extremity", "foot", "unknown")
if set(REGIONS) != {*SITES, "unknown"}:  # head to toe here; the model's vocabulary is the source
    raise RuntimeError("webapp.lesions.schemas.REGIONS differ from skin_models.context.SITES: update the list")


def body_site_name(code: str) -> str:
    """The body site in the current language (unknown codes as they are)."""
    name = BODY_SITE_NAMES.get(code)
    return _(name) if name else code


def body_site_choices() -> list[tuple[str, str]]:
    """``BODY_SITES`` in the current language, for the forms."""
    return [(code, _(name)) for code, name in BODY_SITES]


def region_of(site: str | None) -> str:
    """The classifier's region (HAM10000's ``localization``) of one of the site's body sites; "unknown" for
    "other" and anything not in the list."""
    return MODEL_SITE.get(site or "") or "unknown"


def region_name(region: str) -> str:
    """A region (``region_of``) in the current language."""
    return _(MODEL_SITE_NAMES[region]) if region in MODEL_SITE_NAMES else _("Not on the map")


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
    from webapp.core.labels import label_name
    from webapp.diagnoses.schemas import build_outline

    result = diagnosis.result or {}
    measured = (result.get("segmentation") or {}).get("measurements") or {}

    def measurement(key: str) -> float | None:
        value = measured.get(key)
        return float(value) if isinstance(value, int | float) else None

    return TimelinePoint(
        diagnosis_id=diagnosis.id, taken_at=diagnosis.created_at, photo_url=f"/photos/{diagnosis.photo_id}",
        overlay_url=f"/photos/{diagnosis.overlay_id}" if diagnosis.overlay_id else None, label=diagnosis.label,
        label_name=label_name(diagnosis.label), triage_level=diagnosis.triage_level,
        area_fraction=diagnosis.area_fraction, concerning_probability=diagnosis.concerning_probability,
        outline=build_outline(result), border_irregularity=measurement("border_irregularity"),
        colour_variegation=measurement("colour_variegation"))
