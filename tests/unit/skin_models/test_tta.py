"""Test-time augmentation: mirrored views, mirrored back, averaged; and the predictors that use it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from skin_models import tta
from skin_models.bundle import save_bundle
from skin_models.config import ModelConfig
from skin_models.factory import create_classifier, create_segmenter
from skin_models.predict import ClassifierPredictor, SegmenterPredictor
from skin_models.preprocess import normalise, to_uint8_batch


@pytest.mark.parametrize(("mode", "views"), [("none", 1), ("hflip", 2), ("flips", 4)])
def test_expand_stacks_mirrored_views(mode: str, views: int) -> None:
    batch = torch.arange(2 * 1 * 2 * 3, dtype=torch.float32).reshape(2, 1, 2, 3)
    out = tta.expand(batch, mode)
    assert out.shape == (2 * views, 1, 2, 3)
    assert torch.equal(out[:2], batch)
    if views >= 2:
        assert torch.equal(out[2:4], batch.flip(-1))
    if views == 4:
        assert torch.equal(out[4:6], batch.flip(-2))
        assert torch.equal(out[6:8], batch.flip(-2).flip(-1))


def test_merge_maps_views_back_onto_the_photo() -> None:
    """A network that is the identity on maps returns the photo itself, whatever the views."""
    batch = torch.rand(3, 1, 4, 6)
    for mode in tta.VIEWS:
        merged = tta.merge(tta.expand(batch, mode).numpy(), mode, spatial=True)
        np.testing.assert_allclose(merged, batch.numpy(), atol=1e-6)


def test_merge_averages_logits_over_views() -> None:
    logits = np.array([[1.0, 0.0], [3.0, 2.0], [5.0, 4.0], [7.0, 6.0]], dtype=np.float32)  # 2 views × 2 images
    np.testing.assert_allclose(tta.merge(logits, "hflip", spatial=False), [[3.0, 2.0], [5.0, 4.0]])


def test_bad_modes_and_counts_are_errors() -> None:
    with pytest.raises(ValueError, match="valid: none, hflip, flips"):
        tta.expand(torch.zeros(1, 3, 4, 4), "rot90")
    with pytest.raises(ValueError, match="cannot hold 4 views"):
        tta.merge(np.zeros((6, 7)), "flips", spatial=False)


def test_classifier_predictor_averages_the_mirrored_logits(tmp_path: Path) -> None:
    config = ModelConfig(task="classification", arch="resnet18", input_size=(32, 40), tta="flips")
    model = create_classifier("resnet18").eval()
    save_bundle(tmp_path / "clf", model, config, onnx=True)
    rng = np.random.default_rng(0)
    photos = [Image.fromarray(rng.integers(0, 255, (50, 60, 3), dtype=np.uint8)) for _ in range(2)]
    x = normalise(to_uint8_batch(photos, config), config)
    with torch.inference_mode():
        expected = torch.stack([model(x), model(x.flip(-1)), model(x.flip(-2)), model(x.flip(-2).flip(-1))]).mean(0)
    for backend in ("torch", "onnx"):
        got = ClassifierPredictor(tmp_path / "clf", device="cpu", backend=backend).predict_logits(photos)  # type: ignore[arg-type]
        np.testing.assert_allclose(got, expected.numpy(), atol=1e-4)
        with torch.inference_mode():
            assert not np.allclose(got, model(x).numpy(), atol=1e-4)  # the views did change the answer


def test_segmenter_predictor_with_flips_is_mirror_symmetric(tmp_path: Path) -> None:
    """Averaging over all four mirrors makes the prediction for a mirrored photo the mirrored prediction."""
    config = ModelConfig(task="segmentation", arch="unet", encoder="resnet18", input_size=(32, 64), tta="flips")
    save_bundle(tmp_path / "seg", create_segmenter("unet", "resnet18").eval(), config)
    predictor = SegmenterPredictor(tmp_path / "seg", device="cpu", backend="torch")
    pixels = np.random.default_rng(1).integers(0, 255, (32, 64, 3), dtype=np.uint8)
    maps = predictor.predict_probability_maps([Image.fromarray(pixels), Image.fromarray(pixels[:, ::-1].copy())])
    np.testing.assert_allclose(maps[1], maps[0][:, ::-1], atol=1e-5)
    plain = SegmenterPredictor(tmp_path / "seg", device="cpu", backend="torch")
    plain.config = plain.config.model_copy(update={"tta": "none"})
    assert not np.allclose(plain.predict_probability_maps([Image.fromarray(pixels)])[0], maps[0], atol=1e-4)
