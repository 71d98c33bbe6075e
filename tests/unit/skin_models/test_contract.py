"""The API contract (``skin_models.contract``): a realistic ``/diagnose`` answer round-trips through the models,
malformed ones are refused, and importing the contract pulls in no model stack."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from pydantic import ValidationError

from skin_models.contract import (
    DEFAULT_MAX_SIDE,
    ClassifyResponse,
    DiagnoseResponse,
    InfoResponse,
    SegmentResponse,
)
from skin_models.labels import CLASS_CODES
from tests.fixtures.contract import PROBABILITIES
from tests.fixtures.contract import diagnose_answer as _diagnosis


def test_a_realistic_diagnosis_round_trips() -> None:
    sent = _diagnosis()
    parsed = DiagnoseResponse.model_validate(sent)
    assert parsed.classification is not None and parsed.classification.top3 is not None
    assert parsed.classification.top3[0].label == "nv" and parsed.triage is not None and parsed.triage.level == "low"
    assert parsed.segmentation.bbox is not None and parsed.segmentation.bbox.width == 300
    assert json.loads(parsed.model_dump_json()) == sent  # every field kept, nothing added
    assert DiagnoseResponse.model_validate_json(parsed.model_dump_json()) == parsed
    assert set(sent["classification"]["probabilities"]) == set(CLASS_CODES)


def test_an_unjudged_diagnosis_carries_no_result() -> None:
    sent = _diagnosis()
    sent.update(verdict="retake", verdict_reasons=["too_dark"], classification=None, triage=None, explanation=None)
    sent["diagnostics"] = {**sent["diagnostics"], "unjudged_probabilities": PROBABILITIES}
    parsed = DiagnoseResponse.model_validate(sent)
    assert parsed.classification is None and parsed.diagnostics.unjudged_probabilities == PROBABILITIES
    assert json.loads(parsed.model_dump_json()) == sent


@pytest.mark.parametrize("break_it", [
    pytest.param(lambda d: d.pop("verdict"), id="no verdict"),
    pytest.param(lambda d: d.update(verdict="maybe"), id="unknown verdict"),
    pytest.param(lambda d: d["classification"]["top3"][0].update(probability=1.5), id="probability over 1"),
    pytest.param(lambda d: d["classification"]["top3"][0].update(probability=-0.1), id="negative probability"),
    pytest.param(lambda d: d["triage"].update(level="urgent"), id="unknown triage level"),
    pytest.param(lambda d: d["segmentation"].pop("mask_rle"), id="no mask"),
    pytest.param(lambda d: d["segmentation"].update(outline=[[1, 2, 3]]), id="an outline point of three numbers"),
    pytest.param(lambda d: d.pop("disclaimer"), id="no disclaimer"),
    pytest.param(lambda d: d["models"][0].pop("synthetic"), id="model without its synthetic flag"),
])
def test_a_malformed_diagnosis_is_refused(break_it: Any) -> None:
    sent = _diagnosis()
    break_it(sent)
    with pytest.raises(ValidationError):
        DiagnoseResponse.model_validate(sent)


def test_the_response_shapes_keep_their_field_names() -> None:
    """What the site and API users read: renaming a field here breaks them."""
    assert set(DiagnoseResponse.model_fields) == {
        "verdict", "verdict_reasons", "message", "classification", "segmentation", "triage", "diagnostics",
        "explanation", "quality", "models", "disclaimer", "photo_kind"}
    assert {"label", "probabilities", "top3", "patient_context", "photo_kind", "model", "synthetic_model"} <= set(
        ClassifyResponse.model_fields)
    assert {"width", "height", "original_width", "original_height", "mask_rle", "outline", "mask_png", "overlay_png",
            "bbox",
            "measurements"} <= set(SegmentResponse.model_fields)
    assert set(InfoResponse.model_fields) == {"models", "synthetic"}
    assert "DRSKIN_MAX_SIDE" in (SegmentResponse.model_fields["width"].description or "")


def test_the_default_max_side_is_the_pipelines() -> None:
    from skin_models.pipeline import MAX_SIDE

    assert DEFAULT_MAX_SIDE == MAX_SIDE


def test_importing_the_contract_pulls_in_no_model_stack() -> None:
    code = ("import sys, skin_models.contract; heavy = {'numpy', 'PIL', 'torch', 'scipy', 'bentoml', 'starlette'}; "
            "print(sorted(heavy & {name.split('.')[0] for name in sys.modules}))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.strip() == "[]"
