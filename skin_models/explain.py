"""Where the classifier looked: class activation maps (CAM, Zhou et al. 2016) over the last feature map.

For a network that ends in global average pooling and one linear layer (the timm classifiers served here), the
logit of class k is the spatial mean of ``Σ_c W[k, c] · F[c, y, x] + b[k]``; that map, before the mean, is the
class's activation map. It is computed in the same forward pass as the logits (no gradients), at the network's
feature resolution (1/32 of its input), and says which parts of the *network's view of the photo* raised the
class's score — not why, and not whether the answer is right.

This module reads the maps and is torch-free (the service runs without torch): the maps come out of the classifier's
own pass, as the exported ONNX graph's second output ``class_maps`` (``skin_models.class_maps`` builds that graph's
network in PyTorch), averaged over the same test-time views as the answer.
"""

from __future__ import annotations

import numpy as np


class CamUnavailable(ValueError):
    """The network does not end in average pooling and a single linear layer."""


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
