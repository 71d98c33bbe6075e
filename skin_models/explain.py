"""Where the classifier looked: class activation maps (CAM, Zhou et al. 2016) over the last feature map.

For a network that ends in global average pooling and one linear layer (the timm classifiers served here), the
logit of class k is the spatial mean of ``Σ_c W[k, c] · F[c, y, x] + b[k]``; that map, before the mean, is the
class's activation map. It is computed in the same forward pass as the logits (no gradients), at the network's
feature resolution (1/32 of its input), and says which parts of the *network's view of the photo* raised the
class's score — not why, and not whether the answer is right.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn


class CamUnavailable(ValueError):
    """The network does not end in average pooling and a single linear layer."""


def supports_cam(model: nn.Module) -> bool:
    pool = getattr(model, "global_pool", None)
    get_classifier = getattr(model, "get_classifier", None)
    return (hasattr(model, "forward_features") and callable(get_classifier)
            and isinstance(get_classifier(), nn.Linear) and getattr(pool, "pool_type", None) == "avg")


class WithClassMaps(nn.Module):
    """``model`` returning ``(logits, maps)``; ``maps`` is (N, classes, h, w) and its spatial mean is ``logits``."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        if not supports_cam(model):
            raise CamUnavailable(f"{type(model).__name__} does not end in average pooling + one linear layer")
        self.model = model

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        model: Any = self.model
        features = model.forward_features(x)
        classifier = model.get_classifier()
        maps = torch.einsum("nchw,kc->nkhw", features, classifier.weight) + classifier.bias[None, :, None, None]
        return maps.mean(dim=(2, 3)), maps


def normalised_map(maps: np.ndarray, class_index: int) -> np.ndarray:
    """One class's map with negative evidence cut off, scaled to 0..1 (all zeros when nothing is positive)."""
    positive = np.maximum(np.asarray(maps, dtype=np.float32)[class_index], 0.0)
    top = float(positive.max()) if positive.size else 0.0
    return positive / top if top > 0 else np.zeros_like(positive)


def share_inside(heat: np.ndarray, mask: np.ndarray) -> float | None:
    """The share of a heat map's mass that falls inside a boolean mask of the same shape (None without mass)."""
    heat = np.asarray(heat, dtype=np.float64)
    total = float(heat.sum())
    return float(heat[np.asarray(mask, dtype=bool)].sum() / total) if total > 0 else None


def to_photo(grid: np.ndarray, box: tuple[int, int, int, int], photo_size: tuple[int, int]) -> np.ndarray:
    """A feature-resolution map laid over the photo: bilinearly resized into ``box`` (left, top, right, bottom, the
    region the network saw), zero outside it; ``photo_size`` is (width, height)."""
    from PIL import Image

    width, height = photo_size
    left, top, right, bottom = box
    out = np.zeros((height, width), dtype=np.float32)
    if right > left and bottom > top:
        resized = Image.fromarray(np.asarray(grid, dtype=np.float32), mode="F").resize(
            (right - left, bottom - top), Image.Resampling.BILINEAR)
        out[top:bottom, left:right] = np.asarray(resized)
    return out
