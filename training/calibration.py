"""Calibration and the triage threshold, both fitted on the validation split."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from skin_models.labels import CLASS_CODES, concerning_indices
from training.metrics import balanced_accuracy, concerning_scores


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


#: The post-hoc logit adjustment's strengths tried on validation (tau; 0 = none).
ADJUSTMENT_GRID = tuple(round(0.05 * i, 2) for i in range(41))  # 0, 0.05, ..., 2.0
#: An adjustment is kept only when it raises validation balanced accuracy by at least this much, and when it
#: beats no adjustment in at least ADJUSTMENT_CONFIDENCE of paired bootstrap resamples of the validation photos:
#: a gain that re-drawing the photos would undo is not worth what the adjustment costs in calibration (a kind with
#: about a hundred validation photos rarely passes).
MIN_ADJUSTMENT_GAIN = 0.01
ADJUSTMENT_CONFIDENCE = 0.9
ADJUSTMENT_RESAMPLES = 500


def adjustment_confidence(y_true: np.ndarray, plain: np.ndarray, adjusted: np.ndarray,
                          resamples: int = ADJUSTMENT_RESAMPLES, seed: int = 0) -> float:
    """Share of paired bootstrap resamples of the photos in which the ``adjusted`` predictions have a higher
    balanced accuracy (over the classes present) than the ``plain`` ones."""
    rng = np.random.default_rng(seed)
    n = len(y_true)
    n_classes = int(max(y_true.max(), plain.max(), adjusted.max())) + 1 if n else 1
    wins = 0
    for _ in range(resamples):
        index = rng.integers(0, n, n)
        wins += balanced_accuracy(y_true[index], adjusted[index], n_classes) > balanced_accuracy(
            y_true[index], plain[index], n_classes)
    return wins / resamples if resamples else 0.0


def choose_logit_adjustment(scaled_logits: np.ndarray, y_true: np.ndarray,
                            grid: Sequence[float] = ADJUSTMENT_GRID, min_gain: float = MIN_ADJUSTMENT_GAIN,
                            confidence: float = ADJUSTMENT_CONFIDENCE,
                            ) -> tuple[float, np.ndarray | None, dict[float, float]]:
    """Post-hoc logit adjustment (Menon et al. 2021) chosen on validation: offsets ``-tau * log(prior)`` added to
    the temperature-scaled logits, where ``prior`` is the network's average answer on these photos (the class mix
    it leans towards), and ``tau`` the strength in ``grid`` with the best validation balanced accuracy (over the
    classes present, smoothed over neighbouring strengths so that one lucky photo does not choose). Kept only
    when it gains at least ``min_gain`` over no adjustment and wins in ``confidence`` of paired bootstrap
    resamples (``adjustment_confidence``). Returns (tau, offsets or None, balanced accuracy by tau)."""
    from skin_models.postprocess import softmax

    scaled = np.asarray(scaled_logits, dtype=np.float64)
    y_true = np.asarray(y_true, dtype=int)
    prior = np.clip(softmax(scaled).mean(axis=0), 1e-6, None)
    base = -np.log(prior / prior.sum())
    base = base - base.mean()  # a shift common to all classes changes nothing; keep the offsets centred
    scores = {float(tau): balanced_accuracy(y_true, (scaled + tau * base).argmax(axis=1), scaled.shape[1])
              for tau in grid}
    taus = list(scores)
    values = np.array([scores[t] for t in taus])
    smoothed = np.array([values[max(0, i - 1): i + 2].mean() for i in range(len(values))])
    best = int(np.argmax(smoothed))
    tau = taus[best]
    if tau == 0.0 or smoothed[best] - scores[taus[0]] < min_gain:
        return 0.0, None, scores
    if adjustment_confidence(y_true, scaled.argmax(axis=1), (scaled + tau * base).argmax(axis=1)) < confidence:
        return 0.0, None, scores
    return tau, tau * base, scores
