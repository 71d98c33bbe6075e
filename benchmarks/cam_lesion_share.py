"""How much of the classifier's class activation map lies inside the lesion (not a test).

``python benchmarks/cam_lesion_share.py --split-file var/runs/RUN/splits.csv [--split test] [--classifier TAG]``

For every photo of the split: the served classifier's map for its top class (``skin_models.explain``, what
``/diagnose?explain=true`` returns), laid over the photo, and the share of its mass inside the ground-truth lesion
mask. Printed: the mean and median share, the share of photos with most of the mass inside, and — the baseline a
map that ignored the lesion would get — the mean share of the photo the lesion covers.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO_ROOT.parent / "shared" / "data" / "ham10000-dev")
    parser.add_argument("--split-file", type=Path, required=True)
    parser.add_argument("--split", default="test")
    parser.add_argument("--classifier", default="skin-classifier:latest")
    args = parser.parse_args()

    import numpy as np
    from tqdm.auto import tqdm

    from skin_models.explain import normalised_map, share_inside, to_photo
    from skin_models.predict import ClassifierPredictor
    from skin_models.preprocess import crop_box, to_uint8_batch
    from training.data import load_image, load_mask
    from training.evaluate import select_records
    from training.registry import bentoml_model_path

    records = [r for r in select_records(args.data, args.split_file, args.split) if r.mask_path is not None]
    predictor = ClassifierPredictor(bentoml_model_path(args.classifier), device="cpu")
    if predictor.needs_lesion_mask:
        raise SystemExit("a lesion_crop classifier only sees the lesion: the share says nothing there")
    shares: list[float] = []
    areas: list[float] = []
    for start in tqdm(range(0, len(records), 32), desc="maps", unit="batch"):
        batch = records[start : start + 32]
        images = [load_image(r) for r in batch]
        _, maps = predictor.logits_and_maps_from_uint8(to_uint8_batch(images, predictor.config))
        if maps is None:
            raise SystemExit("this classifier's export has no class maps (an older export, or a network without "
                             "them): re-register it to export them")
        for record, image, class_maps in zip(batch, images, maps, strict=True):
            top = int(np.argmax(class_maps.mean(axis=(1, 2))))
            heat = to_photo(normalised_map(class_maps, top), crop_box(image.width, image.height, predictor.config),
                            image.size)
            mask = load_mask(record, size=image.size)
            share = share_inside(heat, mask)
            if share is not None:
                shares.append(share)
                areas.append(float(mask.mean()))
    print(f"{len(shares)} photos of split {args.split} ({args.split_file})")
    print(f"map mass inside the lesion: mean {statistics.mean(shares):.3f}, median {statistics.median(shares):.3f}; "
          f"more than half inside in {np.mean(np.array(shares) > 0.5):.1%} of photos")
    print(f"baseline (lesion's share of the photo, what an even map would get): mean {statistics.mean(areas):.3f}")


if __name__ == "__main__":
    main()
