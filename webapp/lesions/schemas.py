"""Lesion forms and views."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

BODY_SITES: tuple[tuple[str, str], ...] = (
    ("scalp", "Scalp"), ("face", "Face"), ("ear", "Ear"), ("neck", "Neck"), ("chest", "Chest"),
    ("abdomen", "Abdomen"), ("back", "Back"), ("upper_arm", "Upper arm"), ("forearm", "Forearm"),
    ("hand", "Hand"), ("genital", "Genital area"), ("upper_leg", "Upper leg"), ("lower_leg", "Lower leg"),
    ("foot", "Foot"), ("other", "Other"),
)
BODY_SITE_NAMES = dict(BODY_SITES)


@dataclass
class LesionForm:
    name: str = ""
    body_site: str = ""

    def errors(self) -> list[str]:
        problems = []
        if not self.name.strip() or len(self.name.strip()) > 100:
            problems.append("Give the spot a short name (1–100 characters), like “mole left shoulder”.")
        if self.body_site not in BODY_SITE_NAMES:
            problems.append("Choose where on the body the spot is.")
        return problems


@dataclass(frozen=True)
class LesionSummary:
    id: uuid.UUID
    name: str
    body_site: str
    created_at: datetime
    photo_count: int
    last_photo_url: str | None


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


@dataclass
class Evolution:
    """Whether the spot changed enough, first photo to latest, to be worth showing a doctor."""

    flagged: bool = False
    reasons: list[str] = field(default_factory=list)
    enough_photos: bool = False
