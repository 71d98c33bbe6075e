"""Triage: how soon should someone show this lesion to a doctor, given the classifier's probabilities.

This is advice about urgency, never a diagnosis. The rule, with ``concerning = P(mel) + P(bcc) + P(akiec)``:

* ``high`` — ``concerning ≥ max(threshold, 0.5)``, or melanoma is the single most probable class;
* ``medium`` — ``concerning ≥ threshold`` (the bundle's sensitivity-preserving threshold, typically 0.2–0.4);
* ``low`` — otherwise;

and whatever the photo says, a spot the person says bled or changed (``skin_models.context.RED_FLAGS``) is never
``low``: it is ``medium`` with the reason ``red_flag`` (ABCDE's E, "evolving", Abbasi et al. 2004; bleeding as in
the Glasgow 7-point checklist, MacKie 1990).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from skin_models.labels import CLASS_CODES, concerning_indices, get_label

__all__ = ["HIGH_CONCERN", "TriageLevel", "TriageResult", "triage"]

#: The combined concerning probability that is "high" whatever the threshold.
HIGH_CONCERN = 0.5
# Probabilities from a softmax sum to 1 up to float error; anything further off is probably logits.
_SUM_TOLERANCE = 1e-3


class TriageLevel(StrEnum):
    """How urgently the lesion should be seen by a doctor."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


_ADVICE: dict[TriageLevel, str] = {
    TriageLevel.HIGH: (
        "Please see a dermatologist soon, ideally within the next two weeks, and show them this lesion. "
        "This result is not a diagnosis: only a doctor can examine the lesion and tell what it is."
    ),
    TriageLevel.MEDIUM: (
        "Please have this lesion checked by a doctor (your GP or a dermatologist) at your next opportunity. "
        "This result is not a diagnosis: only a doctor can examine the lesion and tell what it is."
    ),
    TriageLevel.LOW: (
        "Keep an eye on this lesion: photograph it once a month in the same light, and see a doctor if it changes "
        "(ABCDE: asymmetry, irregular border, several colours, diameter over 6 mm, or evolving), bleeds, itches "
        "or worries you. This result is not a diagnosis and does not rule anything out."
    ),
}


@dataclass(frozen=True, slots=True)
class TriageResult:
    """A triage level with the numbers behind it and what to do next."""

    level: TriageLevel
    concerning_probability: float
    threshold: float
    reason: str
    reason_code: str  # melanoma_most_likely | high_concern | above_threshold | below_threshold | red_flag
    advice: str
    top_label: str
    red_flags: tuple[str, ...] = ()  # the red-flag symptoms reported (bled, changed)

    def as_dict(self) -> dict[str, str | float | list[str]]:
        """The service's ``triage`` object."""
        return {
            "level": self.level.value,
            "reason": self.reason,
            "reason_code": self.reason_code,
            "advice": self.advice,
            "concerning_probability": self.concerning_probability,
            "threshold": self.threshold,
            "red_flags": list(self.red_flags),
        }


def triage(
    probabilities: Mapping[str, float] | np.ndarray | Sequence[float],
    threshold: float,
    codes: Sequence[str] = CLASS_CODES,
    red_flags: Sequence[str] = (),
) -> TriageResult:
    """The triage level for one lesion from its class probabilities (a code → probability mapping, or a row in
    ``codes`` order) and the model's referral ``threshold`` in (0, 1); ``red_flags`` are the red-flag symptoms the
    person reported (``PatientContext.red_flags``): with any, the level is at least ``medium``."""
    is_number = isinstance(threshold, numbers.Real) and not isinstance(threshold, bool)
    if not (is_number and math.isfinite(threshold) and 0.0 < threshold < 1.0):
        raise ValueError(f"the triage threshold must be strictly between 0 and 1, not {threshold!r}")
    codes = tuple(get_label(code).code for code in codes)
    probs = _probability_row(probabilities, codes)

    concerning = float(probs[concerning_indices(codes)].sum())
    top = int(np.argmax(probs))
    top_label = codes[top]
    top_name = get_label(top_label).name_en.lower()
    share = f"The estimated chance of a malignant or pre-malignant lesion is {concerning:.0%}"
    if top_label == "mel":
        level = TriageLevel.HIGH
        reason = f"Melanoma is the most likely of the seven classes ({probs[top]:.0%}). {share}."
        code = "melanoma_most_likely"
    elif concerning >= max(threshold, HIGH_CONCERN):
        level = TriageLevel.HIGH
        reason = f"{share}, at least {max(threshold, HIGH_CONCERN):.0%}. The most likely class is {top_name}."
        code = "high_concern"
    elif concerning >= threshold:
        level = TriageLevel.MEDIUM
        reason = f"{share}, at or above the model's referral threshold of {threshold:.0%}."
        code = "above_threshold"
    elif red_flags:
        level = TriageLevel.MEDIUM
        said = " and ".join(red_flags)
        reason = (f"You said the spot {said}: a spot that bleeds or changes should be seen by a doctor whatever the "
                  f"photo shows. {share}, below the model's referral threshold of {threshold:.0%}.")
        code = "red_flag"
    else:
        level = TriageLevel.LOW
        reason = (
            f"{share}, below the model's referral threshold of {threshold:.0%}. The most likely class is {top_name}."
        )
        code = "below_threshold"
    return TriageResult(
        level=level,
        concerning_probability=concerning,
        threshold=float(threshold),
        reason=reason,
        reason_code=code,
        advice=_ADVICE[level],
        top_label=top_label,
        red_flags=tuple(red_flags),
    )


def _probability_row(
    probabilities: Mapping[str, float] | np.ndarray | Sequence[float], codes: tuple[str, ...]
) -> np.ndarray:
    """The probabilities as a float row in ``codes`` order, validated."""
    if isinstance(probabilities, Mapping):
        by_code = {get_label(key).code: float(value) for key, value in probabilities.items()}
        missing = [code for code in codes if code not in by_code]
        extra = sorted(set(by_code) - set(codes))
        if missing or extra:
            raise ValueError(f"probabilities must cover exactly {', '.join(codes)}; missing {missing}, extra {extra}")
        row = np.array([by_code[code] for code in codes], dtype=np.float64)
    else:
        row = np.asarray(probabilities, dtype=np.float64)
        if row.ndim != 1 or row.shape[0] != len(codes):
            raise ValueError(f"expected one row of {len(codes)} probabilities, got shape {row.shape}")
    if not np.all(np.isfinite(row)) or (row < 0).any() or (row > 1).any():
        raise ValueError("probabilities must be finite and between 0 and 1")
    if abs(row.sum() - 1.0) > _SUM_TOLERANCE:
        raise ValueError(f"probabilities must sum to 1 (they sum to {row.sum():.4f}); apply softmax to logits first")
    return row
