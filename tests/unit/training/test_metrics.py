"""ISIC metrics against hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from training.calibration import choose_triage_threshold, fit_temperature
from training.metrics import (
    balanced_accuracy,
    binary_auc,
    classification_metrics,
    dice_iou,
    segmentation_metrics,
)


def test_balanced_accuracy_is_mean_recall() -> None:
    # class 0: 3 of 4 right; class 1: 1 of 2 right → (0.75 + 0.5) / 2
    y_true = np.array([0, 0, 0, 0, 1, 1])
    y_pred = np.array([0, 0, 0, 1, 1, 0])
    assert balanced_accuracy(y_true, y_pred, 7) == pytest.approx(0.625)


def test_auc_hand_computed_with_ties() -> None:
    # positives 0.9, 0.5; negatives 0.5, 0.1 → pairs: (0.9>0.5)1 (0.9>0.1)1 (0.5=0.5)0.5 (0.5>0.1)1 = 3.5/4
    assert binary_auc(np.array([0.9, 0.5, 0.5, 0.1]), np.array([1, 1, 0, 0], bool)) == pytest.approx(0.875)
    assert np.isnan(binary_auc(np.array([0.3, 0.2]), np.array([1, 1], bool)))


def test_classification_metrics_malignant_sensitivity() -> None:
    # order mel, nv, bcc, akiec, bkl, df, vasc
    probs = np.array([
        [0.7, 0.3, 0, 0, 0, 0, 0],  # mel, flagged at 0.5
        [0.2, 0.8, 0, 0, 0, 0, 0],  # mel, missed
        [0.1, 0.9, 0, 0, 0, 0, 0],  # nv, not flagged
        [0.0, 0.4, 0.6, 0, 0, 0, 0],  # nv, flagged (false alarm)
    ])
    y_true = np.array([0, 0, 1, 1])
    result = classification_metrics(y_true, probs, triage_threshold=0.5)
    assert result["malignant_sensitivity"] == pytest.approx(0.5)
    assert result["malignant_specificity"] == pytest.approx(0.5)
    assert result["per_class"]["mel"]["recall"] == pytest.approx(0.5)
    assert result["per_class"]["nv"]["precision"] == pytest.approx(0.5)
    assert result["accuracy"] == pytest.approx(0.5)
    assert result["balanced_accuracy"] == pytest.approx(0.5)


def test_dice_iou_and_thresholded_jaccard() -> None:
    a = np.zeros((10, 10), bool)
    a[:, :5] = True
    b = np.zeros((10, 10), bool)
    b[:, :4] = True
    dice, iou = dice_iou(a, b)
    assert iou == pytest.approx(40 / 50)
    assert dice == pytest.approx(80 / 90)
    c = np.zeros((10, 10), bool)
    c[:, :2] = True  # IoU 0.4 with a → counts 0 in thresholded Jaccard
    result = segmentation_metrics([b, c], [a, a])
    assert result["iou"] == pytest.approx((0.8 + 0.4) / 2)
    assert result["thresholded_jaccard"] == pytest.approx(0.8 / 2)
    with pytest.raises(ValueError, match="shapes differ"):
        dice_iou(a, np.zeros((5, 5), bool))


def test_temperature_recovers_overconfidence() -> None:
    rng = np.random.default_rng(0)
    n = 4000
    y = rng.integers(0, 7, n)
    true_logits = rng.normal(size=(n, 7))
    true_logits[np.arange(n), y] += 1.5
    probs = np.exp(true_logits) / np.exp(true_logits).sum(1, keepdims=True)
    labels = np.array([rng.choice(7, p=p) for p in probs])
    # the model reports logits 3x too sharp; the fitted temperature should undo it
    temperature = fit_temperature(true_logits * 3.0, labels)
    assert 2.4 < temperature < 3.6


def test_triage_threshold_keeps_sensitivity() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 7, 500)
    probs = rng.dirichlet(np.ones(7), 500)
    threshold = choose_triage_threshold(probs, y, min_sensitivity=0.9)
    concerning = np.isin(y, [0, 2, 3])
    scores = probs[:, [0, 2, 3]].sum(1)
    assert (scores[concerning] >= threshold).mean() >= 0.9


def test_bootstrap_intervals_hold_the_estimate_and_respect_lesions() -> None:
    from training.metrics import balanced_accuracy, bootstrap_intervals

    rng = np.random.default_rng(0)
    y_true = np.repeat(np.arange(7), 20)
    correct = rng.random(len(y_true)) < 0.7
    y_pred = np.where(correct, y_true, (y_true + 1) % 7)
    probs = np.eye(7)[y_pred] * 0.9 + 0.1 / 7
    point = balanced_accuracy(y_true, y_pred)
    intervals = bootstrap_intervals(y_true, probs, triage_threshold=0.5)
    low, high = intervals["balanced_accuracy"]
    assert low < point < high and 0.05 < high - low < 0.4
    assert set(intervals) == {"balanced_accuracy", "mel_recall", "malignant_sensitivity", "malignant_specificity"}
    perfect = bootstrap_intervals(y_true, np.eye(7)[y_true])
    assert perfect["balanced_accuracy"] == [1.0, 1.0] and perfect["mel_recall"] == [1.0, 1.0]
    # Five photos of each lesion are one observation, not five: resampling lesions gives a wider interval than
    # pretending the photos were independent.
    repeated = (np.repeat(y_true, 5), np.repeat(probs, 5, axis=0))
    lesions = [f"L{i}" for i in range(len(y_true)) for _ in range(5)]
    naive = bootstrap_intervals(*repeated)["balanced_accuracy"]
    grouped = bootstrap_intervals(*repeated, groups=lesions)["balanced_accuracy"]
    assert grouped[1] - grouped[0] > 1.5 * (naive[1] - naive[0])


def test_calibration_error_and_log_loss_are_reported() -> None:
    from training.metrics import expected_calibration_error

    y = np.array([0, 0, 0, 1])
    honest = np.array([[0.75, 0.25]] * 4)  # 75 % sure, right 3 times in 4: calibrated
    assert expected_calibration_error(y, honest) == pytest.approx(0.0)
    overconfident = np.array([[0.99, 0.01]] * 4)
    assert expected_calibration_error(y, overconfident) == pytest.approx(0.24)
    found = classification_metrics(y, overconfident, labels=("mel", "nv"))
    assert found["ece"] == pytest.approx(0.24)
    assert found["log_loss"] == pytest.approx((3 * -np.log(0.99) - np.log(0.01)) / 4)
