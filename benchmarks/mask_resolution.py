"""How much segmentation quality a network input size can hold at most (not a test).

``python benchmarks/mask_resolution.py [--data PATH] [--split-file F --split val] [--sizes 48x64 64x96 96x128]``

Each true lesion mask is shrunk to the network's size (area averaging) and blown back up to the photo's size
(bilinear, threshold 0.5), as the service does with a predicted map. The Dice, IoU and thresholded Jaccard of those
round-tripped masks against the originals are the best any segmenter at that input size could score: when they are
near 1, the input size is not what limits the model, training is.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))


def round_trip_metrics(data: Path, sizes: list[tuple[int, int]], split_file: Path | None,
                       split: str | None) -> dict[str, dict[str, float]]:
    import numpy as np
    import torch
    import torch.nn.functional as F
    from tqdm.auto import tqdm

    from training.data import load_image, load_mask
    from training.evaluate import select_records
    from training.metrics import segmentation_metrics

    records = [r for r in select_records(data, split_file, split) if r.mask_path is not None]
    if not records:
        raise SystemExit(f"no image with a mask in {data}")
    masks = [load_mask(r, load_image(r).size) for r in tqdm(records, desc="masks", unit="img")]
    results: dict[str, dict[str, float]] = {}
    for height, width in sizes:
        restored = []
        for mask in masks:
            tensor = torch.from_numpy(mask.astype(np.float32))[None, None]
            small = F.interpolate(tensor, size=(height, width), mode="area")
            back = F.interpolate(small, size=mask.shape, mode="bilinear", align_corners=False)[0, 0]
            restored.append(back.numpy() > 0.5)
        metrics = segmentation_metrics(restored, masks)
        results[f"{height}x{width}"] = {k: float(metrics[k]) for k in ("dice", "iou", "thresholded_jaccard")}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO_ROOT.parent / "shared" / "data" / "ham10000-dev")
    parser.add_argument("--split-file", type=Path)
    parser.add_argument("--split", choices=["train", "val", "test"])
    parser.add_argument("--sizes", nargs="+", default=["48x64", "64x96", "96x128"], help="HEIGHTxWIDTH")
    args = parser.parse_args()
    sizes = [tuple(int(v) for v in size.split("x")) for size in args.sizes]
    results = round_trip_metrics(args.data.resolve(), sizes, args.split_file, args.split)  # type: ignore[arg-type]
    print("| input size | Dice | IoU | thresholded Jaccard |\n|---|---|---|---|")
    for size, row in results.items():
        print(f"| {size} | {row['dice']:.4f} | {row['iou']:.4f} | {row['thresholded_jaccard']:.4f} |")


if __name__ == "__main__":
    main()
