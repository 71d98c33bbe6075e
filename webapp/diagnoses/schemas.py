"""What the result pages show, built from the service's JSON. Pure functions: easy to test, never ORM objects."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from litestar.datastructures import UploadFile

from webapp.core.labels import CLASS_CODES, CONCERNING_CODES, label_name


@dataclass
class DiagnoseForm:
    image: UploadFile | None = None
    lesion_id: str = ""


@dataclass
class AttachForm:
    lesion_id: str = ""
    new_lesion_name: str = ""
    body_site: str = ""


@dataclass(frozen=True)
class ProbabilityBar:
    code: str
    name: str
    probability: float
    is_top: bool
    is_concerning: bool

    @property
    def percent(self) -> str:
        return f"{self.probability * 100:.1f}"


@dataclass(frozen=True)
class Measurement:
    name: str
    value: str
    help: str


@dataclass(frozen=True)
class ModelInfo:
    name: str
    version: str
    tag: str
    synthetic: bool


@dataclass
class ResultView:
    label: str
    label_name: str
    bars: list[ProbabilityBar]
    triage_level: str
    triage_reason: str
    triage_advice: str
    concerning_probability: float
    lesion_found: bool
    measurements: list[Measurement]
    warnings: list[dict[str, str]]
    models: list[ModelInfo]
    synthetic_model: bool
    disclaimer: str
    photo_url: str = ""
    overlay_url: str = ""
    id: uuid.UUID | None = None
    created_at: datetime | None = None
    lesion_id: uuid.UUID | None = None
    lesion_name: str | None = None
    stored: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


_MEASUREMENTS = (
    ("area_fraction", "Area", "share of the photo covered by the spot", lambda v: f"{v * 100:.1f} %"),
    ("diameter_px", "Diameter", "longest extent, in pixels of the analysed photo", lambda v: f"{v:.0f} px"),
    ("asymmetry", "Asymmetry", "0 = perfectly symmetric", lambda v: f"{v:.2f}"),
    ("border_irregularity", "Border irregularity", "1 = a smooth circle; higher = more ragged",
     lambda v: f"{v:.2f}"),
    ("colour_variegation", "Colour variation", "0 = one even colour", lambda v: f"{v:.2f}"),
)

DEFAULT_DISCLAIMER = ("Dr. Skin is not a diagnosis. It is an automated estimate from one photo and can be wrong. "
                      "If a spot worries you, changes, bleeds or itches, see a doctor.")


def concerning_probability(probabilities: dict[str, float]) -> float:
    """P(mel) + P(bcc) + P(akiec)."""
    return float(sum(float(probabilities.get(code, 0.0)) for code in CONCERNING_CODES))


def is_synthetic(result: dict[str, Any]) -> bool:
    classification = result.get("classification") or {}
    segmentation = result.get("segmentation") or {}
    return bool(classification.get("synthetic_model") or segmentation.get("synthetic_model")
                or any(m.get("synthetic") for m in result.get("models") or [] if isinstance(m, dict)))


def area_fraction(result: dict[str, Any]) -> float | None:
    segmentation = result.get("segmentation") or {}
    if not segmentation.get("lesion_found", True):
        return None
    value = segmentation.get("area_fraction", (segmentation.get("measurements") or {}).get("area_fraction"))
    return float(value) if value is not None else None


def build_result_view(result: dict[str, Any], *, photo_url: str = "", overlay_url: str = "") -> ResultView:
    """Turn a ``/diagnose`` answer into what the template shows; tolerant of missing optional parts."""
    classification = result.get("classification") or {}
    segmentation = result.get("segmentation") or {}
    triage = result.get("triage") or {}
    probabilities = {code: float((classification.get("probabilities") or {}).get(code, 0.0)) for code in CLASS_CODES}
    top = classification.get("label") or max(probabilities, key=lambda c: probabilities[c])
    bars = [ProbabilityBar(code=code, name=label_name(code), probability=p, is_top=code == top,
                           is_concerning=code in CONCERNING_CODES) for code, p in probabilities.items()]
    measured = segmentation.get("measurements") or {}
    lesion_found = bool(segmentation.get("lesion_found", bool(measured)))
    measurements = [Measurement(name, fmt(float(measured[key])), help_text)
                    for key, name, help_text, fmt in _MEASUREMENTS
                    if lesion_found and measured.get(key) is not None]
    warnings = [{"code": str(w.get("code", "")), "message": str(w.get("message", ""))}
                for w in (result.get("quality") or {}).get("warnings") or [] if isinstance(w, dict)]
    models = [ModelInfo(name=str(m.get("name", "")), version=str(m.get("version", "")), tag=str(m.get("tag", "")),
                        synthetic=bool(m.get("synthetic", False)))
              for m in result.get("models") or [] if isinstance(m, dict)]
    concerning = triage.get("concerning_probability")
    return ResultView(
        label=top,
        label_name=classification.get("label_name") or label_name(top),
        bars=bars,
        triage_level=str(triage.get("level", "medium")),
        triage_reason=str(triage.get("reason", "")),
        triage_advice=str(triage.get("advice", "")),
        concerning_probability=float(concerning) if concerning is not None else concerning_probability(probabilities),
        lesion_found=lesion_found,
        measurements=measurements,
        warnings=warnings,
        models=models,
        synthetic_model=is_synthetic(result),
        disclaimer=str(result.get("disclaimer") or DEFAULT_DISCLAIMER),
        photo_url=photo_url,
        overlay_url=overlay_url,
    )


@dataclass(frozen=True)
class HistoryItem:
    id: uuid.UUID
    created_at: datetime
    label: str
    label_name: str
    triage_level: str
    concerning_probability: float
    photo_url: str
    lesion_name: str | None
