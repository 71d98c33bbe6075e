"""ISIC-style metrics.

Classification follows ISIC 2018 Task 3: the headline is balanced multiclass accuracy, the mean of per-class
recall (sensitivity). Segmentation follows ISIC 2018 Task 1: per-image Jaccard, and the *thresholded* Jaccard
where an image whose Jaccard is below 0.65 scores 0, averaged over images.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from skin_models.labels import CLASS_CODES, concerning_indices

ISIC_JACCARD_THRESHOLD = 0.65


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Rows are true classes, columns predicted classes."""
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(y_true, dtype=int), np.asarray(y_pred, dtype=int)), 1)
    return matrix


def balanced_accuracy(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int = len(CLASS_CODES)) -> float:
    """Mean recall over the classes present in ``y_true`` (ISIC 2018 Task 3's balanced multiclass accuracy)."""
    matrix = confusion_matrix(y_true, y_pred, n_classes)
    support = matrix.sum(axis=1)
    present = support > 0
    if not present.any():
        return float("nan")
    recall = np.diag(matrix)[present] / support[present]
    return float(recall.mean())


def balanced_log_loss(y_true: np.ndarray, probs: np.ndarray) -> float:
    """Mean over the classes present of each class's mean negative log probability of its true class: the log
    loss with every class weighing the same, as balanced accuracy weighs them (probabilities clipped at 1e-12)."""
    y_true = np.asarray(y_true, dtype=int)
    true_probs = np.clip(np.asarray(probs, dtype=np.float64)[np.arange(len(y_true)), y_true], 1e-12, 1.0)
    return float(np.mean([-np.log(true_probs[y_true == k]).mean() for k in np.unique(y_true)]))


def expected_calibration_error(y_true: np.ndarray, probs: np.ndarray, bins: int = 15) -> float:
    """Top-label expected calibration error (Guo et al. 2017): over ``bins`` equal-width bins of the top class's
    probability, the photo-weighted mean gap between that probability and how often the top class was right."""
    y_true = np.asarray(y_true, dtype=int)
    probs = np.asarray(probs, dtype=np.float64)
    if not len(y_true):
        return float("nan")
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == y_true
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    gaps = [abs(confidence[which == b].mean() - correct[which == b].mean()) * (which == b).sum()
            for b in range(bins) if (which == b).any()]
    return float(sum(gaps) / len(y_true))


def binary_auc(scores: np.ndarray, positives: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney U with tie correction); NaN when a side is empty."""
    scores = np.asarray(scores, dtype=np.float64)
    positives = np.asarray(positives, dtype=bool)
    n_pos, n_neg = int(positives.sum()), int((~positives).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores), dtype=np.float64)
    sorted_scores = scores[order]
    # average ranks for ties
    i = 0
    while i < len(scores):
        j = i
        while j + 1 < len(scores) and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return float((ranks[positives].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def concerning_scores(probs: np.ndarray, labels: Sequence[str] = CLASS_CODES) -> np.ndarray:
    """P(mel)+P(bcc)+P(akiec) per image: the score triage thresholds."""
    return np.asarray(probs)[:, concerning_indices(tuple(labels))].sum(axis=1)


def sensitivity_specificity(scores: np.ndarray, positives: np.ndarray, threshold: float) -> tuple[float, float]:
    """(sensitivity, specificity) of ``scores >= threshold`` for the ``positives``."""
    flagged = np.asarray(scores) >= threshold
    positives = np.asarray(positives, dtype=bool)
    sens = float(flagged[positives].mean()) if positives.any() else float("nan")
    spec = float((~flagged[~positives]).mean()) if (~positives).any() else float("nan")
    return sens, spec


def classification_metrics(y_true: np.ndarray, probs: np.ndarray, labels: Sequence[str] = CLASS_CODES,
                           triage_threshold: float | None = None) -> dict[str, Any]:
    """Balanced accuracy, accuracy, per-class recall/precision/AUC/support and, with a threshold, the
    malignant (mel+bcc+akiec) sensitivity and specificity of triage."""
    y_true = np.asarray(y_true, dtype=int)
    probs = np.asarray(probs, dtype=np.float64)
    n_classes = len(labels)
    y_pred = probs.argmax(axis=1)
    matrix = confusion_matrix(y_true, y_pred, n_classes)
    per_class: dict[str, dict[str, float]] = {}
    for i, code in enumerate(labels):
        support = int(matrix[i].sum())
        predicted = int(matrix[:, i].sum())
        per_class[code] = {
            "support": support,
            "recall": float(matrix[i, i] / support) if support else float("nan"),
            "precision": float(matrix[i, i] / predicted) if predicted else float("nan"),
            "auc": binary_auc(probs[:, i], y_true == i),
        }
    result: dict[str, Any] = {
        "n_images": len(y_true),
        "balanced_accuracy": balanced_accuracy(y_true, y_pred, n_classes),
        "accuracy": float((y_pred == y_true).mean()) if len(y_true) else float("nan"),
        # how far the probabilities are from what happens: the log loss and the top-label calibration error
        "log_loss": float(-np.log(np.clip(probs[np.arange(len(y_true)), y_true], 1e-12, 1.0)).mean())
        if len(y_true) else float("nan"),
        "ece": expected_calibration_error(y_true, probs),
        "per_class": per_class,
        "confusion_matrix": matrix.tolist(),
    }
    positives = np.isin(y_true, concerning_indices(tuple(labels)))
    result["malignant_auc"] = binary_auc(concerning_scores(probs, labels), positives)
    if triage_threshold is not None:
        sens, spec = sensitivity_specificity(concerning_scores(probs, labels), positives, triage_threshold)
        result["malignant_sensitivity"] = sens
        result["malignant_specificity"] = spec
        result["triage_threshold"] = triage_threshold
    return result


def bootstrap_intervals(y_true: np.ndarray, probs: np.ndarray, labels: Sequence[str] = CLASS_CODES,
                        triage_threshold: float | None = None, groups: Sequence[str | None] | None = None,
                        n_resamples: int = 1000, level: float = 0.95, seed: int = 0) -> dict[str, list[float]]:
    """Percentile bootstrap intervals of balanced accuracy, melanoma recall and (with a threshold) the malignant
    sensitivity and specificity. With ``groups`` (lesion ids; ``None`` = its own group) whole lesions are
    resampled, since photos of one lesion are not independent. A resample that lacks a class leaves that class
    out of its balanced accuracy, as ISIC's scorer would."""
    y_true = np.asarray(y_true, dtype=int)
    probs = np.asarray(probs, dtype=np.float64)
    n_classes = len(labels)
    y_pred = probs.argmax(axis=1)
    keys = [g if g is not None else f"\0{i}" for i, g in enumerate(groups)] if groups is not None else None
    _, group_of = np.unique(np.array(keys, dtype=object).astype(str), return_inverse=True) if keys else (
        None, np.arange(len(y_true)))
    members = [np.flatnonzero(group_of == g) for g in range(int(group_of.max()) + 1)] if len(y_true) else []
    mel = list(labels).index("mel") if "mel" in labels else None
    positives = np.isin(y_true, concerning_indices(tuple(labels)))
    rng = np.random.default_rng(seed)
    samples: dict[str, list[float]] = {"balanced_accuracy": [], "mel_recall": []}
    if triage_threshold is not None:
        samples.update(malignant_sensitivity=[], malignant_specificity=[])
    scores = concerning_scores(probs, labels)
    for _ in range(n_resamples if members else 0):
        index = np.concatenate([members[g] for g in rng.integers(0, len(members), len(members))])
        truth, predicted = y_true[index], y_pred[index]
        samples["balanced_accuracy"].append(balanced_accuracy(truth, predicted, n_classes))
        if mel is not None and (truth == mel).any():
            samples["mel_recall"].append(float((predicted[truth == mel] == mel).mean()))
        if triage_threshold is not None:
            pos = positives[index]
            if pos.any() and (~pos).any():
                sensitivity, specificity = sensitivity_specificity(scores[index], pos, triage_threshold)
                samples["malignant_sensitivity"].append(sensitivity)
                samples["malignant_specificity"].append(specificity)
    tail = (1.0 - level) / 2 * 100
    return {name: [float(np.percentile(values, tail)), float(np.percentile(values, 100 - tail))]
            for name, values in samples.items() if values}


def dice_iou(pred: np.ndarray, true: np.ndarray) -> tuple[float, float]:
    """Dice and Jaccard (IoU) of two boolean masks; both 1.0 when both are empty."""
    pred = np.asarray(pred, dtype=bool)
    true = np.asarray(true, dtype=bool)
    if pred.shape != true.shape:
        raise ValueError(f"mask shapes differ: predicted {pred.shape}, true {true.shape}")
    inter = int(np.logical_and(pred, true).sum())
    total = int(pred.sum()) + int(true.sum())
    union = total - inter
    if total == 0:
        return 1.0, 1.0
    return 2.0 * inter / total, inter / union


def segmentation_metrics(preds: Sequence[np.ndarray], trues: Sequence[np.ndarray]) -> dict[str, float]:
    """Mean Dice, mean IoU and the ISIC 2018 thresholded Jaccard (IoU < 0.65 counts as 0) over images."""
    if len(preds) != len(trues):
        raise ValueError(f"{len(preds)} predicted masks for {len(trues)} true masks")
    if not preds:
        return {"n_masks": 0, "dice": float("nan"), "iou": float("nan"), "thresholded_jaccard": float("nan")}
    pairs = np.array([dice_iou(p, t) for p, t in zip(preds, trues, strict=True)])
    ious = pairs[:, 1]
    return {
        "n_masks": len(preds),
        "dice": float(pairs[:, 0].mean()),
        "iou": float(ious.mean()),
        "thresholded_jaccard": float(np.where(ious >= ISIC_JACCARD_THRESHOLD, ious, 0.0).mean()),
    }
