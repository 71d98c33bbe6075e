"""Augmentation: the albumentations pipelines and the batch mixing (MixUp / CutMix) of the classifier."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from training.augment import BatchMixer, build_augmentation
from training.loop import LoopSettings, train


def _batch(n: int = 7) -> tuple[torch.Tensor, torch.Tensor]:
    images = torch.arange(n, dtype=torch.float32).view(n, 1, 1, 1).expand(n, 3, 16, 20).clone()  # image i is all i
    return images, torch.arange(n)  # one image per class, so a target names its partner


@pytest.mark.parametrize("mode", ["mixup", "cutmix"])
def test_mixed_targets_are_distributions_matching_the_mixed_pixels(mode: str) -> None:
    images, labels = _batch()
    mixer = BatchMixer(mode, 7, probability=1.0, seed=3)
    mixed, targets = mixer(images, labels)
    assert mixed.shape == images.shape and targets.shape == (7, 7)
    torch.testing.assert_close(targets.sum(1), torch.ones(7))
    assert bool((targets.max(1).values < 1).any())  # the batch really was mixed
    for i in range(7):
        own = float(targets[i, labels[i]])
        assert 0.0 <= own <= 1.0
        partners = [j for j in range(7) if j != i and targets[i, labels[j]] > 0]
        if own < 1.0:  # mixed with exactly one partner, whose label gets the rest of the weight
            assert len(partners) == 1
            j = partners[0]
            pixels = mixed[i].flatten()
            if mode == "mixup":  # every pixel is own*i + (1-own)*j
                torch.testing.assert_close(pixels, torch.full_like(pixels, own * i + (1 - own) * j))
            else:  # the share of pixels still showing image i is the target's share
                assert float((pixels == i).float().mean()) == pytest.approx(own, abs=1e-6)
                assert set(pixels.unique().tolist()) <= {float(i), float(j)}


def test_cutmix_keeps_some_batches_clean_and_repeats_with_the_seed() -> None:
    images, labels = _batch()
    first = BatchMixer("cutmix", 7, probability=0.5, seed=11)(images, labels)
    again = BatchMixer("cutmix", 7, probability=0.5, seed=11)(images, labels)
    torch.testing.assert_close(first[0], again[0])
    mixer = BatchMixer("cutmix", 7, probability=0.5, seed=0)
    clean = sum(bool(torch.equal(mixer(images, labels)[0], images)) for _ in range(200))
    assert 60 < clean < 140  # about half the batches stay as they are


def test_no_mixing_gives_one_hot_targets() -> None:
    images, labels = _batch()
    mixed, targets = BatchMixer("none", 7)(images, labels)
    assert mixed is images
    torch.testing.assert_close(targets, nn.functional.one_hot(labels, 7).float())


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"mode": "blend"}, "unknown batch mixing 'blend'; valid: none, mixup, cutmix"),
    ({"mode": "mixup", "alpha": 0.0}, "alpha must be > 0"),
    ({"mode": "cutmix", "probability": 1.5}, r"probability must be in \[0, 1\]"),
])
def test_bad_mixing_settings_are_named(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BatchMixer(n_classes=7, **kwargs)  # type: ignore[arg-type]


def test_the_loop_trains_on_mixed_batches() -> None:
    torch.manual_seed(0)
    x = torch.randn(64, 3, 4, 4)
    y = (x[:, 0].mean((1, 2)) > 0).long()
    loader = [(x[i : i + 16], y[i : i + 16]) for i in range(0, 64, 16)]
    seen: list[torch.Tensor] = []

    def loss_fn(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        seen.append(targets)
        return nn.functional.cross_entropy(logits, targets)

    model = nn.Sequential(nn.Flatten(), nn.Linear(48, 7))
    train(model, loader, loss_fn, lambda net: {"val_metric": 0.0},
          LoopSettings(epochs=1, lr=0.01, weight_decay=0.0, channels_last=True), torch.device("cpu"),
          steps_per_epoch=len(loader), batch_transform=BatchMixer("mixup", 7, probability=1.0, seed=1))
    assert len(seen) == 4 and all(t.shape == (16, 7) and t.is_floating_point() for t in seen)
    assert any(bool(((t > 0) & (t < 1)).any()) for t in seen)  # soft targets reached the loss


def test_unknown_augmentation_level_is_named() -> None:
    with pytest.raises(ValueError, match="unknown augmentation level 'wild'"):
        build_augmentation("wild")
    strong = build_augmentation("strong")
    assert strong is not None
    out = strong(image=np.zeros((16, 20, 3), np.uint8), mask=np.zeros((16, 20), np.uint8))
    assert out["image"].shape == (16, 20, 3) and out["mask"].shape == (16, 20)
