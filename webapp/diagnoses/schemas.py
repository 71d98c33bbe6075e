"""What the result pages show, built from the service's JSON. Pure functions: easy to test, never ORM objects."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from litestar.datastructures import UploadFile

from skin_models.context import MAX_AGE, SEXES
from webapp.core.i18n import N_, _
from webapp.core.labels import CLASS_CODES, CONCERNING_CODES, label_name


@dataclass
class DiagnoseForm:
    image: UploadFile | None = None
    lesion_id: str = ""
    # Optional context for the classifier. The body site for a photo not added to a tracked lesion (a lesion's own
    # site wins); age and sex from the form only when not logged in (an account keeps them on its page).
    body_site: str = ""
    age: str = ""
    sex: str = ""
    # Anonymous only: "yes" keeps the result for 30 minutes so that signing up can save it (webapp.diagnoses.pending)
    keep: str = ""


def context_fields(form: DiagnoseForm, *, lesion_site: str | None, birth_year: int | None, sex: str | None,
                   logged_in: bool, this_year: int) -> tuple[dict[str, str], list[str]]:
    """The optional ``age``, ``sex`` and ``site`` fields to send with a photo (only those known), and the problems
    with what the form said. A tracked lesion's body site wins over the form's; an account's birth year and sex
    are used when logged in, the form's otherwise."""
    from webapp.lesions.schemas import MODEL_SITE

    fields: dict[str, str] = {}
    problems: list[str] = []
    chosen_site = lesion_site if lesion_site is not None else form.body_site.strip()
    if chosen_site:
        if chosen_site not in MODEL_SITE:
            problems.append(_("Choose where on the body the spot is from the list, or leave it empty."))
        elif MODEL_SITE[chosen_site]:
            fields["site"] = str(MODEL_SITE[chosen_site])
    if logged_in:
        if birth_year is not None and 0 <= this_year - birth_year <= MAX_AGE:
            fields["age"] = str(this_year - birth_year)
        if sex in SEXES:
            fields["sex"] = str(sex)
        return fields, problems
    age = form.age.strip()
    if age:
        if age.isdigit() and 0 <= int(age) <= MAX_AGE:
            fields["age"] = str(int(age))
        else:
            problems.append(_("Enter the age in whole years (0–120), or leave it empty."))
    if form.sex.strip():
        if form.sex.strip().lower() in SEXES:
            fields["sex"] = form.sex.strip().lower()
        else:
            problems.append(_("Choose female or male, or leave it empty."))
    return fields, problems


@dataclass
class AttachForm:
    lesion_id: str = ""
    new_lesion_name: str = ""
    body_site: str = ""
    # The new lesion's pin on the body map (webapp.lesions.bodymap), when one was placed.
    map_side: str = ""
    map_x: str = ""
    map_y: str = ""


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


@dataclass(frozen=True)
class HeatCell:
    x: float
    y: float
    width: float
    height: float
    opacity: float


@dataclass(frozen=True)
class OutlineView:
    """The lesion's outline as an SVG polygon over the photo (the service's ``segmentation.outline``): the site
    draws it itself instead of storing a second, outlined copy of the photo."""

    view_box: str  # "0 0 W H": the analysed photo's pixels
    points: str  # "x,y x,y …" at pixel centres


def build_outline(result: dict[str, Any]) -> OutlineView | None:
    """The outline of a ``/diagnose`` answer, or None (no lesion found, or an answer from before outlines)."""
    segmentation = result.get("segmentation") or {}
    outline, width, height = segmentation.get("outline"), segmentation.get("width"), segmentation.get("height")
    if not (isinstance(outline, list) and len(outline) >= 3 and isinstance(width, int) and isinstance(height, int)
            and width > 0 and height > 0):
        return None
    try:
        points = " ".join(f"{float(x) + 0.5:g},{float(y) + 0.5:g}" for x, y in outline)
    except (TypeError, ValueError):
        return None
    return OutlineView(view_box=f"0 0 {width} {height}", points=points)


@dataclass(frozen=True)
class HeatLayer:
    """The classifier's activation map for its top class, as SVG cells over the photo (``/diagnose?explain=true``)."""

    view_box: str  # "0 0 W H": the analysed photo's pixels, as the outline overlay
    cells: list[HeatCell]
    inside_lesion: float | None


def build_heat_layer(result: dict[str, Any]) -> HeatLayer | None:
    """The heat layer of a ``/diagnose`` answer, or None when it has no (well-formed) explanation."""
    explanation = result.get("explanation")
    segmentation = result.get("segmentation") or {}
    if not isinstance(explanation, dict):
        return None
    grid, box = explanation.get("grid"), explanation.get("box")
    width, height = segmentation.get("width"), segmentation.get("height")
    if not (isinstance(grid, list) and grid and isinstance(grid[0], list) and isinstance(box, list) and len(box) == 4
            and isinstance(width, int) and isinstance(height, int)):
        return None
    left, top, right, bottom = (float(v) for v in box)
    rows, columns = len(grid), len(grid[0])
    cell_w, cell_h = (right - left) / columns, (bottom - top) / rows
    cells = [HeatCell(x=left + j * cell_w, y=top + i * cell_h, width=cell_w, height=cell_h,
                      opacity=round(0.75 * min(1.0, max(0.0, float(value))), 3))
             for i, row in enumerate(grid) for j, value in enumerate(row) if float(value) > 0.05]
    inside = explanation.get("inside_lesion")
    return HeatLayer(view_box=f"0 0 {width} {height}", cells=cells,
                     inside_lesion=float(inside) if isinstance(inside, int | float) else None)


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
    extra: dict[str, Any] = field(default_factory=dict)
    context_note: str = ""


_MEASUREMENTS = (
    ("area_fraction", N_("Area"), N_("share of the photo covered by the spot"), lambda v: f"{v * 100:.1f} %"),
    ("diameter_px", N_("Diameter"), N_("longest extent, in pixels of the analysed photo"), lambda v: f"{v:.0f} px"),
    ("asymmetry", N_("Asymmetry"), N_("0 = perfectly symmetric"), lambda v: f"{v:.2f}"),
    ("border_irregularity", N_("Border irregularity"), N_("1 = a smooth circle; higher = more ragged"),
     lambda v: f"{v:.2f}"),
    ("colour_variegation", N_("Colour variation"), N_("0 = one even colour"), lambda v: f"{v:.2f}"),
)

# The site's own texts for what the service sends in English (triage advice, photo-quality warnings, the
# disclaimer), keyed by the service's machine codes, so that every language reads them from the catalogue.
DEFAULT_DISCLAIMER = N_("Dr. Skin is not a diagnosis. It is an automated estimate from a single photo, made by "
                        "software that can be wrong, and it cannot rule out skin cancer. See a doctor or "
                        "dermatologist if a spot is new, growing, changing in shape or colour, bleeding, itching or "
                        "not healing, if the result is medium or high, or whenever you are worried, whatever this "
                        "result says.")
SYNTHETIC_NOTE = N_("The models answering now were trained on synthetic images only (a first-run demo): their "
                    "results mean nothing.")

TRIAGE_ADVICE = {
    "high": N_("Please see a dermatologist soon, ideally within the next two weeks, and show them this spot. This "
               "result is not a diagnosis: only a doctor can examine the spot and tell what it is."),
    "medium": N_("Please have this spot checked by a doctor (your GP or a dermatologist) at your next opportunity. "
                 "This result is not a diagnosis: only a doctor can examine the spot and tell what it is."),
    "low": N_("Keep an eye on this spot: photograph it once a month in the same light, and see a doctor if it "
              "changes (ABCDE: asymmetry, irregular border, several colours, diameter over 6 mm, or evolving), "
              "bleeds, itches or worries you. This result is not a diagnosis and does not rule anything out."),
}

QUALITY_MESSAGES = {
    "too_small": N_("The photo is very small, so fine detail is lost. Please retake it closer, at full resolution, "
                    "with the spot filling about half of the frame."),
    "blurred": N_("The photo looks blurred. Hold the camera still (or rest your hand), let it focus on the spot, "
                  "and take it again from about 10 cm."),
    "too_dark": N_("The photo is too dark. Please retake it in daylight or a bright room, without shadows."),
    "too_bright": N_("The photo is overexposed. Avoid direct sunlight and the flash, and retake it in even, "
                     "indirect light."),
    "no_lesion_found": N_("No spot could be found in the photo. Centre the spot, move closer, and make sure it is "
                          "in focus."),
    "lesion_touches_border": N_("The spot runs off the edge of the photo, so its size and shape cannot be judged. "
                                "Step back a little and keep the whole spot, with some skin around it, inside the "
                                "frame."),
    "low_confidence": N_("The model is unsure: its best guess (%(name)s) has only %(probability)s. A sharper, "
                         "closer, well-lit photo may help; if in doubt, have the spot checked by a doctor."),
    "close_call": N_("The model cannot tell %(first)s (%(p1)s) from %(second)s (%(p2)s) in this photo: read the "
                     "result as either. If in doubt, have the spot checked by a doctor."),
}


NOT_A_LESION_MESSAGE = N_("This photo does not look like a close-up of skin with a spot on it, so Dr. Skin gives no "
                          "result: the models only know photos of skin lesions, and an answer about anything else "
                          "would mean nothing. Please photograph the skin spot itself, close (about 10 cm) and in "
                          "focus.")


@dataclass(frozen=True)
class RetakeView:
    """What the retake screen shows when the photo could not be judged (verdict ``retake`` or ``not_a_lesion``)."""

    verdict: str
    reasons: list[dict[str, str]]  # code + what to do, in the current language
    photo_url: str
    overlay_url: str
    synthetic_model: bool
    outline: OutlineView | None = None


def build_retake_view(result: dict[str, Any], *, photo_url: str = "", overlay_url: str = "") -> RetakeView:
    verdict = str(result.get("verdict"))
    codes = [str(code) for code in result.get("verdict_reasons") or []]
    if verdict == "not_a_lesion":
        reasons = [{"code": "not_skin_like", "message": _(NOT_A_LESION_MESSAGE)}]
    else:
        reasons = [{"code": code, "message": _(QUALITY_MESSAGES[code])} for code in codes
                   if code in QUALITY_MESSAGES and code not in ("low_confidence", "close_call")]
        if not reasons:  # a reason this site does not know yet: still a retake, with the general advice
            reasons = [{"code": "unknown", "message": _(QUALITY_MESSAGES["blurred"])}]
    return RetakeView(verdict=verdict, reasons=reasons, photo_url=photo_url, overlay_url=overlay_url,
                      synthetic_model=is_synthetic(result), outline=build_outline(result))


def honest_percent(value: float) -> str:
    """A probability as a person should read it: "> 99 %" and "< 1 %" at the ends (a model is never certain),
    whole percents in between. The spaces are no-break spaces (U+00A0): a line never breaks inside "49 %"."""
    value = float(value)
    if value > 0.99:
        return ">\u00a099\u00a0%"
    if value < 0.01:
        return "<\u00a01\u00a0%"
    return f"{value * 100:.0f}\u00a0%"



def triage_reason(level: str, top: str, probabilities: dict[str, float], concerning: float,
                  threshold: float | None) -> str:
    """Why the level, in the current language, from the numbers the service stored with it."""
    share = honest_percent(concerning)
    name = label_name(top)
    if level == "high" and top == "mel":
        return _("Melanoma is the most likely of the seven classes (%(probability)s). The estimated chance of a "
                 "malignant or pre-malignant lesion is %(share)s.",
                 probability=honest_percent(probabilities.get(top, 0.0)), share=share)
    if level == "high":
        return _("The estimated chance of a malignant or pre-malignant lesion is %(share)s, which is high. The most "
                 "likely class is %(name)s.", share=share, name=name)
    if threshold is None:
        return _("The estimated chance of a malignant or pre-malignant lesion is %(share)s. The most likely class "
                 "is %(name)s.", share=share, name=name)
    if level == "medium":
        return _("The estimated chance of a malignant or pre-malignant lesion is %(share)s, at or above the "
                 "model's referral threshold of %(threshold)s.", share=share, threshold=honest_percent(threshold))
    return _("The estimated chance of a malignant or pre-malignant lesion is %(share)s, below the model's referral "
             "threshold of %(threshold)s. The most likely class is %(name)s.",
             share=share, threshold=honest_percent(threshold), name=name)


def quality_message(code: str, fallback: str, top: str, probabilities: dict[str, float]) -> str:
    """A photo-quality warning in the current language; unknown codes keep the service's text."""
    text = QUALITY_MESSAGES.get(code)
    if text is None:
        return fallback
    if code == "low_confidence":
        return _(text, name=label_name(top), probability=honest_percent(probabilities.get(top, 0.0)))
    if code == "close_call":
        first, second = sorted(probabilities, key=lambda c: probabilities[c], reverse=True)[:2]
        return _(text, first=label_name(first), p1=honest_percent(probabilities[first]), second=label_name(second),
                 p2=honest_percent(probabilities[second]))
    return _(text)


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


def context_note(classification: dict[str, Any]) -> str:
    """One sentence on what besides the photo the estimate weighed (the service's ``patient_context``); empty for
    answers from before the service reported it."""
    from webapp.lesions.schemas import MODEL_SITE_NAMES

    given = classification.get("patient_context")
    if not isinstance(given, dict):
        return ""
    parts = []
    if isinstance(given.get("age"), int | float):
        parts.append(_("age %(age)d", age=int(given["age"])))
    if given.get("sex") in ("female", "male"):
        parts.append(_("female") if given["sex"] == "female" else _("male"))
    if isinstance(given.get("site"), str) and given["site"] in MODEL_SITE_NAMES:
        parts.append(_(MODEL_SITE_NAMES[given["site"]]).lower())
    if not parts:
        return _("Judged from the photo alone: no age, sex or body site was given.")
    if given.get("applied"):
        return _("Weighed with the photo: %(what)s.", what=", ".join(parts))
    return _("The model in use judges the photo alone; what you gave (%(what)s) was not used.", what=", ".join(parts))


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
    measurements = [Measurement(_(name), fmt(float(measured[key])), _(help_text))
                    for key, name, help_text, fmt in _MEASUREMENTS
                    if lesion_found and measured.get(key) is not None]
    warnings = [{"code": str(w.get("code", "")),
                 "message": quality_message(str(w.get("code", "")), str(w.get("message", "")), top, probabilities)}
                for w in (result.get("quality") or {}).get("warnings") or [] if isinstance(w, dict)]
    models = [ModelInfo(name=str(m.get("name", "")), version=str(m.get("version", "")), tag=str(m.get("tag", "")),
                        synthetic=bool(m.get("synthetic", False)))
              for m in result.get("models") or [] if isinstance(m, dict)]
    concerning = triage.get("concerning_probability")
    concerning_value = float(concerning) if concerning is not None else concerning_probability(probabilities)
    level = str(triage.get("level", "medium"))
    threshold = triage.get("threshold")
    synthetic = is_synthetic(result)
    disclaimer = _(DEFAULT_DISCLAIMER) + (" " + _(SYNTHETIC_NOTE) if synthetic else "")
    return ResultView(
        label=top,
        label_name=label_name(top) if top in CLASS_CODES else str(classification.get("label_name") or top),
        bars=bars,
        triage_level=level,
        triage_reason=triage_reason(level, top, probabilities, concerning_value,
                                    float(threshold) if isinstance(threshold, (int, float)) else None)
        if level in TRIAGE_ADVICE else str(triage.get("reason", "")),
        triage_advice=_(TRIAGE_ADVICE[level]) if level in TRIAGE_ADVICE else str(triage.get("advice", "")),
        concerning_probability=concerning_value,
        lesion_found=lesion_found,
        measurements=measurements,
        warnings=warnings,
        models=models,
        synthetic_model=synthetic,
        disclaimer=disclaimer,
        photo_url=photo_url,
        overlay_url=overlay_url,
        heat=build_heat_layer(result),
        outline=build_outline(result),
        context_note=context_note(classification),
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
