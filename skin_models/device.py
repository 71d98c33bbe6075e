"""Choosing where the networks run."""

from __future__ import annotations

import torch


def resolve_device(spec: str | torch.device = "auto") -> torch.device:
    """``"auto"`` → CUDA when present, else CPU; ``"cuda"`` without a GPU is an error, not a silent fallback."""
    if isinstance(spec, torch.device):
        return spec
    spec = spec.lower()
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if spec.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' was asked for but no CUDA GPU is available; use --device cpu or auto")
    if spec not in {"cpu"} and not spec.startswith("cuda"):
        raise ValueError(f"unknown device {spec!r}; use auto, cpu or cuda[:N]")
    return torch.device(spec)
