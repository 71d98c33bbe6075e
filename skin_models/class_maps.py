"""A classifier that also returns its class activation maps (``skin_models.explain``), for the ONNX export and the
PyTorch backend: one forward pass gives the logits and the maps they are the spatial mean of.

Only networks whose logits are a linear layer over the *average-pooled last feature map* have such maps. timm's
ResNets and EfficientNets do; MobileNetV3/V4 put a 1×1 ``conv_head`` between the pooling and the linear layer,
ConvNeXt a LayerNorm, RegNet's head pools inside it: for those :func:`supports_cam` is False, and they are exported
and served without an explanation.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from skin_models.explain import CamUnavailable


def _looks_like_cam(model: nn.Module) -> bool:
    pool = getattr(model, "global_pool", None)
    get_classifier = getattr(model, "get_classifier", None)
    return (hasattr(model, "forward_features") and callable(get_classifier)
            and isinstance(get_classifier(), nn.Linear) and getattr(pool, "pool_type", None) == "avg")


def supports_cam(model: nn.Module, input_size: tuple[int, int] = (64, 64)) -> bool:
    """Whether ``model``'s logits are the spatial mean of its class maps: checked by shape and by one forward pass
    on noise (a layer between the pooling and the linear layer, as MobileNetV3's ``conv_head``, breaks either)."""
    if not _looks_like_cam(model):
        return False
    was_training = model.training
    model.eval()
    try:
        x = torch.randn(1, 3, *input_size, generator=torch.Generator().manual_seed(0))
        with torch.inference_mode():
            logits, _ = _logits_and_maps(model, x)
            return bool(torch.allclose(logits, model(x), atol=1e-4, rtol=1e-4))
    except RuntimeError:  # e.g. einsum over 576 feature channels for a linear layer that takes 1024
        return False
    finally:
        model.train(was_training)


def _logits_and_maps(model: Any, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    features = model.forward_features(x)
    classifier = model.get_classifier()
    maps = torch.einsum("nchw,kc->nkhw", features, classifier.weight) + classifier.bias[None, :, None, None]
    return maps.mean(dim=(2, 3)), maps


class WithClassMaps(nn.Module):
    """``model`` returning ``(logits, maps)``; ``maps`` is (N, classes, h, w) and its spatial mean is ``logits``."""

    def __init__(self, model: nn.Module, input_size: tuple[int, int] = (64, 64)) -> None:
        super().__init__()
        if not supports_cam(model, input_size):
            raise CamUnavailable(f"{type(model).__name__} does not end in average pooling + one linear layer")
        self.model = model

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return _logits_and_maps(self.model, x)
