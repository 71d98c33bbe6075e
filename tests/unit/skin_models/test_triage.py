"""Triage levels from class probabilities."""

from __future__ import annotations

import numpy as np
import pytest

from skin_models.labels import CLASS_CODES
from skin_models.triage import TriageLevel, TriageResult, triage


def probs(**values: float) -> dict[str, float]:
    """Probabilities for the seven classes; whatever ``values`` leave over goes to nv."""
    full = dict.fromkeys(CLASS_CODES, 0.0)
    full.update(values)
    full["nv"] += 1.0 - sum(full.values())
    return full


def test_low_when_concerning_is_below_threshold() -> None:
    result = triage(probs(mel=0.05, bcc=0.03, akiec=0.02, bkl=0.1), threshold=0.3)
    assert result.level is TriageLevel.LOW and result.level == "low"
    assert result.concerning_probability == pytest.approx(0.10)
    assert result.top_label == "nv"
    assert "10%" in result.reason and "30%" in result.reason and result.reason_code == "below_threshold"
    assert "photograph" in result.advice and "month" in result.advice and "ABCDE" in result.advice


def test_medium_between_threshold_and_one_half() -> None:
    result = triage(probs(mel=0.1, bcc=0.15, akiec=0.05), threshold=0.3)
    assert result.level is TriageLevel.MEDIUM
    assert result.concerning_probability == pytest.approx(0.30)  # at the threshold counts
    assert result.reason_code == "above_threshold" and result.as_dict()["reason_code"] == "above_threshold"
    assert "checked by a doctor" in result.advice


def test_high_at_one_half_or_above() -> None:
    result = triage(probs(mel=0.2, bcc=0.2, akiec=0.1), threshold=0.3)
    assert result.level is TriageLevel.HIGH and result.reason_code == "high_concern"
    assert result.top_label == "nv"
    assert "dermatologist" in result.advice and "two weeks" in result.advice


def test_threshold_above_one_half_raises_the_high_bar() -> None:
    assert triage(probs(bcc=0.55), threshold=0.6).level is TriageLevel.LOW
    assert triage(probs(bcc=0.65), threshold=0.6).level is TriageLevel.HIGH


def test_melanoma_on_top_is_high_even_below_the_threshold() -> None:
    spread = {"mel": 0.22, "nv": 0.2, "bcc": 0.02, "akiec": 0.02, "bkl": 0.2, "df": 0.17, "vasc": 0.17}
    result = triage(spread, threshold=0.3)
    assert result.top_label == "mel"
    assert result.concerning_probability < 0.3
    assert result.level is TriageLevel.HIGH
    assert "Melanoma is the most likely" in result.reason and result.reason_code == "melanoma_most_likely"


def test_array_input_in_code_order_and_custom_codes() -> None:
    row = np.array([0.02, 0.9, 0.02, 0.02, 0.02, 0.01, 0.01])
    assert triage(row, threshold=0.25).level is TriageLevel.LOW
    reordered = ("nv", "mel", "bcc", "akiec", "bkl", "df", "vasc")
    result = triage(np.array([0.4, 0.1, 0.3, 0.1, 0.05, 0.03, 0.02]), threshold=0.25, codes=reordered)
    assert result.concerning_probability == pytest.approx(0.5) and result.level is TriageLevel.HIGH


def test_dict_keys_may_be_isic_columns() -> None:
    upper = {code.upper(): p for code, p in probs(mel=0.3).items()}
    assert triage(upper, threshold=0.2).concerning_probability == pytest.approx(0.3)


@pytest.mark.parametrize("threshold", [0.0, 1.0, -0.1, 1.5, float("nan"), "0.3"])
def test_threshold_must_be_strictly_between_zero_and_one(threshold: object) -> None:
    with pytest.raises(ValueError, match="threshold"):
        triage(probs(), threshold=threshold)  # type: ignore[arg-type]


def test_probabilities_are_validated() -> None:
    with pytest.raises(ValueError, match="missing"):
        triage({"mel": 1.0}, threshold=0.3)
    with pytest.raises(ValueError, match="sum to 1"):
        triage(np.full(7, 0.5), threshold=0.3)
    with pytest.raises(ValueError, match="softmax"):
        triage(np.full(7, 0.1), threshold=0.3)
    with pytest.raises(ValueError, match="between 0 and 1"):
        triage(np.array([1.2, -0.2, 0, 0, 0, 0, 0]), threshold=0.3)
    with pytest.raises(ValueError):
        triage(np.array([0.5, 0.5]), threshold=0.3)
    with pytest.raises(ValueError):
        triage(np.array([np.nan, 1, 0, 0, 0, 0, 0]), threshold=0.3)


def test_advice_never_claims_a_diagnosis() -> None:
    for p in (probs(), probs(bcc=0.35), probs(mel=0.9)):
        result = triage(p, threshold=0.3)
        assert "not a diagnosis" in result.advice
        assert "you have" not in (result.advice + result.reason).lower()


def test_as_dict_matches_the_service_contract() -> None:
    result = triage(probs(bcc=0.35), threshold=0.3)
    assert isinstance(result, TriageResult)
    assert result.as_dict() == {
        "level": "medium",
        "reason": result.reason,
        "reason_code": "above_threshold",
        "advice": result.advice,
        "concerning_probability": pytest.approx(0.35),
        "threshold": 0.3,
        "red_flags": [],
    }
    from skin_models.contract import Triage

    assert Triage.model_validate(result.as_dict()).reason_code == "above_threshold"  # the wire shape
