"""The kind of photo and what a classifier's outputs say once it is known.

A person sends either a dermoscopic photo (a lens pressed on the skin: even light, the lesion magnified and
centred) or a close-up taken with a phone camera. The classifier answers both, but its calibration, its triage
threshold and what it is measured to do differ by kind, so the answer names the kind. The kind comes from the
classifier's own network: a logistic head on its pooled features, fitted after training on photos of both kinds
and stored as one more row of the network's last linear layer (``ModelConfig.photo_kind_head``), so the served
network — ONNX, int8, any test-time views — computes it in the same pass as the class logits. Torch-free.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from skin_models.config import PHOTO_KINDS, ModelConfig
from skin_models.postprocess import softmax

__all__ = ["ClassifierReading", "PhotoKindResult", "calibrated_probabilities", "read_outputs"]


@dataclass(frozen=True, slots=True)
class PhotoKindResult:
    """The kind the head names and how sure it is (the probability of that kind, 0.5-1)."""

    kind: str
    probability: float


@dataclass(frozen=True)
class ClassifierReading:
    """One photo's classifier outputs, read: the calibrated class probabilities (from the photo alone), the photo's
    kind (None without a head) and the triage threshold that goes with it."""

    probabilities: np.ndarray
    photo_kind: PhotoKindResult | None
    temperature: float
    triage_threshold: float


def calibrated_probabilities(logits: np.ndarray, temperature: float,
                             class_offsets: Sequence[float] | np.ndarray | None = None) -> np.ndarray:
    """Class probabilities (N, C) from class logits (N, C) read with one kind's calibration: the logits divided by
    its temperature, plus its class offsets (the post-hoc logit adjustment) when it has them, then the softmax.
    The one rule: serving, evaluation and the choice of the threshold all read logits through it."""
    scaled = np.atleast_2d(np.asarray(logits, dtype=np.float64)) / temperature
    if class_offsets is not None:
        scaled = scaled + np.asarray(class_offsets, dtype=np.float64)
    return softmax(scaled)


def read_outputs(outputs: np.ndarray, config: ModelConfig) -> list[ClassifierReading]:
    """The network's raw outputs (N, config.num_classes), averaged over its test-time views, read per photo: the
    kind from the head's logit, then the class logits scaled by that kind's temperature."""
    outputs = np.atleast_2d(np.asarray(outputs, dtype=np.float64))
    n_labels = len(config.labels)
    if outputs.shape[1] != config.num_classes:
        raise ValueError(f"expected {config.num_classes} outputs per photo, got {outputs.shape[1]}")
    readings = []
    for row in outputs:
        kind = None
        if config.photo_kind_head:
            phone = float(1.0 / (1.0 + np.exp(-np.clip(row[n_labels], -60.0, 60.0))))
            kind = PhotoKindResult(PHOTO_KINDS[1], phone) if phone >= 0.5 else PhotoKindResult(PHOTO_KINDS[0],
                                                                                                1.0 - phone)
        calibration = config.calibration(kind.kind if kind else None)
        probabilities = calibrated_probabilities(row[None, :n_labels], calibration.temperature,
                                                 calibration.class_offsets)[0]
        readings.append(ClassifierReading(probabilities, kind, calibration.temperature, calibration.triage_threshold))
    return readings
