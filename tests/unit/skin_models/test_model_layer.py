"""Config, factories, preprocessing, bundles and predictors, on tiny networks on the CPU."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from skin_models.bundle import BundleError, has_onnx, load_bundle, load_config, save_bundle
from skin_models.config import ModelConfig
from skin_models.factory import (
    PretrainedWeightsUnavailable,
    UnknownModelError,
    create_classifier,
    create_segmenter,
    list_classifiers,
)
from skin_models.labels import CLASS_CODES, ISIC_COLUMNS, LABELS, concerning_indices, get_label
from skin_models.predict import ClassifierPredictor, SegmenterPredictor
from skin_models.preprocess import crop_box, preprocess, restore_probability_map


def tiny_classifier_config(**overrides: object) -> ModelConfig:
    values: dict[str, object] = {"task": "classification", "arch": "resnet18", "input_size": (32, 40)}
    values.update(overrides)
    return ModelConfig.model_validate(values)


def tiny_segmenter_config(**overrides: object) -> ModelConfig:
    values: dict[str, object] = {"task": "segmentation", "arch": "unet", "encoder": "resnet18", "input_size": (32, 64)}
    values.update(overrides)
    return ModelConfig.model_validate(values)


def test_labels_follow_isic_column_order_and_groups() -> None:
    assert ISIC_COLUMNS == ("MEL", "NV", "BCC", "AKIEC", "BKL", "DF", "VASC")
    assert {CLASS_CODES[i] for i in concerning_indices()} == {"mel", "bcc", "akiec"}
    assert get_label("MEL") is get_label("mel")
    assert all(label.name_en for label in LABELS)
    with pytest.raises(KeyError, match="valid codes: mel, nv"):
        get_label("melanoma")


def test_unknown_architecture_lists_valid_ones() -> None:
    with pytest.raises(UnknownModelError, match="efficientnet_b3"):
        create_classifier("efficientnet_b99")
    with pytest.raises(UnknownModelError, match="resnet34"):
        create_segmenter("unet", encoder="vgg99")
    assert {"efficientnet_b0", "efficientnet_b3", "mobilenetv3_large_100", "resnet18", "resnet34"} <= set(
        list_classifiers())


def test_pretrained_without_network_fails_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    import skin_models.factory as factory

    monkeypatch.setattr(factory, "_HUB_HOST", ("127.0.0.1", 9))  # discard port: nothing listens
    with pytest.raises(PretrainedWeightsUnavailable, match="--no-pretrained"):
        create_classifier("resnet18", pretrained=True)


@pytest.mark.parametrize("arch", ["efficientnet_b0", "mobilenetv3_large_100", "resnet18"])
def test_classifier_outputs_seven_finite_logits(arch: str) -> None:
    model = create_classifier(arch).eval()
    with torch.inference_mode():
        out = model(torch.randn(2, 3, 64, 80))
    assert out.shape == (2, 7)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("encoder", ["resnet18", "tu-resnet10t"])
def test_segmenter_output_matches_input_size(encoder: str) -> None:
    model = create_segmenter("unet", encoder).eval()
    with torch.inference_mode():
        out = model(torch.randn(1, 3, 64, 96))
    assert out.shape == (1, 1, 64, 96)
    assert torch.isfinite(out).all()


def test_timm_encoder_segmenter_exports_to_onnx_and_predicts(tmp_path: Path) -> None:
    """The timm-adapter encoder goes through the same bundle path as the others: ONNX checked against PyTorch."""
    config = tiny_segmenter_config(encoder="tu-resnet10t")
    save_bundle(tmp_path / "seg", create_segmenter("unet", "tu-resnet10t"), config, onnx=True)
    assert has_onnx(tmp_path / "seg")
    photo = [Image.new("RGB", (120, 90), (180, 120, 90))]
    onnx_maps = SegmenterPredictor(tmp_path / "seg", device="cpu", backend="onnx").predict_probability_maps(photo)
    torch_maps = SegmenterPredictor(tmp_path / "seg", device="cpu", backend="torch").predict_probability_maps(photo)
    assert onnx_maps[0].shape == (90, 120)
    np.testing.assert_allclose(onnx_maps[0], torch_maps[0], atol=1e-4)


def test_config_rejects_bad_values() -> None:
    with pytest.raises(ValueError, match="encoder"):
        ModelConfig(task="segmentation", arch="unet", input_size=(64, 64))
    with pytest.raises(ValueError):
        tiny_classifier_config(temperature=0)
    with pytest.raises(ValueError, match="unknown lesion class"):
        tiny_classifier_config(labels=("mel", "freckle"))


def test_center_crop_box_is_two_thirds_of_short_side() -> None:
    config = tiny_classifier_config(resize_policy="center_crop")
    left, top, right, bottom = crop_box(600, 450, config)
    assert (right - left, bottom - top) == (300, 300)
    assert (left, top) == (150, 75)
    assert crop_box(600, 450, tiny_classifier_config()) == (0, 0, 600, 450)


def test_preprocess_uses_config_mean_std() -> None:
    config = tiny_classifier_config(mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))
    white = Image.new("RGB", (100, 80), (255, 255, 255))
    batch = preprocess([white, white], config)
    assert batch.shape == (2, 3, 32, 40)
    assert torch.allclose(batch, torch.ones_like(batch))


@pytest.mark.parametrize("policy", ["resize", "center_crop"])
def test_restored_map_lands_on_original_pixels(policy: str) -> None:
    # A network-sized map that is 1 exactly where a square lesion is must come back on the same photo pixels.
    config = tiny_segmenter_config(input_size=(64, 64), resize_policy=policy)
    width, height = 300, 200
    left, top, right, bottom = crop_box(width, height, config)
    truth = np.zeros((height, width), dtype=bool)
    truth[80:140, 120:200] = True
    crop = truth[top:bottom, left:right].astype(np.float32)
    net_map = torch.nn.functional.interpolate(torch.from_numpy(crop)[None, None], size=(64, 64), mode="area")[0, 0]
    restored = restore_probability_map(net_map.numpy(), (width, height), config) > 0.5
    assert restored.shape == (height, width)
    iou = (restored & truth).sum() / (restored | truth).sum()
    assert iou > 0.9


def test_bundle_round_trip_and_onnx(tmp_path: Path) -> None:
    config = tiny_classifier_config(temperature=1.7, metrics={"balanced_accuracy": 0.5})
    model = create_classifier(config.arch).eval()
    save_bundle(tmp_path / "clf", model, config, onnx=True)
    assert has_onnx(tmp_path / "clf")
    loaded, loaded_config = load_bundle(tmp_path / "clf")
    assert loaded_config == config
    x = torch.randn(3, 3, 32, 40)
    with torch.inference_mode():
        assert torch.allclose(model(x), loaded(x), atol=1e-6)
    images = [Image.new("RGB", (50 + i, 40), (120, 80, 60)) for i in range(3)]
    torch_probs = ClassifierPredictor(tmp_path / "clf", device="cpu", backend="torch").predict_proba(images)
    onnx_pred = ClassifierPredictor(tmp_path / "clf", device="cpu", backend="auto")
    assert onnx_pred.backend == "onnx"
    onnx_probs = onnx_pred.predict_proba(images)
    assert torch_probs.shape == (3, 7)
    np.testing.assert_allclose(torch_probs.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(torch_probs, onnx_probs, atol=1e-4)


def test_bundle_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match=r"config\.json is missing"):
        load_config(tmp_path)
    config = tiny_classifier_config()
    save_bundle(tmp_path / "b", create_classifier("resnet18"), config)
    (tmp_path / "b" / "config.json").write_text(tiny_classifier_config(arch="resnet34").to_json())
    with pytest.raises(BundleError, match="do not match resnet34"):
        load_bundle(tmp_path / "b")


def test_segmenter_predictor_masks_have_photo_size(tmp_path: Path) -> None:
    config = tiny_segmenter_config()
    save_bundle(tmp_path / "seg", create_segmenter("unet", "resnet18"), config)
    predictor = SegmenterPredictor(tmp_path / "seg", device="cpu")
    photos = [Image.new("RGB", (200, 150), (200, 150, 120)), Image.new("RGB", (77, 123), (90, 60, 40))]
    maps = predictor.predict_probability_maps(photos)
    assert [m.shape for m in maps] == [(150, 200), (123, 77)]
    assert all(m.min() >= 0.0 and m.max() <= 1.0 for m in maps)
    with pytest.raises(ValueError, match="not a classifier"):
        ClassifierPredictor(tmp_path / "seg")
