"""Turning photos into network inputs, and network outputs back into the photo's own pixel grid.

Everything reads its constants (input size, crop policy, mean/std, interpolation) from the bundle's
``ModelConfig``, so training and serving cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from skin_models.config import ModelConfig

if TYPE_CHECKING:
    import torch

_PIL_FILTERS = {
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "nearest": Image.Resampling.NEAREST,
}


class LesionMaskRequired(ValueError):
    """The model crops around the lesion, and no lesion mask was given."""


def crop_box(width: int, height: int, config: ModelConfig,
             lesion_mask: np.ndarray | None = None) -> tuple[int, int, int, int]:
    """The (left, top, right, bottom) region of a ``width``×``height`` photo that the network sees.

    ``resize`` sees the whole photo; ``center_crop`` a centred square whose side is ``crop_fraction`` of the
    short side (the original project used 2/3); ``lesion_crop`` the box around ``lesion_mask`` (see
    :func:`lesion_box`), which it needs.
    """
    if config.resize_policy == "resize":
        return 0, 0, width, height
    if config.resize_policy == "lesion_crop":
        if lesion_mask is None:
            raise LesionMaskRequired("this model looks at the lesion itself: it needs the lesion mask (from the "
                                     "segmenter) to crop the photo around it")
        if lesion_mask.shape != (height, width):
            raise ValueError(f"the lesion mask is {lesion_mask.shape[1]}x{lesion_mask.shape[0]}, the photo "
                             f"{width}x{height}")
        height_px, width_px = config.input_size
        return lesion_box(lesion_mask, width_px / height_px, config.lesion_margin, config.lesion_min_fraction)
    side = max(1, round(min(width, height) * config.crop_fraction))
    left = (width - side) // 2
    top = (height - side) // 2
    return left, top, left + side, top + side


def lesion_box(mask: np.ndarray, aspect: float, margin: float = 0.15,
               min_fraction: float = 0.35) -> tuple[int, int, int, int]:
    """The (left, top, right, bottom) crop around the lesion in a boolean (H, W) ``mask``.

    The lesion's bounding box grows by ``margin`` of its width and height on each side (the skin around a lesion
    is part of what a dermatologist looks at), then widens to the network's ``aspect`` (width / height) so the
    lesion is not distorted, spans at least ``min_fraction`` of the photo's width and height (a tiny or
    mis-segmented spot still gets context), and is shifted to lie inside the photo. An empty mask gives the
    whole photo.
    """
    height, width = mask.shape
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return 0, 0, width, height
    top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    box_w = (right - left) * (1.0 + 2.0 * margin)
    box_h = (bottom - top) * (1.0 + 2.0 * margin)
    box_w = max(box_w, box_h * aspect, min_fraction * width)
    box_h = max(box_h, box_w / aspect, min_fraction * height)
    box_w = max(box_w, box_h * aspect)  # the minimum height may have raised box_h: keep the aspect
    # Only a photo too narrow or too short for the box (it is never padded) makes the crop deviate from the aspect.
    box_w, box_h = min(float(width), box_w), min(float(height), box_h)
    centre_x, centre_y = (left + right) / 2.0, (top + bottom) / 2.0
    x0 = min(max(0.0, centre_x - box_w / 2.0), width - box_w)
    y0 = min(max(0.0, centre_y - box_h / 2.0), height - box_h)
    x0_px, y0_px = round(x0), round(y0)
    return x0_px, y0_px, min(width, x0_px + max(1, round(box_w))), min(height, y0_px + max(1, round(box_h)))


def resize_for_network(image: Image.Image, config: ModelConfig, lesion_mask: np.ndarray | None = None) -> Image.Image:
    """Crop per the policy (``lesion_crop`` needs the photo's lesion mask) and resize to the network's input size."""
    box = crop_box(image.width, image.height, config, lesion_mask)
    if box != (0, 0, image.width, image.height):
        image = image.crop(box)
    height, width = config.input_size
    if image.size != (width, height):
        image = image.resize((width, height), _PIL_FILTERS[config.interpolation])
    return image


def to_uint8_batch(images: Sequence[Image.Image], config: ModelConfig,
                   lesion_masks: Sequence[np.ndarray] | None = None) -> np.ndarray:
    """A uint8 NHWC batch of network-sized RGB images (cheap to send across processes)."""
    masks: Sequence[np.ndarray | None] = lesion_masks if lesion_masks is not None else [None] * len(images)
    if len(masks) != len(images):
        raise ValueError(f"{len(images)} photos but {len(masks)} lesion masks")
    return np.stack([np.asarray(resize_for_network(img.convert("RGB"), config, mask), dtype=np.uint8)
                     for img, mask in zip(images, masks, strict=True)])


def normalised_array(batch: np.ndarray, config: ModelConfig) -> np.ndarray:
    """uint8 NHWC → float32 NCHW, scaled to [0, 1] and normalised by the config's mean/std, in numpy (what ONNX
    Runtime takes; the service runs without torch). The same arithmetic as :func:`normalise`."""
    array = np.asarray(batch).transpose(0, 3, 1, 2).astype(np.float32) / np.float32(255.0)
    mean = np.asarray(config.mean, dtype=np.float32).reshape(1, 3, 1, 1)
    std = np.asarray(config.std, dtype=np.float32).reshape(1, 3, 1, 1)
    return np.ascontiguousarray((array - mean) / std)


def normalise(batch: np.ndarray | torch.Tensor, config: ModelConfig) -> torch.Tensor:
    """uint8 NHWC (numpy or tensor) → float NCHW tensor, scaled to [0, 1] and normalised by the config's mean/std
    (training, and the PyTorch backend; :func:`normalised_array` is the torch-free twin)."""
    import torch

    tensor = torch.as_tensor(batch)
    tensor = tensor.permute(0, 3, 1, 2).float().div_(255.0)
    mean = torch.tensor(config.mean, dtype=tensor.dtype, device=tensor.device).view(1, 3, 1, 1)
    std = torch.tensor(config.std, dtype=tensor.dtype, device=tensor.device).view(1, 3, 1, 1)
    return (tensor - mean) / std


def preprocess(images: Sequence[Image.Image], config: ModelConfig) -> torch.Tensor:
    """A list of PIL images → one normalised float NCHW batch."""
    if not images:
        raise ValueError("preprocess needs at least one image")
    return normalise(to_uint8_batch(images, config), config)


def resize_bilinear(array: np.ndarray, height: int, width: int) -> np.ndarray:
    """A 2-D float map resized bilinearly with half-pixel centres and edge clamping, in numpy: the arithmetic of
    ``torch.nn.functional.interpolate(mode="bilinear", align_corners=False)`` (no antialiasing), without torch."""
    source = np.asarray(array, dtype=np.float32)

    def axis(size_in: int, size_out: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        position = np.maximum((np.arange(size_out, dtype=np.float64) + 0.5) * (size_in / size_out) - 0.5, 0.0)
        low = np.minimum(np.floor(position).astype(np.int64), size_in - 1)
        high = np.minimum(low + 1, size_in - 1)
        return low, high, (position - low).astype(np.float32)

    top, bottom, dy = axis(source.shape[0], height)
    left, right, dx = axis(source.shape[1], width)
    rows = source[top] * (1.0 - dy)[:, None] + source[bottom] * dy[:, None]
    return (rows[:, left] * (1.0 - dx)[None, :] + rows[:, right] * dx[None, :]).astype(np.float32)


def restore_probability_map(prob_map: Any, original_size: tuple[int, int], config: ModelConfig) -> np.ndarray:
    """Map a network-sized probability map back onto the original photo, pixel for pixel.

    ``original_size`` is (width, height) as PIL reports it. The map is resized bilinearly into the crop box
    the network saw (so outlines stay smooth) and everything outside that box is 0 — the network never saw it.
    """
    width, height = original_size
    left, top, right, bottom = crop_box(width, height, config)
    prob = np.asarray(prob_map, dtype=np.float32)
    if prob.ndim != 2:
        raise ValueError(f"expected a 2-D probability map, got shape {tuple(prob.shape)}")
    full = np.zeros((height, width), dtype=np.float32)
    full[top:bottom, left:right] = np.clip(resize_bilinear(prob, bottom - top, right - left), 0.0, 1.0)
    return full
