"""Choosing where the networks run."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


def nvidia_gpu_present() -> bool:
    """Whether the NVIDIA driver shows a GPU to this process (its /proc entries, or a device node in a container)."""
    gpus = Path("/proc/driver/nvidia/gpus")
    return (gpus.is_dir() and any(gpus.iterdir())) or any(Path("/dev").glob("nvidia[0-9]*"))


def cuda_available() -> bool:
    """Whether a CUDA GPU can run the networks. Without an NVIDIA GPU nothing is asked (so the ONNX path never
    imports torch); with one, torch where it is installed, else ONNX Runtime (the service's image has no torch)."""
    if not nvidia_gpu_present():
        return False
    try:
        import torch
    except ImportError:
        import onnxruntime as ort

        return "CUDAExecutionProvider" in ort.get_available_providers()
    return bool(torch.cuda.is_available())


def device_kind(spec: str = "auto") -> str:
    """``"auto"`` → ``"cuda"`` when a GPU is present, else ``"cpu"``; ``"cuda[:N]"`` without a GPU is an error, not a
    silent fallback. Torch-free where torch is not installed."""
    spec = spec.lower()
    if spec == "auto":
        return "cuda" if cuda_available() else "cpu"
    if spec not in {"cpu"} and not spec.startswith("cuda"):
        raise ValueError(f"unknown device {spec!r}; use auto, cpu or cuda[:N]")
    if spec.startswith("cuda") and not cuda_available():
        raise RuntimeError("device 'cuda' was asked for but no CUDA GPU is available; use --device cpu or auto")
    return "cuda" if spec.startswith("cuda") else "cpu"


def resolve_device(spec: str | torch.device = "auto") -> torch.device:
    """:func:`device_kind` as a ``torch.device`` (``"cuda:1"`` keeps its index), for training and the PyTorch
    backend."""
    import torch

    if isinstance(spec, torch.device):
        return spec
    kind = device_kind(spec)
    return torch.device(spec.lower() if kind == "cuda" and spec.lower() != "auto" else kind)
