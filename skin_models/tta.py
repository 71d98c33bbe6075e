"""Test-time augmentation with flips: the network sees each photo mirrored, and the outputs are averaged.

A dermoscopic lesion has no preferred left/right or up/down, so a mirrored photo is as valid an input as the
original; averaging the network's logits over the mirrors removes part of its orientation noise. Segmentation
outputs are mirrored back before averaging so that every view's map lines up with the photo.

Modes (``ModelConfig.tta``): ``none`` (one view), ``hflip`` (2 views), ``flips`` (4 views: identity,
horizontal, vertical, both). All views of a batch go through the network as one larger batch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import numpy as np

TtaMode = Literal["none", "hflip", "flips"]

# Each view is a tuple of the axes it mirrors, counted from the end (-1 = width, -2 = height). A flip is its
# own inverse, so the same axes map a view's output back onto the photo.
VIEWS: dict[str, tuple[tuple[int, ...], ...]] = {
    "none": ((),),
    "hflip": ((), (-1,)),
    "flips": ((), (-1,), (-2,), (-2, -1)),
}


def n_views(mode: str) -> int:
    if mode not in VIEWS:
        raise ValueError(f"unknown test-time augmentation {mode!r}; valid: {', '.join(VIEWS)}")
    return len(VIEWS[mode])


def expand(batch: Any, mode: str) -> Any:
    """An (N, C, H, W) batch → (V·N, C, H, W): view 0 of every image, then view 1, … A numpy array (serving: no
    torch) or a torch tensor (training) in, the same kind out."""
    if n_views(mode) == 1:
        return batch
    if isinstance(batch, np.ndarray):
        return np.ascontiguousarray(np.concatenate([np.flip(batch, axes) if axes else batch
                                                    for axes in VIEWS[mode]]))
    import torch

    return torch.cat([batch.flip(axes) if axes else batch for axes in VIEWS[mode]])


def merge(outputs: np.ndarray, mode: str, *, spatial: bool) -> np.ndarray:
    """(V·N, …) network outputs → (N, …) means over the views.

    ``spatial`` outputs (N, C, H, W maps) are mirrored back first; class logits are averaged as they are.
    """
    views = n_views(mode)
    if views == 1:
        return outputs
    if len(outputs) % views:
        raise ValueError(f"{len(outputs)} outputs cannot hold {views} views of one batch")
    per_view = np.split(outputs, views)
    if spatial:
        per_view = [np.flip(out, axis=axes) if axes else out for out, axes in zip(per_view, VIEWS[mode], strict=True)]
    return np.mean(per_view, axis=0).astype(outputs.dtype, copy=False)


def apply(run: Callable[[Any], np.ndarray], batch: Any, mode: str, *, spatial: bool) -> np.ndarray:
    """``run`` (a network: NCHW batch → numpy outputs) on every view of ``batch`` in one call, averaged."""
    return merge(run(expand(batch, mode)), mode, spatial=spatial)
