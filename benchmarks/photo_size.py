"""What a camera-sized photo costs the service, with and without ``DRSKIN_MAX_SIDE`` (not a test).

``python benchmarks/photo_size.py [--sizes 200x150 1024x768 2016x1512 4032x3024] [--repeats 5] [--max-side 1024]``

Real HAM10000 photos (synthetic ones when ``../shared`` is absent) are enlarged to each size and saved as JPEG
(quality 92, as a phone would), then the whole in-process diagnosis (``serving.NaivePipeline.diagnose``: decode,
both networks, mask at the working size, measurements, overlay, two PNGs, quality) runs on them twice, side by
side: at the photo's own size (what the service did before ``DRSKIN_MAX_SIDE``) and scaled down to ``--max-side``
first (what it does now). It prints the median milliseconds per photo and the ratio for every size, and the
response size (the two base64 PNGs). Models come from the default BentoML store, or the tests' tiny models.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def enlarged_jpegs(photos: list[bytes], size: tuple[int, int]) -> list[bytes]:
    from PIL import Image

    out = []
    for data in photos:
        buffer = io.BytesIO()
        Image.open(io.BytesIO(data)).convert("RGB").resize(size, Image.Resampling.BICUBIC).save(
            buffer, format="JPEG", quality=92)
        out.append(buffer.getvalue())
    return out


def timed(pipeline, photos: list[bytes], repeats: int, max_side: int | None) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    """Median ms per diagnosis over ``repeats`` passes of ``photos``, and the median size of the JSON answer."""
    pipeline.diagnose(photos[0], max_side=max_side)  # warm-up
    times, sizes = [], []
    for i in range(repeats * len(photos)):
        start = time.perf_counter()
        result = pipeline.diagnose(photos[i % len(photos)], max_side=max_side)
        times.append((time.perf_counter() - start) * 1000)
        sizes.append(len(json.dumps(result)))
    return statistics.median(times), int(statistics.median(sizes))


def parse_size(text: str) -> tuple[int, int]:
    width, _, height = text.lower().partition("x")
    return int(width), int(height)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", type=parse_size,
                        default=[(200, 150), (1024, 768), (2016, 1512), (4032, 3024)], help="WIDTHxHEIGHT")
    parser.add_argument("--photos", type=int, default=4, help="distinct photos per size")
    parser.add_argument("--repeats", type=int, default=3, help="passes over the photos per size and setting")
    parser.add_argument("--max-side", type=int, default=1024, help="the service's DRSKIN_MAX_SIDE")
    args = parser.parse_args()

    from serving_benchmark import NaivePipeline, load_photos, served_or_tiny_models, use_service_threads

    use_service_threads()
    _, models, note, temp_home = served_or_tiny_models()
    print(f"models: {note}")
    pipeline = NaivePipeline(Path(models["skin-classifier"]["path"]), Path(models["skin-segmenter"]["path"]))
    photos, photos_note = load_photos(args.photos)
    print(f"photos: {photos_note}, load average {os.getloadavg()[0]:.1f}\n")
    print(f"| photo | own size (ms) | scaled to {args.max_side} px (ms) | ratio | response PNGs own / scaled (KB) |")
    print("|---|---:|---:|---:|---:|")
    try:
        for size in args.sizes:
            jpegs = enlarged_jpegs(photos, size)
            own_ms, own_bytes = timed(pipeline, jpegs, args.repeats, None)
            capped_ms, capped_bytes = timed(pipeline, jpegs, args.repeats, args.max_side)
            print(f"| {size[0]}×{size[1]} | {own_ms:.0f} | {capped_ms:.0f} | {own_ms / capped_ms:.2f}× | "
                  f"{own_bytes / 1024:.0f} / {capped_bytes / 1024:.0f} |", flush=True)
    finally:
        if temp_home is not None:
            shutil.rmtree(temp_home, ignore_errors=True)


if __name__ == "__main__":
    main()
