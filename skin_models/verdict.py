"""Whether a photo can be judged at all: the verdict that comes before any diagnosis.

``ok``: the models' answer is given. ``retake``: the photo is too poor to judge (too small, blurred, too dark or
bright, no lesion found); the person is told how to take a better one.
``not_a_lesion``: the photo does not look like a close-up of skin with a lesion (a wall, a screen, text, a pet):
the models were never trained on such photos and their answer would be meaningless.

Not-a-lesion is judged by how far the photo's colour and texture statistics (:func:`photo_evidence`) lie from those
of real lesion photos: a Mahalanobis distance under a Gaussian fitted on the training photos of the HAM10000
development set, with the threshold chosen on its validation photos (``drskin calibrate-verdict`` writes
``lesion_likeness.json`` beside this module; docs/results.md has the figures). Nothing here needs torch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from skin_models.quality import QualityCode, blur_score

LIKENESS_FILE = Path(__file__).with_name("lesion_likeness.json")
#: The photo is shrunk to this longer side before its statistics are taken (fast, and size-independent).
EVIDENCE_SIDE = 128
EVIDENCE_NAMES = ("mean_y", "std_y", "mean_cb", "std_cb", "mean_cr", "std_cr", "skin_fraction", "saturation",
                  "log_texture")

#: Quality findings that make a photo impossible to judge, and so ask for a retake. The order is the order of
#: the reasons given. ``lesion_touches_border`` stays a warning: in 10 % of the real validation photos the lesion
#: (ground-truth mask) touches the frame by that rule, and 2 % even with a six times stricter one — dermoscopy
#: photos often show a large lesion filling the frame — so refusing them would break the ≤ 3 % budget alone.
RETAKE_CODES: tuple[str, ...] = (QualityCode.TOO_DARK, QualityCode.TOO_BRIGHT, QualityCode.BLURRED,
                                 QualityCode.TOO_SMALL, QualityCode.NO_LESION_FOUND)


class Verdict(StrEnum):
    OK = "ok"
    RETAKE = "retake"
    NOT_A_LESION = "not_a_lesion"


@dataclass(frozen=True, slots=True)
class VerdictResult:
    verdict: Verdict
    reasons: tuple[str, ...]  # quality codes for ``retake``; ("not_skin_like",) for ``not_a_lesion``; () when ok
    likeness_distance: float | None  # Mahalanobis distance of the photo's statistics (None: no calibration)

    def as_dict(self) -> dict[str, Any]:
        return {"verdict": str(self.verdict), "reasons": list(self.reasons),
                "likeness_distance": self.likeness_distance}


def photo_evidence(pixels: np.ndarray) -> np.ndarray:
    """Nine colour and texture statistics of a uint8 H×W×3 photo (see ``EVIDENCE_NAMES``), as float64."""
    image = Image.fromarray(np.asarray(pixels, dtype=np.uint8)[..., :3])
    scale = EVIDENCE_SIDE / max(image.size)
    if scale < 1:
        image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))),
                             Image.Resampling.BOX)
    ycbcr = np.asarray(image.convert("YCbCr"), dtype=np.float64)
    y, cb, cr = ycbcr[..., 0], ycbcr[..., 1], ycbcr[..., 2]
    skin = (cb >= 77) & (cb <= 127) & (cr >= 133) & (cr <= 173)  # the classic YCbCr skin box (Chai & Ngan, 1999)
    saturation = np.asarray(image.convert("HSV"), dtype=np.float64)[..., 1]
    return np.array([y.mean(), y.std(), cb.mean(), cb.std(), cr.mean(), cr.std(), skin.mean(),
                     saturation.mean(), np.log1p(blur_score(y))])


#: The envelope of a kind's training photos, widened by this share of each statistic's span: a photo outside it
#: (a text render's stroke texture, a street scene's contrast, a flat colour's missing texture) is not like that
#: kind's photos however near its Gaussian says it is — a Gaussian is symmetric and broad where real photos vary.
ENVELOPE_MARGIN = 0.05


@dataclass(frozen=True)
class LikenessComponent:
    """One more kind of real lesion photo (e.g. phone close-ups beside dermoscopic ones): its own Gaussian and
    threshold, and the envelope (per-statistic low/high) of its training photos."""

    kind: str
    mean: np.ndarray
    precision: np.ndarray
    threshold: float
    low: np.ndarray | None = None
    high: np.ndarray | None = None


def _mahalanobis(evidence: np.ndarray, mean: np.ndarray, precision: np.ndarray) -> np.ndarray:
    delta = np.atleast_2d(evidence) - mean
    return np.sqrt(np.maximum(0.0, np.einsum("ni,ij,nj->n", delta, precision, delta)))


def envelope(evidence: np.ndarray, margin: float = ENVELOPE_MARGIN) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) per statistic of training photos' ``evidence``, widened by ``margin`` of each span."""
    low, high = evidence.min(axis=0), evidence.max(axis=0)
    span = np.maximum(high - low, 1e-9)
    return low - margin * span, high + margin * span


def _outside(evidence: np.ndarray, low: np.ndarray | None, high: np.ndarray | None) -> np.ndarray:
    """How far each photo lies outside the envelope, in spans of it (0 inside)."""
    evidence = np.atleast_2d(evidence)
    if low is None or high is None:
        return np.zeros(len(evidence))
    span = np.maximum(high - low, 1e-9)
    return np.maximum(np.maximum(low - evidence, evidence - high) / span, 0.0).max(axis=1)


@dataclass(frozen=True)
class LesionLikeness:
    """A Gaussian over :func:`photo_evidence` of real lesion photos, and the distance beyond which a photo is
    judged not to be one; with ``others``, one Gaussian per kind of photo (dermoscopic first, then phone
    close-ups), and a photo is like a lesion photo when it is within the threshold of any of them. The distance
    reported is the nearest kind's, in the first kind's scale (distance / that kind's threshold × ``threshold``),
    so ``threshold`` stays the one line."""

    mean: np.ndarray
    precision: np.ndarray  # inverse covariance
    threshold: float
    provenance: dict[str, Any]
    others: tuple[LikenessComponent, ...] = ()
    kind: str = "dermoscopic"
    low: np.ndarray | None = None  # the envelope of this kind's training photos (ENVELOPE_MARGIN); None: none
    high: np.ndarray | None = None

    def distance(self, pixels: np.ndarray) -> float:
        return float(self.distances(photo_evidence(pixels))[0])

    def distances(self, evidence: np.ndarray) -> np.ndarray:
        """Per photo, the distance to the nearest kind (in the first kind's scale); a photo outside a kind's
        envelope is beyond that kind's threshold by how far it lies outside."""
        first = LikenessComponent(self.kind, self.mean, self.precision, self.threshold, self.low, self.high)
        nearest = np.full(len(np.atleast_2d(evidence)), np.inf)
        for component in (first, *self.others):
            scaled = _mahalanobis(evidence, component.mean, component.precision) * (self.threshold /
                                                                                      component.threshold)
            outside = _outside(evidence, component.low, component.high)
            scaled = np.where(outside > 0, np.maximum(scaled, self.threshold * (1.0 + outside)), scaled)
            nearest = np.minimum(nearest, scaled)
        return nearest

    def to_json(self) -> str:
        def box(low: np.ndarray | None, high: np.ndarray | None) -> dict[str, Any]:
            return {} if low is None or high is None else {"low": low.tolist(), "high": high.tolist()}

        return json.dumps({"names": list(EVIDENCE_NAMES), "kind": self.kind, "mean": self.mean.tolist(),
                           "precision": self.precision.tolist(), "threshold": self.threshold,
                           **box(self.low, self.high),
                           "others": [{"kind": o.kind, "mean": o.mean.tolist(), "precision": o.precision.tolist(),
                                       "threshold": o.threshold, **box(o.low, o.high)} for o in self.others],
                           "provenance": self.provenance}, indent=1) + "\n"

    @classmethod
    def load(cls, path: Path = LIKENESS_FILE) -> LesionLikeness | None:
        """The calibration in ``path``; None when there is none (then no photo is judged not to be a lesion)."""
        if not path.exists():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        if tuple(data.get("names", ())) != EVIDENCE_NAMES:
            raise ValueError(f"{path} was calibrated on other statistics {data.get('names')}; run "
                             "`drskin calibrate-verdict` again")
        def array(block: dict[str, Any], key: str) -> np.ndarray | None:
            return np.asarray(block[key], dtype=np.float64) if key in block else None

        others = tuple(LikenessComponent(str(o["kind"]), np.asarray(o["mean"], dtype=np.float64),
                                         np.asarray(o["precision"], dtype=np.float64), float(o["threshold"]),
                                         array(o, "low"), array(o, "high"))
                       for o in data.get("others", ()))
        return cls(np.asarray(data["mean"], dtype=np.float64), np.asarray(data["precision"], dtype=np.float64),
                   float(data["threshold"]), dict(data.get("provenance", {})), others,
                   str(data.get("kind", "dermoscopic")), array(data, "low"), array(data, "high"))


def decide(quality_codes: list[str] | tuple[str, ...], likeness_distance: float | None,
           likeness: LesionLikeness | None) -> VerdictResult:
    """The verdict from the photo-quality findings and the likeness distance.

    A photo too dark, bright or blurred to see is a retake whatever it shows. Otherwise a photo far from every
    lesion photo is not a lesion (retaking it will not help); otherwise any other blocking finding (too small, no
    lesion found) is a retake."""
    found = set(quality_codes)
    unseeable = [c for c in RETAKE_CODES[:3] if c in found]
    if unseeable:
        return VerdictResult(Verdict.RETAKE, tuple(unseeable), likeness_distance)
    if likeness is not None and likeness_distance is not None and likeness_distance > likeness.threshold:
        return VerdictResult(Verdict.NOT_A_LESION, ("not_skin_like",), likeness_distance)
    blocking = tuple(c for c in RETAKE_CODES if c in found)
    if blocking:
        return VerdictResult(Verdict.RETAKE, blocking, likeness_distance)
    return VerdictResult(Verdict.OK, (), likeness_distance)
