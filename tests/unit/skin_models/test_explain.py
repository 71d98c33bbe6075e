"""Class activation maps: their spatial mean is the logits, they come out of the answer's own pass (ONNX, the same
test-time views), only networks that have them claim them, they lie over the region the network saw, and the share
of their mass inside a lesion outline is measured correctly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from skin_models.bundle import ONNX_FILE, save_bundle
from skin_models.class_maps import WithClassMaps, supports_cam
from skin_models.config import ModelConfig
from skin_models.explain import CamUnavailable, normalised_map, share_inside, to_photo
from skin_models.factory import create_classifier, list_classifiers
from skin_models.predict import ClassifierPredictor
from skin_models.preprocess import normalise, to_uint8_batch


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


# Which registered classifiers have class maps: their logits are a linear layer over the average-pooled last feature
# map. MobileNetV3/V4 put a 1×1 conv_head after the pooling, ConvNeXt a LayerNorm, RegNet pools inside its head.
WITHOUT_CLASS_MAPS = {"mobilenetv3_large_100", "mobilenetv3_small_100", "mobilenetv4_conv_small", "convnext_atto",
                      "regnety_008"}


@pytest.mark.slow
@pytest.mark.parametrize("arch", list_classifiers())
def test_every_registered_classifier_says_truly_whether_it_has_class_maps(arch: str) -> None:
    model = create_classifier(arch).eval()
    assert supports_cam(model, (64, 64)) == (arch not in WITHOUT_CLASS_MAPS)
    if arch in WITHOUT_CLASS_MAPS:
        with pytest.raises(CamUnavailable):
            WithClassMaps(model)


def _photos(count: int = 3) -> list[Image.Image]:
    rng = np.random.default_rng(1)
    return [Image.fromarray(rng.integers(0, 255, (50, 60, 3), dtype=np.uint8)) for _ in range(count)]


@pytest.mark.parametrize("backend", ["onnx", "torch"])
def test_one_pass_gives_the_logits_and_the_maps_of_the_same_views(tmp_path: Path, backend: str) -> None:
    """The maps come out of the answer's own pass over the test-time views, each view's map mirrored back onto the
    photo before averaging; their spatial mean is the (averaged) logits."""
    config = ModelConfig(task="classification", arch="resnet10t", input_size=(64, 96), tta="hflip")
    model = create_classifier("resnet10t").eval()
    save_bundle(tmp_path / "clf", model, config, onnx=True)
    predictor = ClassifierPredictor(tmp_path / "clf", device="cpu", backend=backend)  # type: ignore[arg-type]
    assert predictor.has_class_maps
    batch = to_uint8_batch(_photos(), config)
    logits, maps = predictor.logits_and_maps_from_uint8(batch)
    assert maps is not None and maps.shape == (3, 7, 2, 3)
    x = normalise(batch, config)
    with torch.inference_mode():
        plain_logits, plain_maps = WithClassMaps(model)(x)
        mirrored_logits, mirrored_maps = WithClassMaps(model)(x.flip(-1))
    np.testing.assert_allclose(logits, ((plain_logits + mirrored_logits) / 2).numpy(), atol=1e-4)
    np.testing.assert_allclose(maps, ((plain_maps + mirrored_maps.flip(-1)) / 2).numpy(), atol=1e-4)
    np.testing.assert_allclose(maps.mean(axis=(2, 3)), logits, atol=1e-4)
    np.testing.assert_allclose(predictor.logits_from_uint8(batch), logits, atol=1e-6)  # the same answer either way


def test_a_network_without_class_maps_and_an_older_export_answer_without_maps(tmp_path: Path) -> None:
    config = ModelConfig(task="classification", arch="mobilenetv3_small_100", input_size=(64, 64))
    save_bundle(tmp_path / "mobilenet", create_classifier("mobilenetv3_small_100").eval(), config, onnx=True)
    for backend in ("onnx", "torch"):
        predictor = ClassifierPredictor(tmp_path / "mobilenet", device="cpu", backend=backend)  # type: ignore[arg-type]
        logits, maps = predictor.logits_and_maps_from_uint8(to_uint8_batch(_photos(2), config))
        assert not predictor.has_class_maps and maps is None and logits.shape == (2, 7)

    # A bundle exported before the class maps were: its graph has the logits only.
    config = ModelConfig(task="classification", arch="resnet10t", input_size=(64, 64))
    model = create_classifier("resnet10t").eval()
    bundle = save_bundle(tmp_path / "old", model, config)
    torch.onnx.export(model, (torch.randn(2, 3, 64, 64),), str(bundle / ONNX_FILE), input_names=["input"],
                      output_names=["logits"], dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                      opset_version=17, dynamo=False)
    old = ClassifierPredictor(bundle, device="cpu", backend="onnx")
    logits, maps = old.logits_and_maps_from_uint8(to_uint8_batch(_photos(2), config))
    assert old.backend == "onnx" and not old.has_class_maps and maps is None and logits.shape == (2, 7)
