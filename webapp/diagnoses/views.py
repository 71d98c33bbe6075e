"""What the result pages show, built from the typed result (``webapp.core.diagnosis_result``). Pure functions of
the result; the result page, the community, the compare view and the PDF build their rows here, once."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from skin_models.contract import DiagnoseResponse, Explanation, SegmentResponse
from webapp.core.diagnosis_result import DiagnosisResult, StoredSegmentation
from webapp.core.i18n import _
from webapp.core.labels import CLASS_CODES, CONCERNING_CODES, label_name
from webapp.core.numbers import honest_percent
from webapp.diagnoses.wording import (
    MEASUREMENT_TEXTS,
    NOT_A_LESION_MESSAGE,
    QUALITY_MESSAGES,
    closer_photo_request,
    context_note,
    disclaimer,
    kind_performance_note,
    photo_kind_note,
    quality_message,
    spot_account,
    triage_advice,
    triage_reason,
)


@dataclass(frozen=True)
class ProbabilityBar:
    code: str
    name: str
    probability: float
    is_top: bool
    is_concerning: bool

    @property
    def percent(self) -> str:
        """The bar's length (0-100), exact."""
        return f"{self.probability * 100:.1f}"

    @property
    def shown(self) -> str:
        """The number a person reads: never an exact 100 % or 0 %, which would read as certainty."""
        return honest_percent(self.probability)


def probability_bars(result: DiagnosisResult) -> list[ProbabilityBar]:
    """The seven classes in ``CLASS_CODES`` order, the top one and the concerning ones marked."""
    top = result.label
    return [ProbabilityBar(code=code, name=label_name(code), probability=p, is_top=code == top,
                           is_concerning=code in CONCERNING_CODES) for code, p in result.probabilities.items()]


@dataclass(frozen=True)
class Measurement:
    name: str
    value: str
    help: str


def measurement_rows(result: DiagnosisResult) -> list[Measurement]:
    """The lesion's measurements as a page reads them; empty when no lesion was outlined."""
    measured = result.measurements
    if measured is None:
        return []
    return [Measurement(_(name), fmt(float(getattr(measured, key))), _(help_text))
            for key, name, help_text, fmt in MEASUREMENT_TEXTS]


@dataclass(frozen=True)
class ModelInfo:
    name: str
    version: str
    tag: str
    synthetic: bool


@dataclass(frozen=True)
class HeatCell:
    x: float
    y: float
    width: float
    height: float
    opacity: float


@dataclass(frozen=True)
class OutlineView:
    """The lesion's outline over the photo (the service's ``segmentation.outline``): the site draws it itself (SVG
    on the pages, vector lines in the PDF) instead of storing a second, outlined copy of the photo."""

    width: int  # the analysed photo's pixels
    height: int
    vertices: list[tuple[float, float]]  # at pixel centres

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width} {self.height}"

    @property
    def points(self) -> str:
        """SVG polygon points, "x,y x,y …"."""
        return " ".join(f"{x:g},{y:g}" for x, y in self.vertices)


def build_outline(segmentation: SegmentResponse | StoredSegmentation) -> OutlineView | None:
    """The outline of an answer, or None (no lesion found, or an answer from before outlines)."""
    if len(segmentation.outline) < 3 or segmentation.width <= 0 or segmentation.height <= 0:
        return None
    return OutlineView(width=segmentation.width, height=segmentation.height,
                       vertices=[(x + 0.5, y + 0.5) for x, y in segmentation.outline])


@dataclass(frozen=True)
class HeatLayer:
    """The classifier's activation map for its top class, as SVG cells over the photo (``/diagnose?explain=true``)."""

    view_box: str  # "0 0 W H": the analysed photo's pixels, as the outline overlay
    cells: list[HeatCell]
    inside_lesion: float | None


def build_heat_layer(explanation: Explanation | None, segmentation: StoredSegmentation) -> HeatLayer | None:
    """The heat layer of an answer's explanation, or None when it has none (or an empty grid)."""
    if explanation is None or not explanation.grid or not explanation.grid[0] or len(explanation.box) != 4:
        return None
    left, top, right, bottom = (float(v) for v in explanation.box)
    rows, columns = len(explanation.grid), len(explanation.grid[0])
    cell_w, cell_h = (right - left) / columns, (bottom - top) / rows
    cells = [HeatCell(x=left + j * cell_w, y=top + i * cell_h, width=cell_w, height=cell_h,
                      opacity=round(0.75 * min(1.0, max(0.0, value)), 3))
             for i, row in enumerate(explanation.grid) for j, value in enumerate(row) if value > 0.05]
    return HeatLayer(view_box=f"0 0 {segmentation.width} {segmentation.height}", cells=cells,
                     inside_lesion=explanation.inside_lesion)


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
    heat: HeatLayer | None = None
    outline: OutlineView | None = None
    id: uuid.UUID | None = None
    created_at: datetime | None = None
    lesion_id: uuid.UUID | None = None
    lesion_name: str | None = None
    stored: bool = False
    context_note: str = ""
    spot_account: list[tuple[str, str]] = field(default_factory=list)  # (question, "Yes"/"No"), answered ones
    photo_kind: str = ""  # "Kind of photo: phone photo (97 % sure)"; empty for models that do not tell
    kind_performance: str = ""  # what the model was measured to do on this kind of photo
    closer_photo: str = ""  # a phone photo and an unsure answer: ask for a better photo or a dermoscope


def build_result_view(result: DiagnosisResult, *, photo_url: str = "", overlay_url: str = "") -> ResultView:
    """Turn a result into what the result page (and the PDF) shows."""
    top, probabilities = result.label, result.probabilities
    warnings = [{"code": w.code, "message": quality_message(w.code, w.message, top, probabilities)}
                for w in result.quality.warnings]
    return ResultView(
        label=top,
        label_name=label_name(top) if top in CLASS_CODES else str(result.classification.label_name or top),
        bars=probability_bars(result),
        triage_level=result.triage.level,
        triage_reason=triage_reason(result.triage, top, probabilities),
        triage_advice=triage_advice(result.triage),
        concerning_probability=result.triage.concerning_probability,
        lesion_found=result.segmentation.lesion_found,
        measurements=measurement_rows(result),
        warnings=warnings,
        models=[ModelInfo(name=m.name, version=m.version, tag=m.tag, synthetic=m.synthetic) for m in result.models],
        synthetic_model=result.synthetic,
        disclaimer=disclaimer(result.synthetic),
        photo_url=photo_url,
        overlay_url=overlay_url,
        heat=build_heat_layer(result.explanation, result.segmentation),
        outline=build_outline(result.segmentation),
        context_note=context_note(result.classification.patient_context),
        spot_account=spot_account(result.classification.patient_context),
        photo_kind=photo_kind_note(result.photo_kind),
        kind_performance=kind_performance_note(result.photo_kind),
        closer_photo=closer_photo_request(result.photo_kind, result.quality.warnings),
    )


@dataclass(frozen=True)
class RetakeView:
    """What the retake screen shows when the photo could not be judged (verdict ``retake`` or ``not_a_lesion``)."""

    verdict: str
    reasons: list[dict[str, str]]  # code + what to do, in the current language
    photo_url: str
    overlay_url: str
    synthetic_model: bool
    outline: OutlineView | None = None


def build_retake_view(answer: DiagnoseResponse, *, photo_url: str = "", overlay_url: str = "") -> RetakeView:
    if answer.verdict == "not_a_lesion":
        reasons = [{"code": "not_skin_like", "message": _(NOT_A_LESION_MESSAGE)}]
    else:
        reasons = [{"code": code, "message": _(QUALITY_MESSAGES[code])} for code in answer.verdict_reasons
                   if code in QUALITY_MESSAGES and code not in ("low_confidence", "close_call")]
        if not reasons:  # a reason this site does not know yet: still a retake, with the general advice
            reasons = [{"code": "unknown", "message": _(QUALITY_MESSAGES["blurred"])}]
    synthetic = answer.segmentation.synthetic_model or any(model.synthetic for model in answer.models)
    return RetakeView(verdict=answer.verdict, reasons=reasons, photo_url=photo_url, overlay_url=overlay_url,
                      synthetic_model=synthetic, outline=build_outline(answer.segmentation))


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
    photo_kind: str = ""
    spot_account: list[tuple[str, str]] = field(default_factory=list)  # (question, "Yes"/"No"), answered ones
