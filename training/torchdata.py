"""PyTorch data sets over HAM10000 records, with every image decoded and resized once into memory.

The development set is ~9,400 images of 200×150; at network size that is well under 1 GB of uint8, so
decoding once and augmenting in memory keeps the two CPU cores busy with the network, not with JPEG.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import Dataset
from tqdm.auto import tqdm

from skin_models.config import ModelConfig
from skin_models.labels import class_index
from skin_models.preprocess import crop_box, normalise, resize_for_network
from training.data import Record, load_image, load_mask


@dataclass
class CachedArrays:
    """Network-sized uint8 images (N, H, W, 3), class indices (N,), and optional boolean masks (N, H, W)."""

    images: np.ndarray
    targets: np.ndarray
    masks: np.ndarray | None
    image_ids: list[str]


def cache_records(records: Sequence[Record], config: ModelConfig, *, with_masks: bool, desc: str = "decoding",
                  progress: bool = True) -> CachedArrays:
    """Decode, crop and resize every record once (masks with nearest-neighbour, as labels must stay binary)."""
    from PIL import Image

    height, width = config.input_size
    images = np.empty((len(records), height, width, 3), dtype=np.uint8)
    masks = np.empty((len(records), height, width), dtype=bool) if with_masks else None
    for i, record in enumerate(tqdm(records, desc=desc, disable=not progress, unit="img", leave=False)):
        image = load_image(record)
        images[i] = np.asarray(resize_for_network(image, config))
        if masks is not None:
            if record.mask_path is None:
                raise ValueError(f"{record.image_id}: no mask, but the segmenter needs one for every image")
            mask = Image.fromarray(load_mask(record, image.size).astype(np.uint8) * 255)
            box = crop_box(image.width, image.height, config)
            mask = mask.crop(box).resize((width, height), Image.Resampling.NEAREST)
            masks[i] = np.asarray(mask) > 127
    targets = np.array([class_index(r.label) for r in records], dtype=np.int64)
    return CachedArrays(images, targets, masks, [r.image_id for r in records])


class LesionDataset(Dataset[tuple[torch.Tensor, torch.Tensor]]):
    """Augmented, normalised tensors from cached arrays: (image, class index) or (image, mask)."""

    def __init__(self, arrays: CachedArrays, config: ModelConfig, augmentation: object | None, task: str) -> None:
        self.arrays = arrays
        self.config = config
        self.augmentation = augmentation
        self.task = task
        if task == "segmentation" and arrays.masks is None:
            raise ValueError("segmentation data set needs masks")

    def __len__(self) -> int:
        return len(self.arrays.images)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        image = self.arrays.images[index]
        mask = self.arrays.masks[index].astype(np.uint8) if self.arrays.masks is not None else None
        if self.augmentation is not None:
            if mask is not None and self.task == "segmentation":
                out = self.augmentation(image=image, mask=mask)  # type: ignore[operator]
                image, mask = out["image"], out["mask"]
            else:
                image = self.augmentation(image=image)["image"]  # type: ignore[operator]
        tensor = normalise(np.ascontiguousarray(image)[None], self.config)[0]
        if self.task == "segmentation":
            assert mask is not None
            return tensor, torch.from_numpy(np.ascontiguousarray(mask)).float()[None]
        return tensor, torch.tensor(self.arrays.targets[index])


def class_sampling_weights(targets: np.ndarray, power: float, n_classes: int) -> np.ndarray:
    """Per-image sampling weights ∝ (class frequency)^-power: 0 keeps the natural mix, 1 balances classes."""
    counts = np.bincount(targets, minlength=n_classes).astype(np.float64)
    class_weight = np.where(counts > 0, np.maximum(counts, 1.0) ** -power, 0.0)
    return class_weight[targets]


def class_loss_weights(targets: np.ndarray, n_classes: int) -> torch.Tensor:
    """Inverse-frequency loss weights, normalised to mean 1 over the present classes."""
    counts = np.bincount(targets, minlength=n_classes).astype(np.float64)
    weights = np.where(counts > 0, counts.sum() / np.maximum(counts, 1.0) / max((counts > 0).sum(), 1), 0.0)
    return torch.tensor(weights / weights[counts > 0].mean(), dtype=torch.float32)
