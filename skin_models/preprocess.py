"""Turning photos into network inputs, and network outputs back into the photo's own pixel grid.

Everything reads its constants (input size, crop policy, mean/std, interpolation) from the bundle's
``ModelConfig``, so training and serving cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from skin_models.config import ModelConfig

_PIL_FILTERS = {
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "nearest": Image.Resampling.NEAREST,
}


def crop_box(width: int, height: int, config: ModelConfig) -> tuple[int, int, int, int]:
    """The (left, top, right, bottom) region of a ``width``×``height`` photo that the network sees.

    ``resize`` sees the whole photo; ``center_crop`` a centred square whose side is ``crop_fraction`` of the
    short side (the original project used 2/3).
    """
    if config.resize_policy == "resize":
        return 0, 0, width, height
    side = max(1, round(min(width, height) * config.crop_fraction))
    left = (width - side) // 2
    top = (height - side) // 2
    return left, top, left + side, top + side


def resize_for_network(image: Image.Image, config: ModelConfig) -> Image.Image:
    """Crop per the policy and resize to the network's input size."""
    box = crop_box(image.width, image.height, config)
    if box != (0, 0, image.width, image.height):
        image = image.crop(box)
    height, width = config.input_size
    if image.size != (width, height):
        image = image.resize((width, height), _PIL_FILTERS[config.interpolation])
    return image


def to_uint8_batch(images: Sequence[Image.Image], config: ModelConfig) -> np.ndarray:
    """A uint8 NHWC batch of network-sized RGB images (cheap to send across processes)."""
    return np.stack([np.asarray(resize_for_network(img.convert("RGB"), config), dtype=np.uint8) for img in images])


def normalise(batch: np.ndarray | torch.Tensor, config: ModelConfig) -> torch.Tensor:
    """uint8 NHWC (numpy or tensor) → float NCHW, scaled to [0, 1] and normalised by the config's mean/std."""
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


def restore_probability_map(prob_map: np.ndarray | torch.Tensor, original_size: tuple[int, int],
                            config: ModelConfig) -> np.ndarray:
    """Map a network-sized probability map back onto the original photo, pixel for pixel.

    ``original_size`` is (width, height) as PIL reports it. The map is resized bilinearly into the crop box
    the network saw (so outlines stay smooth) and everything outside that box is 0 — the network never saw it.
    """
    width, height = original_size
    left, top, right, bottom = crop_box(width, height, config)
    prob = torch.as_tensor(prob_map, dtype=torch.float32)
    if prob.ndim != 2:
        raise ValueError(f"expected a 2-D probability map, got shape {tuple(prob.shape)}")
    resized = F.interpolate(prob[None, None], size=(bottom - top, right - left), mode="bilinear",
                            align_corners=False)[0, 0]
    full = np.zeros((height, width), dtype=np.float32)
    full[top:bottom, left:right] = resized.clamp_(0.0, 1.0).numpy()
    return full
