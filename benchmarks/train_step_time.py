"""Training step time of candidate networks on this machine (not a test): what an epoch costs before a recipe is
chosen. ``python benchmarks/train_step_time.py [--threads 2]``

Each candidate runs forward + backward + an AdamW step on random tensors (channels-last, as training does); the
median of the steps after two warm-up steps is reported with the minutes one epoch of 7,519 images (the
development set's training split) would take.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

TRAIN_IMAGES = 7519
CLASSIFIERS = [("resnet18", 64, 80), ("resnet18", 96, 128), ("resnet10t", 96, 128), ("efficientnet_b0", 96, 128),
               ("resnet18", 128, 160)]
LIGHT_DECODER = [128, 64, 32, 16, 16]
SEGMENTERS = [("unet", "resnet18", 64, 96, LIGHT_DECODER), ("unet", "resnet18", 48, 64, LIGHT_DECODER),
              ("unet", "tu-resnet10t", 64, 96, LIGHT_DECODER), ("unet", "resnet18", 96, 128, LIGHT_DECODER),
              ("unet", "resnet18", 128, 160, LIGHT_DECODER), ("fpn", "resnet18", 96, 128, None),
              ("linknet", "resnet18", 128, 160, None)]


def step_seconds(model: object, batch: int, height: int, width: int, *, segmentation: bool, steps: int = 6) -> float:
    import torch

    net: torch.nn.Module = model  # type: ignore[assignment]
    net.train().to(memory_format=torch.channels_last)
    optimizer = torch.optim.AdamW(net.parameters(), lr=1e-3)
    x = torch.randn(batch, 3, height, width).contiguous(memory_format=torch.channels_last)
    y = (torch.rand(batch, 1, height, width) > 0.5).float() if segmentation else torch.randint(0, 7, (batch,))
    functional = torch.nn.functional
    loss_fn = functional.binary_cross_entropy_with_logits if segmentation else functional.cross_entropy
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        loss = loss_fn(net(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        times.append(time.perf_counter() - start)
    return statistics.median(times[2:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    import torch

    from skin_models.factory import create_classifier, create_segmenter

    torch.set_num_threads(args.threads)
    print("| network | input | batch | s per step | min per epoch |\n|---|---|---|---|---|")
    for arch, height, width in CLASSIFIERS:
        seconds = step_seconds(create_classifier(arch), 32, height, width, segmentation=False)
        minutes = TRAIN_IMAGES / 32 * seconds / 60
        print(f"| {arch} | {height}x{width} | 32 | {seconds:.2f} | {minutes:.1f} |", flush=True)
    for arch, encoder, height, width, decoder in SEGMENTERS:
        kwargs: dict[str, Any] = {"decoder_channels": decoder} if decoder else {}
        seconds = step_seconds(create_segmenter(arch, encoder, **kwargs), 16, height, width, segmentation=True)
        minutes = TRAIN_IMAGES / 16 * seconds / 60
        print(f"| {arch}/{encoder} | {height}x{width} | 16 | {seconds:.2f} | {minutes:.1f} |", flush=True)


if __name__ == "__main__":
    main()
