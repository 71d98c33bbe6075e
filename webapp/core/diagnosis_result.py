"""The site's one reading of a diagnosis: the service's ``/diagnose`` answer as a typed, versioned result.

``ServiceClient.diagnose`` validates the answer against the API contract (``skin_models.contract``) and hands on a
``DiagnoseResponse``; a judged answer (verdict ``ok``) becomes a ``DiagnosisResult`` with ``from_answer``, which is
what the site stores (``Diagnosis.result``, the 30-minute keep of an anonymous result) and what every page, the
community, the compare view and the PDF read, by attribute.

Stored rows are JSON documents of whatever shape the site stored when they were written. ``load_result`` is the
one place that reads them: ``upgrade`` brings a document of any older shape to the current one (``RESULT_VERSION``),
then the contract's models validate it. The shapes the site has stored (git history of ``webapp/diagnoses`` and the
service's answer):

1. untagged (no ``result_version``), written 2026-11-24 to today, in these variants:
   - the first answers (2026-11-24): no ``verdict``, ``message`` or ``diagnostics``; a classification without
     them and without ``patient_context``; a triage without ``reason_code``; a segmentation with ``mask_png``, no
     ``outline`` (the site kept the outlined copy as its own photo row, ``Diagnosis.overlay_id``) and, until the
     photo was scaled to 1024 px (012a1b2), no ``original_width`` / ``original_height``;
   - with a verdict (3b88749), an ``explanation`` (67513b9), ``patient_context`` (97bbf43);
   - lean answers (ae63d02): an ``outline`` and no PNG or mask stored; a triage ``reason_code`` (b1fe2e1).
2. ``result_version: 2``: a ``DiagnosisResult``'s own dump.

Nothing is invented for people: a field an old answer lacked becomes what the service would have said then (no
context given, no explanation, no outline), and a triage reason code is read off the stored level and top class by
the rule the service applies (``skin_models.triage``). A document that cannot be read raises
``UnreadableResult``; the site never fills in a missing verdict, classification or triage.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import ValidationError, model_validator

from skin_models.contract import (
    ClassifyResponse,
    DiagnoseResponse,
    MaskRLE,
    Measurements,
    SegmentResponse,
    Triage,
)
from skin_models.labels import CLASS_CODES, get_label

RESULT_VERSION = 2
_NOT_STORED = ("mask_rle", "mask_png", "overlay_png")  # see StoredSegmentation

__all__ = ["RESULT_VERSION", "DiagnosisResult", "StoredSegmentation", "UnreadableResult", "load_result", "upgrade"]


class UnreadableResult(ValueError):
    """A stored result of no shape the site knows (a damaged row): an error, never a guess at what it said."""


class StoredSegmentation(SegmentResponse):
    """``/diagnose``'s segmentation as the site keeps it: the outline polygon, not the mask (the site draws the
    outline itself and never reads the mask's pixels, so it stores none of them)."""

    mask_rle: MaskRLE | None = None  # type: ignore[assignment]  # kept out of storage, see the class docstring


class DiagnosisResult(DiagnoseResponse):
    """A judged ``/diagnose`` answer (verdict ``ok``): classification and triage always present."""

    result_version: int = RESULT_VERSION
    classification: ClassifyResponse
    triage: Triage
    segmentation: StoredSegmentation

    @model_validator(mode="after")
    def _judged(self) -> DiagnosisResult:
        if self.verdict != "ok" or self.classification.probabilities is None or self.classification.label is None:
            raise ValueError("only a judged answer (verdict 'ok', with probabilities and a label) is a result")
        return self

    @classmethod
    def from_answer(cls, answer: DiagnoseResponse) -> DiagnosisResult:
        """The result of a judged answer, without the mask and the PNGs (see ``StoredSegmentation``)."""
        if answer.verdict != "ok":
            raise ValueError(f"a {answer.verdict!r} answer carries no result")
        return cls.model_validate(answer.model_dump(mode="json", exclude={"segmentation": set(_NOT_STORED)}))

    def stored(self) -> dict[str, Any]:
        """The JSON document to store (``load_result`` reads it back); no mask or PNG keys."""
        return self.model_dump(mode="json", exclude={"segmentation": set(_NOT_STORED)})

    # -- what every reader needs, typed -------------------------------------------------------------------------
    @property
    def label(self) -> str:
        """The most probable class code."""
        assert self.classification.label is not None  # checked by _judged
        return self.classification.label

    @property
    def probabilities(self) -> dict[str, float]:
        """All seven class probabilities by code, in ``CLASS_CODES`` order (0 for a code the answer lacks)."""
        given = self.classification.probabilities or {}
        return {code: float(given.get(code, 0.0)) for code in CLASS_CODES}

    @property
    def synthetic(self) -> bool:
        """Whether a model that answered was trained on synthetic images only."""
        return (self.classification.synthetic_model or self.segmentation.synthetic_model
                or any(model.synthetic for model in self.models))

    @property
    def measurements(self) -> Measurements | None:
        """The lesion's measurements; None when no lesion was outlined (the answer's zeros mean nothing)."""
        return self.segmentation.measurements if self.segmentation.lesion_found else None

    @property
    def area_fraction(self) -> float | None:
        return self.segmentation.area_fraction if self.segmentation.lesion_found else None


def load_result(document: Any) -> DiagnosisResult:
    """A stored result document of any shape the site has stored, as the current ``DiagnosisResult``."""
    if isinstance(document, DiagnosisResult):
        return document
    try:
        return DiagnosisResult.model_validate(upgrade(document))
    except (ValidationError, TypeError, KeyError, ValueError) as exc:
        raise UnreadableResult(f"a stored diagnosis result of no known shape: {str(exc)[:300]}") from exc


def upgrade(document: Any) -> dict[str, Any]:
    """A stored result document brought to ``RESULT_VERSION`` (a copy; see the module docstring for the shapes)."""
    if not isinstance(document, dict):
        raise UnreadableResult(f"a stored result is a JSON object, not {type(document).__name__}")
    version = document.get("result_version", 1)
    if version == RESULT_VERSION:
        return copy.deepcopy(document)
    if version != 1:
        raise UnreadableResult(f"result_version {version!r} is newer than this site knows ({RESULT_VERSION})")
    return _upgrade_untagged(document)


_NO_LIKENESS = {"likeness_distance": None, "likeness_threshold": None}
_NO_CONTEXT = {"age": None, "sex": None, "site": None, "applied": False}  # the site sent none before 97bbf43


def _upgrade_untagged(old: dict[str, Any]) -> dict[str, Any]:
    """Version 1 (every untagged variant) to 2. Raises ``KeyError`` / ``TypeError`` for what no variant lacked."""
    if old.get("verdict", "ok") != "ok":
        raise UnreadableResult("a stored result must be a judged answer (verdict 'ok')")
    classification = dict(old["classification"])
    segmentation = {key: value for key, value in dict(old["segmentation"]).items() if key not in _NOT_STORED}
    triage = dict(old["triage"])
    probabilities = {str(code): float(p) for code, p in dict(classification["probabilities"]).items()}
    diagnostics = old.get("diagnostics") or dict(_NO_LIKENESS)

    classification.setdefault("verdict", "ok")
    classification.setdefault("verdict_reasons", [])
    classification.setdefault("message", "")
    classification.setdefault("diagnostics", diagnostics)
    classification.setdefault("patient_context", dict(_NO_CONTEXT))
    if "top3" not in classification:
        ranked = sorted(probabilities, key=lambda code: probabilities[code], reverse=True)[:3]
        classification["top3"] = [{"label": code, "label_name": get_label(code).name_en,
                                   "probability": probabilities[code]} for code in ranked]

    measured = segmentation.get("measurements") or {}
    segmentation.setdefault("area_fraction", measured.get("area_fraction", 0.0))
    segmentation.setdefault("original_width", segmentation["width"])  # before 012a1b2 the photo was not scaled
    segmentation.setdefault("original_height", segmentation["height"])
    segmentation.setdefault("outline", [])  # the outlined copy is the row's overlay photo
    segmentation.setdefault("bbox", None)

    triage.setdefault("reason_code", _reason_code(str(triage["level"]), str(classification["label"])))

    models = old.get("models")
    if not models:  # the site's first rows built the list from the two parts' models
        models = [dict(part["model"]) | {"synthetic": bool(part.get("synthetic_model"))}
                  for part in (classification, segmentation) if part.get("model")]
    return {**old, "result_version": RESULT_VERSION, "verdict": "ok", "verdict_reasons": [],
            "message": old.get("message", ""), "classification": classification, "segmentation": segmentation,
            "triage": triage, "diagnostics": diagnostics, "explanation": old.get("explanation"),
            "quality": old.get("quality") or {"warnings": []}, "models": models}


def _reason_code(level: str, top: str) -> str:
    """The reason code the service's triage rule (``skin_models.triage``) gives with a level: high with melanoma on
    top is ``melanoma_most_likely``, else ``high_concern``; medium is ``above_threshold``, low ``below_threshold``."""
    if level == "high":
        return "melanoma_most_likely" if top == "mel" else "high_concern"
    return {"medium": "above_threshold", "low": "below_threshold"}[level]

