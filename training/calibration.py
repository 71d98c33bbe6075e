"""Calibration and the triage threshold, both fitted on the validation split."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from skin_models.labels import CLASS_CODES, concerning_indices
from training.metrics import concerning_scores


def fit_temperature(logits: np.ndarray, y_true: np.ndarray, max_iter: int = 200) -> float:
    """The softmax temperature T > 0 minimising validation negative log-likelihood (Guo et al. 2017)."""
    logits_t = torch.as_tensor(np.asarray(logits), dtype=torch.float64)
    labels_t = torch.as_tensor(np.asarray(y_true), dtype=torch.long)
    log_t = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.LBFGS([log_t], lr=0.1, max_iter=max_iter, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimiser.zero_grad()
        loss = torch.nn.functional.cross_entropy(logits_t / log_t.exp(), labels_t)
        loss.backward()
        return loss

    optimiser.step(closure)
    return float(np.clip(log_t.exp().item(), 0.05, 20.0))


def choose_triage_threshold(probs: np.ndarray, y_true: np.ndarray, min_sensitivity: float = 0.90,
                            labels: Sequence[str] = CLASS_CODES) -> float:
    """The highest threshold on P(mel)+P(bcc)+P(akiec) whose sensitivity for those classes is ≥ ``min_sensitivity``.

    The highest such threshold gives the best specificity while keeping the sensitivity promise. Clipped to
    [0.01, 0.95] so that a degenerate validation set cannot produce a useless 0 or 1.
    """
    scores = concerning_scores(probs, labels)
    positives = np.isin(np.asarray(y_true), concerning_indices(tuple(labels)))
    if not positives.any():
        return 0.5
    positive_scores = np.sort(scores[positives])
    # Flag at least ceil(min_sensitivity * n) positives: the threshold is the score of the k-th highest.
    k = int(np.ceil(min_sensitivity * len(positive_scores)))
    threshold = float(positive_scores[len(positive_scores) - k]) if k > 0 else float(positive_scores[-1])
    return float(np.clip(threshold, 0.01, 0.95))
