"""The typed result: one loader for stored rows of every shape the site has ever stored (git history of
``webapp/diagnoses`` and the service's answer), and nothing invented for what a row lacks."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from skin_models.contract import DiagnoseResponse
from tests.fixtures.contract import diagnose_answer
from webapp.core.diagnosis_result import RESULT_VERSION, DiagnosisResult, UnreadableResult, load_result, upgrade
from webapp.diagnoses.views import build_outline, build_result_view


def _current() -> dict[str, Any]:
    """What the site stores today (``result_version`` 2)."""
    return DiagnosisResult.from_answer(DiagnoseResponse.model_validate(diagnose_answer())).stored()


def _lean_without_reason_code() -> dict[str, Any]:
    """ae63d02 (2026-11-29): the lean answer (outline, no PNGs stored), before the triage's reason_code."""
    answer = diagnose_answer()
    del answer["segmentation"]["mask_rle"], answer["segmentation"]["mask_png"], answer["segmentation"]["overlay_png"]
    del answer["triage"]["reason_code"]
    return answer


def _with_context_and_mask_png() -> dict[str, Any]:
    """97bbf43: patient_context, an explanation; the stored segmentation kept mask_png (only overlay_png was
    taken out, into its own photo row) and had no outline."""
    answer = _lean_without_reason_code()
    del answer["segmentation"]["outline"]
    answer["segmentation"]["mask_png"] = "iVBORw0KGgo="
    return answer


def _with_verdict() -> dict[str, Any]:
    """3b88749: a verdict, diagnostics; no explanation (67513b9) and no patient_context (97bbf43) yet."""
    answer = _with_context_and_mask_png()
    del answer["explanation"], answer["classification"]["patient_context"]
    return answer


def _scaled() -> dict[str, Any]:
    """012a1b2 (2026-11-24): original_width/height; no verdict, message or diagnostics anywhere."""
    answer = _with_verdict()
    for part in (answer, answer["classification"]):
        for key in ("verdict", "verdict_reasons", "message", "diagnostics"):
            del part[key]
    return answer


def _first() -> dict[str, Any]:
    """d73151c (2026-11-24), the site's first rows: the photo's size only (it was not scaled yet)."""
    answer = _scaled()
    del answer["segmentation"]["original_width"], answer["segmentation"]["original_height"]
    answer["segmentation"]["width"], answer["segmentation"]["height"] = 4032, 3024
    return answer


SHAPES = {"current": _current, "lean-without-reason-code": _lean_without_reason_code,
          "context-and-mask-png": _with_context_and_mask_png, "verdict": _with_verdict, "scaled": _scaled,
          "first": _first}


@pytest.mark.parametrize("shape", SHAPES)
def test_rows_of_every_stored_shape_load_into_the_typed_result(shape: str) -> None:
    document = SHAPES[shape]()
    before = copy.deepcopy(document)
    result = load_result(document)
    assert document == before  # the loader reads; it never rewrites the row
    assert result.result_version == RESULT_VERSION and result.verdict == "ok"
    assert result.label == "nv" and result.probabilities["nv"] == pytest.approx(0.81)
    assert result.triage.level == "low" and result.triage.reason_code == "below_threshold"
    assert result.segmentation.mask_rle is None and result.segmentation.mask_png is None
    assert result.measurements is not None and result.measurements.border_irregularity == pytest.approx(1.31)
    assert [model.name for model in result.models] == ["skin-classifier", "skin-segmenter"]
    # Every page builds from it (the result page, hence the PDF; the outline the compare view draws).
    view = build_result_view(result)
    assert len(view.bars) == 7 and view.triage_reason.startswith("The estimated chance")
    has_outline = "outline" in document["segmentation"]
    assert (build_outline(result.segmentation) is not None) == has_outline
    assert (view.heat is not None) == ("explanation" in document)
    # A stored upgraded result reads back the same (the upgrade is done once, then it is the current shape).
    assert load_result(result.stored()) == result
    if "patient_context" not in document["classification"]:  # the site sent no context before 97bbf43
        assert view.context_note.startswith("Judged from the photo alone")


def test_the_first_rows_models_and_sizes_are_read_from_what_they_had() -> None:
    first = _first()
    del first["models"]  # the site's very first fallback: the two parts' own models
    result = load_result(first)
    assert [(m.name, m.synthetic) for m in result.models] == [("skin-classifier", False), ("skin-segmenter", False)]
    assert (result.segmentation.original_width, result.segmentation.original_height) == (4032, 3024)
    assert result.explanation is None and result.quality.warnings[0].code == "lesion_touches_border"


@pytest.mark.parametrize(("level", "label", "code"), [
    ("high", "mel", "melanoma_most_likely"), ("high", "bcc", "high_concern"), ("medium", "nv", "above_threshold"),
    ("low", "nv", "below_threshold")])
def test_an_old_rows_reason_code_is_the_services_rule_read_off_its_level(level: str, label: str, code: str) -> None:
    row = _lean_without_reason_code()
    row["triage"]["level"], row["classification"]["label"] = level, label
    assert load_result(row).triage.reason_code == code


@pytest.mark.parametrize("damage", ["no triage", "no level", "no classification", "retake", "newer", "not a dict"])
def test_a_damaged_row_is_unreadable_never_a_guessed_medium(damage: str) -> None:
    """Bug 4 of issue 28: the site used to read a row without a triage as "medium"."""
    row: Any = _lean_without_reason_code()
    if damage == "no triage":
        row["triage"] = None
    elif damage == "no level":
        del row["triage"]["level"]
    elif damage == "no classification":
        del row["classification"]
    elif damage == "retake":
        row["verdict"] = "retake"
    elif damage == "newer":
        row = {**_current(), "result_version": RESULT_VERSION + 1}
    else:
        row = ["a", "list"]
    with pytest.raises(UnreadableResult):
        load_result(row)


def test_upgrade_of_a_current_row_is_a_copy() -> None:
    current = _current()
    upgraded = upgrade(current)
    assert upgraded == current and upgraded is not current
