"""Class activation maps: their spatial mean is the logits, they lie over the region the network saw, and the
share of their mass inside a lesion outline is measured correctly."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from skin_models.class_maps import WithClassMaps, supports_cam
from skin_models.explain import CamUnavailable, normalised_map, share_inside, to_photo
from skin_models.factory import create_classifier


def test_the_maps_average_to_the_logits() -> None:
    model = create_classifier("tf_efficientnet_lite0").eval()
    x = torch.randn(2, 3, 150, 200, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        logits, maps = WithClassMaps(model)(x)
        expected = model(x)
    assert maps.shape == (2, 7, 5, 7)  # 1/32 of the input, rounded up (TF "SAME" padding)
    assert torch.allclose(logits, expected, atol=1e-4)
    assert torch.allclose(maps.mean(dim=(2, 3)), expected, atol=1e-4)


def test_networks_without_a_linear_head_are_refused() -> None:
    assert supports_cam(create_classifier("resnet18"))
    with pytest.raises(CamUnavailable):
        WithClassMaps(torch.nn.Sequential(torch.nn.Conv2d(3, 7, 1)))


def test_normalised_map_and_the_share_inside_a_mask() -> None:
    maps = np.zeros((7, 4, 4), dtype=np.float32)
    maps[2, 0, 0], maps[2, 3, 3], maps[2, 1, 1] = 4.0, 2.0, -5.0  # negative evidence is cut off
    grid = normalised_map(maps, 2)
    assert grid.max() == 1.0 and grid.min() == 0.0 and grid[1, 1] == 0.0
    assert normalised_map(np.full((7, 2, 2), -1.0), 0).sum() == 0  # nothing positive: no heat
    heat = to_photo(grid, (10, 20, 50, 60), (80, 100))  # the network saw x 10..50, y 20..60 of an 80×100 photo
    assert heat.shape == (100, 80) and heat[:20].sum() == 0 and heat[:, :10].sum() == 0 and heat[60:].sum() == 0
    mask = np.zeros((100, 80), dtype=bool)
    mask[20:40, 10:30] = True  # the top-left quarter of the box, where the strongest evidence is
    inside = share_inside(heat, mask)
    assert inside is not None and 0.5 < inside < 1.0
    assert share_inside(np.zeros((4, 4)), np.ones((4, 4), bool)) is None
