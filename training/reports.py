"""Run artifacts: confusion matrix and ROC images, per-class CSV, a grid of predicted vs true masks."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from skin_models.labels import CLASS_CODES


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_confusion_matrix(matrix: Sequence[Sequence[int]], path: Path, labels: Sequence[str] = CLASS_CODES,
                          title: str = "Confusion matrix") -> Path:
    """Counts with row-normalised colours (each true class sums to 1), so that rare classes are visible."""
    plt = _pyplot()
    counts = np.asarray(matrix, dtype=float)
    normalised = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(6, 5), dpi=120)
    ax.imshow(normalised, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(j, i, f"{int(counts[i, j])}", ha="center", va="center",
                    color="white" if normalised[i, j] > 0.5 else "black", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def save_roc_curves(y_true: np.ndarray, probs: np.ndarray, path: Path, labels: Sequence[str] = CLASS_CODES) -> Path:
    """One-vs-rest ROC curve per class."""
    from sklearn.metrics import roc_curve

    from training.metrics import binary_auc

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 5), dpi=120)
    for i, code in enumerate(labels):
        positives = np.asarray(y_true) == i
        if positives.all() or not positives.any():
            continue
        fpr, tpr, _ = roc_curve(positives, probs[:, i])
        ax.plot(fpr, tpr, label=f"{code} (AUC {binary_auc(probs[:, i], positives):.3f})")
    ax.plot([0, 1], [0, 1], "k--", linewidth=0.8)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def save_per_class_csv(metrics: dict[str, Any], path: Path) -> Path:
    """``per_class`` of ``training.metrics.classification_metrics`` as CSV."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["class", "support", "recall", "precision", "auc"])
        for code, row in metrics["per_class"].items():
            writer.writerow([code, row["support"], f"{row['recall']:.4f}", f"{row['precision']:.4f}",
                             f"{row['auc']:.4f}"])
    return path


def save_mask_grid(images: np.ndarray, true_masks: np.ndarray, pred_masks: np.ndarray, path: Path,
                   n: int = 8) -> Path:
    """Rows of (photo, true outline in green, predicted outline in magenta) for ``n`` images."""
    from scipy import ndimage

    plt = _pyplot()
    n = min(n, len(images))
    fig, axes = plt.subplots(n, 3, figsize=(7.5, 2.0 * n), dpi=100, squeeze=False)
    for row in range(n):
        image = images[row].copy()
        for mask, colour in ((true_masks[row], (0, 255, 0)), (pred_masks[row], (255, 0, 255))):
            edge = mask & ~ndimage.binary_erosion(mask)
            image[edge] = colour
        axes[row, 0].imshow(images[row])
        axes[row, 1].imshow(true_masks[row], cmap="gray")
        axes[row, 2].imshow(image)
        for ax in axes[row]:
            ax.axis("off")
    axes[0, 0].set_title("photo")
    axes[0, 1].set_title("true mask")
    axes[0, 2].set_title("true (green) / predicted (magenta)")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
