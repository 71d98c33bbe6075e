"""The ``lesion_crop`` policy: the classifier sees a box around the lesion the segmenter found."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from skin_models.bundle import save_bundle
from skin_models.config import ModelConfig
from skin_models.factory import create_classifier
from skin_models.predict import ClassifierPredictor
from skin_models.preprocess import LesionMaskRequired, crop_box, lesion_box, normalise, resize_for_network

CONFIG = ModelConfig(task="classification", arch="resnet18", input_size=(32, 40), resize_policy="lesion_crop")


def _mask(width: int, height: int, box: tuple[int, int, int, int]) -> np.ndarray:
    mask = np.zeros((height, width), dtype=bool)
    left, top, right, bottom = box
    mask[top:bottom, left:right] = True
    return mask


def test_box_grows_by_the_margin_and_takes_the_network_aspect() -> None:
    mask = _mask(200, 150, (80, 50, 120, 90))  # a 40×40 lesion in the middle
    left, top, right, bottom = lesion_box(mask, aspect=1.25, margin=0.25, min_fraction=0.1)
    assert (right - left, bottom - top) == (75, 60)  # 40·1.5 = 60 high, widened to 60·1.25 = 75
    assert (left + right) / 2 == pytest.approx(100, abs=1) and (top + bottom) / 2 == pytest.approx(70, abs=1)


def test_box_stays_inside_the_photo_and_keeps_a_minimum_size() -> None:
    corner = _mask(200, 150, (190, 140, 200, 150))  # a 10×10 spot in the corner
    left, top, right, bottom = lesion_box(corner, aspect=200 / 150, margin=0.15, min_fraction=0.35)
    assert 0 <= left < right <= 200 and 0 <= top < bottom <= 150
    assert right == 200 and bottom == 150  # pushed back inside, not cut
    assert right - left >= 0.35 * 200 - 1 and bottom - top >= 0.35 * 150 - 1
    assert corner[top:bottom, left:right].sum() == corner.sum()  # the whole lesion is in the crop


def test_box_keeps_the_network_aspect_on_a_portrait_photo() -> None:
    """A small lesion on a 3:4 portrait phone photo: the minimum height must not squeeze the crop."""
    mask = _mask(300, 400, (140, 190, 160, 210))
    left, top, right, bottom = lesion_box(mask, aspect=1.25, margin=0.15, min_fraction=0.35)
    assert (right - left) / (bottom - top) == pytest.approx(1.25, abs=0.02)
    assert bottom - top >= 0.35 * 400 - 1


def test_empty_or_whole_masks_give_the_whole_photo() -> None:
    assert lesion_box(np.zeros((150, 200), dtype=bool), aspect=1.25) == (0, 0, 200, 150)
    assert lesion_box(np.ones((150, 200), dtype=bool), aspect=1.25) == (0, 0, 200, 150)


def test_crop_needs_a_mask_of_the_photo_size() -> None:
    with pytest.raises(LesionMaskRequired, match="needs the lesion mask"):
        crop_box(200, 150, CONFIG)
    with pytest.raises(ValueError, match="mask is 100x50, the photo 200x150"):
        crop_box(200, 150, CONFIG, np.zeros((50, 100), dtype=bool))
    with pytest.raises(ValueError, match="classifier policy"):
        ModelConfig(task="segmentation", arch="unet", encoder="resnet18", input_size=(32, 32),
                    resize_policy="lesion_crop")


def test_resized_crop_shows_the_lesion_larger() -> None:
    pixels = np.full((150, 200, 3), 200, dtype=np.uint8)
    pixels[60:90, 85:115] = 40  # a dark 30×30 lesion
    photo = Image.fromarray(pixels)
    mask = pixels[..., 0] < 100
    cropped = np.asarray(resize_for_network(photo, CONFIG, mask))
    whole = np.asarray(resize_for_network(photo, CONFIG.model_copy(update={"resize_policy": "resize"})))
    assert cropped.shape == whole.shape == (32, 40, 3)
    assert (cropped[..., 0] < 100).mean() > 3 * (whole[..., 0] < 100).mean()


def test_predictor_classifies_the_crop(tmp_path: Path) -> None:
    model = create_classifier("resnet18").eval()
    save_bundle(tmp_path / "clf", model, CONFIG, onnx=False)
    predictor = ClassifierPredictor(tmp_path / "clf", device="cpu")
    assert predictor.needs_lesion_mask
    rng = np.random.default_rng(0)
    photo = Image.fromarray(rng.integers(0, 255, (150, 200, 3), dtype=np.uint8))
    mask = _mask(200, 150, (50, 40, 110, 100))
    crop = np.array(resize_for_network(photo, CONFIG, mask))[None]
    with torch.inference_mode():
        expected = model(normalise(crop, CONFIG)).numpy()
    np.testing.assert_allclose(predictor.predict_logits([photo], [mask]), expected, atol=1e-5)
    with pytest.raises(LesionMaskRequired):
        predictor.predict_proba([photo])
    with pytest.raises(ValueError, match="1 photos but 2 lesion masks"):
        predictor.predict_proba([photo], [mask, mask])
