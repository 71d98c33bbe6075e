"""Augmentation (albumentations), applied jointly to the image and its mask.

The images are already at the network's input size (``skin_models.preprocess.resize_for_network``), so
training sees exactly the geometry that serving sees, plus these perturbations.
"""

from __future__ import annotations

import albumentations as A
import cv2


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
