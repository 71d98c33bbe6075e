"""PyTorch data sets over HAM10000 records, with every image decoded and resized once into memory.

The development set is ~9,400 images of 200×150; at network size that is well under 1 GB of uint8, so
decoding once and augmenting in memory keeps the two CPU cores busy with the network, not with JPEG.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from PIL import Image
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


LesionMasks = Callable[[Sequence[Image.Image]], list[np.ndarray]]
"""Boolean lesion masks (at each photo's size) for a list of photos: a segmenter's, for ``lesion_crop``."""


def cache_records(records: Sequence[Record], config: ModelConfig, *, with_masks: bool, desc: str = "decoding",
                  progress: bool = True, lesion_masks: LesionMasks | None = None,
                  chunk: int = 64) -> CachedArrays:
    """Decode, crop and resize every record once (masks with nearest-neighbour, as labels must stay binary).

    A ``lesion_crop`` classifier crops around each lesion: the mask comes from ``lesion_masks`` (a trained
    segmenter, as when serving) when given, else from the record's ground-truth mask (an image without one is
    seen whole).
    """
    height, width = config.input_size
    images = np.empty((len(records), height, width, 3), dtype=np.uint8)
    masks = np.empty((len(records), height, width), dtype=bool) if with_masks else None
    needs_lesion = config.resize_policy == "lesion_crop"
    with tqdm(total=len(records), desc=desc, disable=not progress, unit="img", leave=False) as bar:
        for start in range(0, len(records), chunk):
            batch = records[start : start + chunk]
            photos = [load_image(record) for record in batch]
            lesions: list[np.ndarray | None] = [None] * len(batch)
            if needs_lesion:
                lesions = list(lesion_masks(photos)) if lesion_masks is not None else [
                    _ground_truth_or_empty(record, photo) for record, photo in zip(batch, photos, strict=True)]
            for offset, (record, photo, lesion) in enumerate(zip(batch, photos, lesions, strict=True)):
                i = start + offset
                images[i] = np.asarray(resize_for_network(photo, config, lesion))
                if masks is not None:
                    masks[i] = _network_mask(record, photo, config)
            bar.update(len(batch))
    targets = np.array([class_index(r.label) for r in records], dtype=np.int64)
    return CachedArrays(images, targets, masks, [r.image_id for r in records])


def _ground_truth_or_empty(record: Record, photo: Image.Image) -> np.ndarray:
    if record.mask_path is None:
        return np.zeros((photo.height, photo.width), dtype=bool)
    return load_mask(record, photo.size)


def _network_mask(record: Record, photo: Image.Image, config: ModelConfig) -> np.ndarray:
    if record.mask_path is None:
        raise ValueError(f"{record.image_id}: no mask, but the segmenter needs one for every image")
    height, width = config.input_size
    mask = Image.fromarray(load_mask(record, photo.size).astype(np.uint8) * 255)
    mask = mask.crop(crop_box(photo.width, photo.height, config)).resize((width, height), Image.Resampling.NEAREST)
    return np.asarray(mask) > 127


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


def sampling_groups(records: Sequence[Any], phone_share: float, extra_share: float,
                    extra_folder_shares: dict[str, float] | None = None
                    ) -> tuple[np.ndarray, dict[str, float], float]:
    """The sampling group of each training record and each group's share of the draws, and the extra folders'
    total share. Groups: the photo kind of a main folder's record ("dermoscopic", "phone"), "extra" for an extra
    folder's, "extra:NAME" for an extra folder with a share of its own (``extra_folder_shares``). The extra
    groups get their shares; the main kinds split the rest as they would without extras (phone_share of it to
    phone photos), so an epoch of main/(1 - extra total) draws sees each main kind as often as without them."""
    folder_shares = extra_folder_shares or {}
    groups = np.array([(f"extra:{r.source}" if r.source in folder_shares else "extra") if r.training_only
                       else r.photo_kind for r in records])
    present = set(groups.tolist())
    shares = {"extra": extra_share} if "extra" in present else {}
    shares.update({f"extra:{name}": share for name, share in folder_shares.items() if f"extra:{name}" in present})
    extra_total = float(sum(shares.values()))
    shares["phone"] = phone_share * (1.0 - extra_total)
    return groups, shares, extra_total


def kind_sampling_weights(targets: np.ndarray, kinds: np.ndarray, power: float, n_classes: int,
                          shares: dict[str, float]) -> np.ndarray:
    """Per-image sampling weights that give each kind of photo its share of the draws (``shares``: kind → share;
    the kinds not named split what is left evenly) and, within a kind, weights ∝ class frequency^-power."""
    present = sorted(set(kinds.tolist()))
    named = {kind: shares[kind] for kind in present if kind in shares}
    rest = [kind for kind in present if kind not in named]
    left = max(0.0, 1.0 - sum(named.values()))
    share = {**named, **{kind: left / len(rest) for kind in rest}} if rest else named
    weights = np.zeros(len(targets), dtype=np.float64)
    for kind in present:
        chosen = kinds == kind
        within = class_sampling_weights(targets[chosen], power, n_classes)
        weights[chosen] = share[kind] * within / within.sum()
    return weights


def class_log_prior(targets: np.ndarray, n_classes: int, sampler_power: float = 0.0) -> torch.Tensor:
    """Log of the class mix a training batch is drawn from: the data's frequencies, flattened by a sampler of
    ``sampler_power`` (weights ∝ frequency^-power leave a mix ∝ frequency^(1 - power)). Absent classes count as one
    image, so the log stays finite. Used for logit adjustment (Menon et al., 2021)."""
    drawn = np.bincount(targets, weights=class_sampling_weights(targets, sampler_power, n_classes),
                        minlength=n_classes)
    mix = np.maximum(drawn, 1.0)  # a present class draws count^(1 - power) >= 1; an absent one counts as 1
    return torch.tensor(np.log(mix / mix.sum()), dtype=torch.float32)


def class_loss_weights(targets: np.ndarray, n_classes: int) -> torch.Tensor:
    """Inverse-frequency loss weights, normalised to mean 1 over the present classes."""
    counts = np.bincount(targets, minlength=n_classes).astype(np.float64)
    weights = np.where(counts > 0, counts.sum() / np.maximum(counts, 1.0) / max((counts > 0).sum(), 1), 0.0)
    return torch.tensor(weights / weights[counts > 0].mean(), dtype=torch.float32)
