"""Training step time of candidate networks on this machine (not a test): what an epoch costs before a recipe is
chosen. ``python benchmarks/train_step_time.py [--threads 2] [--only lite]``

Each candidate runs forward + backward + an AdamW step on random tensors; the median of the steps after two
warm-up steps is reported as images/s and as the minutes one epoch of 7,519 images (the development set's
training split) would take. Rows differ in precision (fp32, or bf16 autocast as ``cpu_bf16`` trains) and memory
layout (channels-last, as training does, or contiguous), side by side in one run.
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
# (arch, height, width, bf16, channels_last)
CLASSIFIERS = [("resnet18", 64, 80, False, True), ("resnet10t", 96, 128, False, True),
               ("tf_efficientnet_lite0", 150, 200, False, True), ("tf_efficientnet_lite0", 150, 200, True, True),
               ("tf_efficientnet_lite0", 150, 200, False, False), ("tf_efficientnet_lite0", 112, 144, True, True),
               ("tf_efficientnet_lite0", 224, 288, True, True), ("tf_efficientnet_lite1", 150, 200, True, True)]
LIGHT_DECODER = [128, 64, 32, 16, 16]
SEGMENTERS = [("unet", "tu-resnet10t", 64, 96, LIGHT_DECODER, False),
              ("unet", "tu-resnet10t", 64, 96, LIGHT_DECODER, True),
              ("unet", "tu-tf_efficientnet_lite0", 64, 96, LIGHT_DECODER, False),
              ("unet", "tu-tf_efficientnet_lite0", 64, 96, LIGHT_DECODER, True),
              ("unet", "tu-tf_efficientnet_lite0", 96, 128, LIGHT_DECODER, False)]


def step_seconds(model: object, batch: int, height: int, width: int, *, segmentation: bool, steps: int = 6,
                 bf16: bool = False, channels_last: bool = True) -> float:
    import torch

    net: torch.nn.Module = model  # type: ignore[assignment]
    layout = torch.channels_last if channels_last else torch.contiguous_format
    net.train().to(memory_format=layout)
    optimizer = torch.optim.AdamW(net.parameters(), lr=1e-3)
    x = torch.randn(batch, 3, height, width).contiguous(memory_format=layout)
    y = (torch.rand(batch, 1, height, width) > 0.5).float() if segmentation else torch.randint(0, 7, (batch,))
    functional = torch.nn.functional
    loss_fn = functional.binary_cross_entropy_with_logits if segmentation else functional.cross_entropy
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = loss_fn(net(x).float(), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        times.append(time.perf_counter() - start)
    return statistics.median(times[2:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--only", default="", help="only the networks whose name contains this (e.g. lite)")
    args = parser.parse_args()
    import torch

    from skin_models.factory import create_classifier, create_segmenter

    torch.set_num_threads(args.threads)
    print("| network | input | precision | layout | batch | images/s | min per epoch |\n|---|---|---|---|---|---|---|")

    def row(name: str, height: int, width: int, bf16: bool, channels_last: bool, batch: int, seconds: float) -> None:
        print(f"| {name} | {height}x{width} | {'bf16' if bf16 else 'fp32'} | "
              f"{'channels-last' if channels_last else 'contiguous'} | {batch} | {batch / seconds:.1f} | "
              f"{TRAIN_IMAGES / batch * seconds / 60:.1f} |", flush=True)

    for arch, height, width, bf16, channels_last in CLASSIFIERS:
        if args.only in arch:
            row(arch, height, width, bf16, channels_last, 32, step_seconds(
                create_classifier(arch), 32, height, width, segmentation=False, bf16=bf16,
                channels_last=channels_last))
    for arch, encoder, height, width, decoder, bf16 in SEGMENTERS:
        if args.only in encoder:
            kwargs: dict[str, Any] = {"decoder_channels": decoder} if decoder else {}
            row(f"{arch}/{encoder}", height, width, bf16, True, 16, step_seconds(
                create_segmenter(arch, encoder, **kwargs), 16, height, width, segmentation=True, bf16=bf16))


if __name__ == "__main__":
    main()
