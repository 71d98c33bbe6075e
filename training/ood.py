"""Photos that are not skin lesions, made here or taken from images that installed packages ship, to measure how
well the not-a-lesion check tells them apart from real lesion photos. Nothing is copied into the repository.

Kinds: flat colours, colour gradients, noise, stripes and checkerboards, text renders, and crops of the natural
photos scikit-learn and matplotlib ship (a Chinese temple, a flower, Grace Hopper's portrait, a packet).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

KINDS = ("flat", "gradient", "noise", "pattern", "text", "natural")


def _natural_photos() -> list[np.ndarray]:
    photos: list[np.ndarray] = []
    try:
        from sklearn.datasets import load_sample_images

        photos.extend(np.asarray(img, dtype=np.uint8) for img in load_sample_images().images)
    except ImportError:
        pass
    try:
        import matplotlib

        folder = Path(matplotlib.get_data_path()) / "sample_data"
        for name in ("grace_hopper.jpg", "Minduka_Present_Blue_Pack.png"):
            if (folder / name).exists():
                with Image.open(folder / name) as img:
                    photos.append(np.asarray(img.convert("RGB"), dtype=np.uint8))
    except ImportError:
        pass
    return photos


def _text(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    height = size[1]
    paper = tuple(int(v) for v in rng.integers(180, 256, 3))
    ink = tuple(int(v) for v in rng.integers(0, 90, 3))
    image = Image.new("RGB", size, paper)
    draw = ImageDraw.Draw(image)
    try:
        font: ImageFont.ImageFont | ImageFont.FreeTypeFont = ImageFont.truetype("DejaVuSans.ttf",
                                                                                int(rng.integers(12, 28)))
    except OSError:
        font = ImageFont.load_default()
    words = ["the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "skin", "photo", "invoice",
             "total", "2026", "page"]
    y = int(rng.integers(0, 10))
    while y < height:
        line = " ".join(rng.choice(words, size=8))
        draw.text((int(rng.integers(-20, 10)), y), line, fill=ink, font=font)
        y += int(rng.integers(16, 34))
    return np.asarray(image)


def generate(n: int, size: tuple[int, int] = (200, 150), seed: int = 0) -> Iterator[tuple[str, np.ndarray]]:
    """``n`` (kind, uint8 H×W×3 image) pairs of ``size`` (width, height), the kinds taking turns."""
    rng = np.random.default_rng(seed)
    naturals = _natural_photos()
    width, height = size
    kinds = [k for k in KINDS if k != "natural" or naturals]
    for i in range(n):
        kind = kinds[i % len(kinds)]
        if kind == "flat":
            image = np.broadcast_to(rng.integers(0, 256, 3, dtype=np.uint8), (height, width, 3)).copy()
        elif kind == "gradient":
            a, b = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
            t = np.linspace(0, 1, width)[None, :, None] if rng.random() < 0.5 else np.linspace(0, 1, height)[
                :, None, None]
            image = np.broadcast_to(a + (b - a) * t, (height, width, 3)).astype(np.uint8)
        elif kind == "noise":
            scale = int(rng.choice([1, 4, 16]))
            small = rng.integers(0, 256, (max(1, height // scale), max(1, width // scale), 3), dtype=np.uint8)
            image = np.asarray(Image.fromarray(small).resize((width, height), Image.Resampling.BILINEAR))
        elif kind == "pattern":
            period = int(rng.integers(6, 40))
            yy, xx = np.mgrid[0:height, 0:width]
            wave = (xx // period + (yy // period if rng.random() < 0.5 else 0)) % 2
            a, b = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
            image = np.where(wave[..., None] == 1, a, b).astype(np.uint8)
        elif kind == "text":
            image = _text(rng, size)
        else:
            photo = naturals[int(rng.integers(len(naturals)))]
            crop_h = int(rng.integers(min(60, photo.shape[0]), photo.shape[0] + 1))
            crop_w = min(photo.shape[1], int(crop_h * width / height))
            top = int(rng.integers(0, photo.shape[0] - crop_h + 1))
            left = int(rng.integers(0, photo.shape[1] - crop_w + 1))
            image = np.asarray(Image.fromarray(photo[top : top + crop_h, left : left + crop_w]).resize(
                (width, height), Image.Resampling.BILINEAR))
        yield kind, image
