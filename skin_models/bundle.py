"""The model bundle: a folder with ``config.json``, ``model.safetensors`` and optionally ``model.onnx`` (and
``model.int8.onnx``, its int8 quantisation, when ``drskin quantize`` found it keeps the quality: ``config.int8``).

Weights are a plain state dict in safetensors (never a pickled module: torch refuses to unpickle those by
default, and pickles can run code). The config says how to rebuild the network and feed it.

A classifier's ONNX graph has two outputs when the network has class activation maps (``skin_models.class_maps``):
``logits`` and ``class_maps`` (N, classes, h, w), so the explanation comes out of the answer's own pass, int8
included. Older exports (``logits`` only) are served without an explanation.

Reading a config and finding the ONNX files needs no torch (the service runs ONNX Runtime only); saving, exporting and
loading the PyTorch network import it when called.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from skin_models.config import ModelConfig

if TYPE_CHECKING:
    import torch
    from torch import nn

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
ONNX_FILE = "model.onnx"
INT8_ONNX_FILE = "model.int8.onnx"
# The ONNX graph's outputs: the logits, and for a classifier with class activation maps its maps.
LOGITS_OUTPUT = "logits"
CLASS_MAPS_OUTPUT = "class_maps"


class BundleError(RuntimeError):
    """A bundle folder that is missing files or does not match its config."""


def save_bundle(path: Path, model: nn.Module, config: ModelConfig, *, onnx: bool = False) -> Path:
    """Write ``model`` and ``config`` into the folder ``path`` (created); optionally with an ONNX export."""
    from safetensors.torch import save_file

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    config.save(path / CONFIG_FILE)
    # clone() breaks shared storage, which safetensors refuses to write.
    state = {k: v.detach().to("cpu").contiguous().clone() for k, v in model.state_dict().items()}
    save_file(state, str(path / WEIGHTS_FILE), metadata={"task": config.task, "arch": config.arch})
    if onnx:
        export_onnx(model, config, path / ONNX_FILE)
    return path


def load_config(path: Path) -> ModelConfig:
    """Only the config of a bundle (cheap: no weights are read)."""
    config_path = Path(path) / CONFIG_FILE
    if not config_path.exists():
        raise BundleError(f"{path} is not a model bundle: {CONFIG_FILE} is missing")
    return ModelConfig.load(config_path)


def load_bundle(path: Path, device: torch.device | str = "cpu") -> tuple[nn.Module, ModelConfig]:
    """Rebuild the network from a bundle, in eval mode, on ``device``."""
    from safetensors.torch import load_file

    from skin_models.factory import build_model

    path = Path(path)
    config = load_config(path)
    weights = path / WEIGHTS_FILE
    if not weights.exists():
        raise BundleError(f"{path}: {WEIGHTS_FILE} is missing")
    model = build_model(config)
    state = load_file(str(weights), device="cpu")
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise BundleError(f"{path}: weights do not match {config.arch}: missing {list(missing)[:5]}, "
                          f"unexpected {list(unexpected)[:5]}")
    return model.to(device).eval(), config


def has_onnx(path: Path) -> bool:
    return (Path(path) / ONNX_FILE).exists()


def servable_int8(path: Path, config: ModelConfig) -> bool:
    """The bundle has an int8 network that passed its quality check (``config.int8``). Whether it is served is the
    caller's choice too (the predictors' ``int8``; the service's ``DRSKIN_INT8``)."""
    return config.int8 is not None and (Path(path) / INT8_ONNX_FILE).exists()


def export_onnx(model: nn.Module, config: ModelConfig, out: Path, *, check: bool = True, atol: float = 1e-3) -> Path:
    """Export ``model`` to ONNX with a dynamic batch dimension; with ``check``, verify it against PyTorch.

    A classifier with class activation maps is exported with them as a second output (``class_maps``)."""
    import torch

    from skin_models.class_maps import WithClassMaps, supports_cam

    height, width = config.input_size
    model = model.to("cpu").eval()
    example = torch.randn(2, 3, height, width)
    exported: nn.Module = model
    output_names = [LOGITS_OUTPUT]
    if config.task == "classification" and supports_cam(model, (height, width)):
        exported = WithClassMaps(model, (height, width))
        output_names.append(CLASS_MAPS_OUTPUT)
    with warnings.catch_warnings():
        # The TorchScript-based exporter is deprecated but exports dynamic batch sizes reliably for these nets.
        warnings.simplefilter("ignore")
        torch.onnx.export(exported, (example,), str(out), input_names=["input"], output_names=output_names,
                          dynamic_axes={"input": {0: "batch"}, **{name: {0: "batch"} for name in output_names}},
                          opset_version=17, dynamo=False)
    if check:
        max_diff = onnx_max_difference(model, out, config)
        if max_diff > atol:
            out.unlink(missing_ok=True)
            raise BundleError(f"ONNX export differs from PyTorch by {max_diff:.2e} (> {atol:.0e}); not kept")
    return out


def onnx_max_difference(model: nn.Module, onnx_path: Path, config: ModelConfig, batch_sizes: tuple[int, ...] = (1, 3),
                        seed: int = 0) -> float:
    """Largest absolute difference between PyTorch and ONNX Runtime outputs (each of the graph's outputs: the
    logits, and the class maps when exported) on random inputs."""
    import onnxruntime as ort
    import torch

    from skin_models.class_maps import WithClassMaps

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    generator = torch.Generator().manual_seed(seed)
    height, width = config.input_size
    worst = 0.0
    model = model.to("cpu").eval()
    for batch in batch_sizes:
        x = torch.randn(batch, 3, height, width, generator=generator)
        got = session.run(None, {session.get_inputs()[0].name: x.numpy()})
        with torch.inference_mode():
            expected = [model(x)] if len(got) == 1 else list(WithClassMaps(model, (height, width))(x))
        for want, have in zip(expected, got, strict=True):
            worst = max(worst, float(np.abs(want.numpy() - have).max()))
    return worst
