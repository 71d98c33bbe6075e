"""Augmentation (albumentations), applied jointly to the image and its mask.

The images are already at the network's input size (``skin_models.preprocess.resize_for_network``), so
training sees exactly the geometry that serving sees, plus these perturbations.
"""

from __future__ import annotations

from typing import Literal, get_args

import albumentations as A
import cv2
import numpy as np
import torch

MixMode = Literal["none", "mixup", "cutmix"]
MIX_MODES: tuple[str, ...] = get_args(MixMode)


def build_augmentation(level: str) -> A.Compose | None:
    """``none`` | ``light`` | ``standard`` (the original project's set: rotation, shift/scale, flips,
    brightness/contrast) | ``strong`` (adds colour jitter, blur and cut-outs)."""
    if level == "none":
        return None
    reflect = cv2.BORDER_REFLECT_101
    flips = [A.HorizontalFlip(p=0.5), A.VerticalFlip(p=0.5)]
    if level == "light":
        return A.Compose([*flips, A.RandomBrightnessContrast(0.1, 0.1, p=0.5)])
    geometry = A.Affine(scale=(0.85, 1.15), translate_percent=(-0.08, 0.08), rotate=(-180, 180),
                        border_mode=reflect, p=0.9)
    photometric = [A.RandomBrightnessContrast(0.2, 0.2, p=0.7)]
    if level == "standard":
        return A.Compose([*flips, geometry, *photometric])
    if level == "strong":
        return A.Compose([
            *flips,
            geometry,
            *photometric,
            A.HueSaturationValue(hue_shift_limit=8, sat_shift_limit=20, val_shift_limit=10, p=0.5),
            A.OneOf([A.GaussianBlur(blur_limit=(3, 5)), A.GaussNoise(std_range=(0.02, 0.06))], p=0.3),
            A.CoarseDropout(num_holes_range=(1, 4), hole_height_range=(0.05, 0.15), hole_width_range=(0.05, 0.15),
                            p=0.3),
        ])
    raise ValueError(f"unknown augmentation level {level!r}; valid: none, light, standard, strong")


class BatchMixer:
    """MixUp (Zhang et al. 2018) or CutMix (Yun et al. 2019) on a classification batch, for regularisation.

    Each image is paired with another of the same batch: MixUp blends the two photos, CutMix pastes a box of the
    partner into the image; the target becomes the matching mixture of the two one-hot labels (as probabilities,
    which ``cross_entropy`` accepts). The mixing share comes from Beta(alpha, alpha); ``probability`` is the share
    of batches that are mixed at all (the others train on clean photos, as served). Seeded, so runs repeat.
    """

    def __init__(self, mode: str, n_classes: int, *, alpha: float = 1.0, probability: float = 0.5,
                 seed: int = 0) -> None:
        if mode not in MIX_MODES:
            raise ValueError(f"unknown batch mixing {mode!r}; valid: {', '.join(MIX_MODES)}")
        if alpha <= 0:
            raise ValueError(f"mix alpha must be > 0, not {alpha}")
        if not 0.0 <= probability <= 1.0:
            raise ValueError(f"mix probability must be in [0, 1], not {probability}")
        self.mode, self.n_classes, self.alpha, self.probability = mode, n_classes, alpha, probability
        self._rng = np.random.default_rng(seed)

    def __call__(self, images: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(N, C, H, W) images and (N,) class indices → mixed images and (N, n_classes) target probabilities."""
        soft = torch.nn.functional.one_hot(targets.long(), self.n_classes).to(images.dtype)
        if self.mode == "none" or len(images) < 2 or self._rng.random() >= self.probability:
            return images, soft
        share = float(self._rng.beta(self.alpha, self.alpha))
        partner = torch.as_tensor(self._rng.permutation(len(images)), device=images.device)
        if self.mode == "mixup":
            mixed = images * share + images[partner] * (1.0 - share)
        else:
            height, width = images.shape[-2:]
            cut_h, cut_w = round(height * np.sqrt(1.0 - share)), round(width * np.sqrt(1.0 - share))
            cy, cx = int(self._rng.integers(height)), int(self._rng.integers(width))
            top, bottom = max(cy - cut_h // 2, 0), min(cy + (cut_h + 1) // 2, height)
            left, right = max(cx - cut_w // 2, 0), min(cx + (cut_w + 1) // 2, width)
            mixed = images.clone()
            mixed[..., top:bottom, left:right] = images[partner][..., top:bottom, left:right]
            share = 1.0 - (bottom - top) * (right - left) / (height * width)  # the box actually pasted
        return mixed, soft * share + soft[partner] * (1.0 - share)
