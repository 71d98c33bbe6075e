"""A synthetic data set in the HAM10000 layout, for tests, demos and CI without the real images.

Lesions are drawn procedurally with class-dependent size, shape, colour and texture, so a small CNN can learn
to tell them apart, on varied skin tones with hairs, vignetting, blur and noise. The masks are the exact drawn
lesion shapes, at 3x the image size as HAM10000's are (600x450 for 200x150 images). It is NOT medical data.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter
from tqdm import tqdm

from skin_models.labels import CLASS_CODES, ISIC_COLUMNS
from training.data import GROUND_TRUTH_FILE, IMAGES_DIR, MASK_SUFFIX, MASKS_DIR

# Official HAM10000 image counts per class; the synthetic set follows these shares.
HAM10000_CLASS_COUNTS: dict[str, int] = {
    "mel": 1113,
    "nv": 6705,
    "bcc": 514,
    "akiec": 327,
    "bkl": 1099,
    "df": 115,
    "vasc": 142,
}
MASK_SCALE = 3
ID_PREFIX = "SYN_"
# About a quarter of HAM10000's lesions have more than one photo; pairs reproduce that for grouped splits.
PAIR_PROBABILITY = 0.3

README_TEXT = """# SYNTHETIC DATA — NOT MEDICAL DATA

**Every image in this folder was drawn by a program (`drskin data synth`). None of it shows a real person,
a real skin lesion or a real diagnosis.** The "lesions" are coloured shapes whose look depends on the class
label so that software can be tested end to end. Do not use this folder, or any model trained on it, to make or
support any medical decision.

- images: {n} ({width}x{height} JPEG), masks at {mask_width}x{mask_height} (3x, as in HAM10000)
- seed: {seed}
- per class: {counts}

Layout (same as HAM10000 here): `GroundTruth.csv`, `metadata.csv` (with `lesion_id`; some lesions have two
images), `images/SYN_000001.jpg`, `masks/SYN_000001_segmentation.png`.
"""

# Fitzpatrick-like skin tones I..VI, weighted towards the lighter types that dominate HAM10000.
_SKIN_TONES = np.array(
    [(242, 212, 192), (232, 192, 165), (208, 162, 128), (172, 124, 90), (128, 86, 60), (86, 58, 42)], dtype=np.float32
)
_SKIN_WEIGHTS = np.array([0.25, 0.3, 0.2, 0.12, 0.08, 0.05])
_LOCALIZATIONS = ("back", "trunk", "lower extremity", "upper extremity", "abdomen", "face", "chest", "scalp")


@dataclass
class _Lesion:
    """What stays the same in every photo of one lesion."""

    code: str
    lesion_id: str
    radius: float  # as a fraction of the image height
    aspect: float
    blobs: list[tuple[float, float, float]]  # (dx, dy, r) in units of the lesion radius; vasc has several
    amps: np.ndarray
    phases: np.ndarray
    colours: np.ndarray  # class-specific palette, rows of RGB
    skin: np.ndarray  # RGB
    texture_seed: int
    extra: dict[str, float] = field(default_factory=dict)


def synthetic_class_counts(n: int) -> dict[str, int]:
    """Images per class for ``n`` images: HAM10000's shares, but at least 2 per class when n >= 14 (1 when n >= 7)."""
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    minimum = 2 if n >= 14 else 1 if n >= 7 else 0
    counts = dict.fromkeys(CLASS_CODES, minimum)
    rest = n - minimum * len(CLASS_CODES)
    total = sum(HAM10000_CLASS_COUNTS.values())
    exact = {code: rest * HAM10000_CLASS_COUNTS[code] / total for code in CLASS_CODES}
    for code in CLASS_CODES:
        counts[code] += math.floor(exact[code])
    # Largest remainder, so the counts add up to n exactly.
    leftover = n - sum(counts.values())
    for code in sorted(CLASS_CODES, key=lambda c: exact[c] - math.floor(exact[c]), reverse=True)[:leftover]:
        counts[code] += 1
    return counts


def generate_synthetic_dataset(
    out: Path,
    n: int,
    seed: int,
    size: tuple[int, int] = (200, 150),
    progress: bool = True,
    *,
    overwrite: bool = False,
) -> dict[str, int]:
    """Write ``n`` synthetic images in the HAM10000 layout to ``out``; returns the images per class.

    ``size`` is (width, height). A non-empty ``out`` is refused unless ``overwrite``; then only files of this
    layout are replaced. The same ``seed`` gives byte-identical GroundTruth.csv and metadata.csv and the same images.
    """
    out = Path(out)
    width, height = size
    if width < 16 or height < 16:
        raise ValueError(f"size must be at least 16x16, got {width}x{height}")
    counts = synthetic_class_counts(n)
    _prepare_folder(out, overwrite=overwrite)

    rng = np.random.default_rng(seed)
    photos: list[tuple[_Lesion, int]] = []  # (lesion, photo number within the lesion)
    lesion_number = 0
    for code in CLASS_CODES:
        remaining = counts[code]
        while remaining:
            lesion_number += 1
            lesion = _make_lesion(code, f"SYN_L{lesion_number:06d}", rng)
            # Keep singletons for tiny classes so they still have several lesions to split.
            n_photos = 2 if remaining >= 2 and counts[code] >= 4 and rng.random() < PAIR_PROBABILITY else 1
            photos.extend((lesion, k) for k in range(n_photos))
            remaining -= n_photos
    order = rng.permutation(len(photos))  # interleave classes, as real ids are not sorted by diagnosis

    truth_rows: list[list[str]] = []
    meta_rows: list[list[str]] = []
    for number, index in enumerate(tqdm(order, desc="drawing", unit="image", disable=not progress), start=1):
        lesion, _ = photos[index]
        image_id = f"{ID_PREFIX}{number:06d}"
        image_rng = np.random.default_rng([seed, number])
        image, mask = _render(lesion, (width, height), image_rng)
        image.save(out / IMAGES_DIR / f"{image_id}.jpg", quality=90)
        mask.save(out / MASKS_DIR / f"{image_id}{MASK_SUFFIX}")
        truth_rows.append([image_id, *("1.0" if code == lesion.code else "0.0" for code in CLASS_CODES)])
        meta_rows.append(
            [
                image_id,
                lesion.lesion_id,
                lesion.code,
                "synthetic",
                f"{5 * int(image_rng.integers(4, 18))}.0",
                str(image_rng.choice(["male", "female"])),
                str(image_rng.choice(_LOCALIZATIONS)),
            ]
        )

    _write_csv(out / GROUND_TRUTH_FILE, ["image", *ISIC_COLUMNS], truth_rows)
    _write_csv(out / "metadata.csv", ["image", "lesion_id", "dx", "dx_type", "age", "sex", "localization"], meta_rows)
    counts_text = ", ".join(f"{code} {counts[code]}" for code in CLASS_CODES)
    (out / "README.md").write_text(
        README_TEXT.format(
            n=n,
            width=width,
            height=height,
            mask_width=width * MASK_SCALE,
            mask_height=height * MASK_SCALE,
            seed=seed,
            counts=counts_text,
        ),
        encoding="utf-8",
    )
    return counts


# --- files --------------------------------------------------------------------------------------------------------


def _prepare_folder(out: Path, *, overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"{out} exists and is not a folder")
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise FileExistsError(f"{out} is not empty; choose an empty folder or allow overwriting")
        # Remove only what this generator writes, never anything else a user may keep there.
        for name in (GROUND_TRUTH_FILE, "metadata.csv", "README.md"):
            (out / name).unlink(missing_ok=True)
        for pattern, folder in ((f"{ID_PREFIX}*.jpg", IMAGES_DIR), (f"{ID_PREFIX}*{MASK_SUFFIX}", MASKS_DIR)):
            for stale in (out / folder).glob(pattern):
                stale.unlink()
    (out / IMAGES_DIR).mkdir(parents=True, exist_ok=True)
    (out / MASKS_DIR).mkdir(parents=True, exist_ok=True)


def _write_csv(path: Path, header: Sequence[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


# --- lesions ------------------------------------------------------------------------------------------------------


def _harmonics(
    rng: np.random.Generator, k: int, low: float, high: float, asymmetry: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    amps = (rng.uniform(low, high, size=k) / np.arange(1, k + 1) ** 0.5).astype(np.float32)
    amps[0] = asymmetry  # the k=1 term shifts mass to one side: asymmetry
    return amps, rng.uniform(0, 2 * np.pi, size=k).astype(np.float32)


def _skin_tone(rng: np.random.Generator) -> np.ndarray:
    index = rng.choice(len(_SKIN_TONES), p=_SKIN_WEIGHTS)
    neighbour = min(index + 1, len(_SKIN_TONES) - 1)
    t = rng.uniform(0, 0.5)
    return (1 - t) * _SKIN_TONES[index] + t * _SKIN_TONES[neighbour]


def _make_lesion(code: str, lesion_id: str, rng: np.random.Generator) -> _Lesion:
    """Class-specific appearance; the numbers were tuned by eye to resemble textbook dermoscopy descriptions."""
    lesion = _draw_lesion(code, lesion_id, rng)
    if code in ("mel", "nv", "bkl", "df"):
        # Pigmented lesions are darker than the skin around them on every skin type, so scale their browns
        # with the skin's lightness; the pale parts (df centre, bkl milia) keep their colour.
        pigment = float(np.clip(lesion.skin @ np.array([0.299, 0.587, 0.114]) / 190.0, 0.45, 1.0))
        rows = [0, 2] if code == "bkl" else [0] if code == "df" else list(range(len(lesion.colours)))
        lesion.colours[rows] *= pigment
    return lesion


def _draw_lesion(code: str, lesion_id: str, rng: np.random.Generator) -> _Lesion:
    single = [(0.0, 0.0, 1.0)]
    skin = _skin_tone(rng)
    texture_seed = int(rng.integers(2**31))
    if code == "mel":  # large, irregular, asymmetric, multi-coloured
        amps, phases = _harmonics(rng, 7, 0.08, 0.2, asymmetry=rng.uniform(0.1, 0.22))
        palette = [(35, 25, 25), (80, 45, 30), (135, 85, 55), (105, 115, 135), (160, 80, 70), (60, 40, 45)]
        picks = rng.choice(len(palette), size=int(rng.integers(3, 5)), replace=False)
        return _Lesion(
            code,
            lesion_id,
            rng.uniform(0.26, 0.38),
            rng.uniform(0.65, 1.0),
            single,
            amps,
            phases,
            np.array([palette[i] for i in picks], np.float32),
            skin,
            texture_seed,
        )
    if code == "nv":  # small, round, uniform brown
        amps, phases = _harmonics(rng, 4, 0.0, 0.04)
        brown = (1 - (t := rng.uniform())) * np.array([155, 105, 70]) + t * np.array([85, 55, 35])
        return _Lesion(
            code,
            lesion_id,
            rng.uniform(0.12, 0.2),
            rng.uniform(0.85, 1.0),
            single,
            amps,
            phases,
            brown[None].astype(np.float32),
            skin,
            texture_seed,
        )
    if code == "bcc":  # pinkish pearly, thin red arborising vessels, sometimes blue-grey nests
        amps, phases = _harmonics(rng, 5, 0.03, 0.1)
        colours = np.array([(228, 172, 178), (172, 28, 42), (95, 105, 125)], np.float32)
        colours[0] += rng.uniform(-15, 10, 3)
        return _Lesion(
            code,
            lesion_id,
            rng.uniform(0.16, 0.27),
            rng.uniform(0.7, 1.0),
            single,
            amps,
            phases,
            colours,
            skin,
            texture_seed,
            {"opacity": rng.uniform(0.6, 0.8)},
        )
    if code == "akiec":  # rough, scaly, red-pink, poorly defined
        amps, phases = _harmonics(rng, 9, 0.08, 0.16, asymmetry=rng.uniform(0, 0.08))
        colours = np.array([(205, 108, 104), (236, 222, 200)], np.float32)
        colours[0] += rng.uniform(-15, 15, 3)
        return _Lesion(
            code,
            lesion_id,
            rng.uniform(0.18, 0.3),
            rng.uniform(0.55, 0.95),
            single,
            amps,
            phases,
            colours,
            skin,
            texture_seed,
        )
    if code == "bkl":  # waxy "stuck-on", light or dark brown, milia-like and comedo-like dots
        amps, phases = _harmonics(rng, 5, 0.04, 0.1)
        brown = (1 - (t := rng.uniform())) * np.array([178, 138, 98]) + t * np.array([98, 68, 46])
        colours = np.array([brown, (238, 228, 192), (45, 30, 25)], np.float32)
        return _Lesion(
            code,
            lesion_id,
            rng.uniform(0.16, 0.3),
            rng.uniform(0.6, 1.0),
            single,
            amps,
            phases,
            colours,
            skin,
            texture_seed,
        )
    if code == "df":  # small firm brown ring around a pale centre
        amps, phases = _harmonics(rng, 4, 0.0, 0.05)
        colours = np.array([(125, 82, 56), (226, 202, 192)], np.float32)
        return _Lesion(
            code,
            lesion_id,
            rng.uniform(0.09, 0.15),
            rng.uniform(0.8, 1.0),
            single,
            amps,
            phases,
            colours,
            skin,
            texture_seed,
        )
    if code == "vasc":  # red to purple lobules separated by pale septa
        n_lobules = int(rng.integers(3, 8))
        angles = rng.uniform(0, 2 * np.pi, n_lobules)
        dist = rng.uniform(0.0, 0.55, n_lobules)
        blobs = [(d * math.cos(a), d * math.sin(a), rng.uniform(0.35, 0.6)) for a, d in zip(angles, dist, strict=True)]
        amps, phases = _harmonics(rng, 3, 0.0, 0.05)
        red, purple = np.array([178, 30, 52]), np.array([108, 35, 88])
        colours = np.array([red + rng.uniform() * (purple - red) for _ in range(n_lobules)], np.float32)
        return _Lesion(code, lesion_id, rng.uniform(0.13, 0.22), 1.0, blobs, amps, phases, colours, skin, texture_seed)
    raise ValueError(f"unknown class code {code!r}")


# --- drawing ------------------------------------------------------------------------------------------------------


def _smooth_noise(rng: np.random.Generator, size: tuple[int, int], cells: tuple[int, int]) -> np.ndarray:
    """Low-frequency noise in about [-1, 1]: a coarse random grid upsampled bicubically (no per-pixel loops)."""
    grid = rng.standard_normal((max(cells[1], 2), max(cells[0], 2))).astype(np.float32)
    return np.asarray(Image.fromarray(grid, mode="F").resize(size, Image.Resampling.BICUBIC)) / 1.5


def _radius_profile(theta: np.ndarray, amps: np.ndarray, phases: np.ndarray) -> np.ndarray:
    k = np.arange(1, len(amps) + 1).reshape((-1,) + (1,) * theta.ndim)
    profile = 1 + np.sum(amps.reshape(k.shape) * np.cos(k * theta + phases.reshape(k.shape)), axis=0)
    return np.maximum(profile, 0.3)  # never fold the outline through the centre


def _render(lesion: _Lesion, size: tuple[int, int], rng: np.random.Generator) -> tuple[Image.Image, Image.Image]:
    """One photo of ``lesion``: (RGB image at ``size``, L mask 0/255 at 3x ``size``)."""
    width, height = size
    # Pose varies between photos of the same lesion, as it does between real dermoscopy shots.
    radius = float(lesion.radius * height * rng.uniform(0.9, 1.1))
    centre = (float(rng.uniform(0.32, 0.68) * width), float(rng.uniform(0.32, 0.68) * height))
    rotation = float(rng.uniform(0, 2 * np.pi))
    cos_r, sin_r = math.cos(rotation), math.sin(rotation)

    # Plain floats, so that numpy keeps the float32 pixel grids below in float32 (twice as fast as float64).
    blob_centres = [
        (float(centre[0] + radius * (dx * cos_r - dy * sin_r)), float(centre[1] + radius * (dx * sin_r + dy * cos_r)))
        for dx, dy, _ in lesion.blobs
    ]
    blob_radii = [float(radius * r) for _, _, r in lesion.blobs]

    # The mask is drawn at 3x as polygons, the exact shape; the image's alpha is its area average (anti-aliased).
    mask = Image.new("L", (width * MASK_SCALE, height * MASK_SCALE), 0)
    draw = ImageDraw.Draw(mask)
    theta = np.linspace(0, 2 * np.pi, 180, endpoint=False)
    profile = _radius_profile(theta, lesion.amps, lesion.phases)
    for blob_centre, blob_radius in zip(blob_centres, blob_radii, strict=True):
        u = blob_radius * profile * np.cos(theta)
        v = blob_radius * profile * np.sin(theta) * lesion.aspect
        x = blob_centre[0] + u * cos_r - v * sin_r
        y = blob_centre[1] + u * sin_r + v * cos_r
        draw.polygon(list(zip(x * MASK_SCALE - 0.5, y * MASK_SCALE - 0.5, strict=True)), fill=255)
    coverage = np.asarray(mask.resize(size, Image.Resampling.BOX), dtype=np.float32) / 255.0

    # rho: 0 at a blob's centre, 1 on its outline (per blob; vasc keeps the two nearest for its septa).
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32) + 0.5
    rhos = []
    for blob_centre, blob_radius in zip(blob_centres, blob_radii, strict=True):
        dx, dy = xs - blob_centre[0], ys - blob_centre[1]
        u = dx * cos_r + dy * sin_r
        v = (-dx * sin_r + dy * cos_r) / float(lesion.aspect)
        rhos.append(np.hypot(u, v) / (blob_radius * _radius_profile(np.arctan2(v, u), lesion.amps, lesion.phases)))
    rho_stack = np.stack(rhos)
    rho = rho_stack.min(axis=0)

    texture_rng = np.random.default_rng(lesion.texture_seed)  # the same markings in every photo of the lesion
    colour, opacity = _colour_lesion(lesion, rho, rho_stack, (width, height), texture_rng, rng)

    skin = (lesion.skin * rng.uniform(0.88, 1.08)).astype(np.float32)
    skin_noise = 10 * _smooth_noise(rng, size, (5, 4)) + rng.normal(0, 3, (height, width)).astype(np.float32)
    skin_layer = skin + skin_noise[..., None]
    alpha = (coverage * opacity)[..., None]
    pixels = skin_layer * (1 - alpha) + colour * alpha

    # Vignetting: dermatoscope optics darken the corners, sometimes strongly.
    r_norm = np.hypot((xs - width / 2) / (width / 2), (ys - height / 2) / (height / 2)) / math.sqrt(2)
    pixels *= (1 - float(rng.uniform(0.0, 0.6)) * r_norm**3)[..., None]

    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    _draw_hairs(image, rng)
    image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.2, 0.8)))
    noise = rng.normal(0, rng.uniform(1, 5), (height, width, 3)).astype(np.float32)
    noisy = np.asarray(image, dtype=np.float32) + noise
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8), "RGB"), mask


def _colour_lesion(
    lesion: _Lesion,
    rho: np.ndarray,
    rho_stack: np.ndarray,
    size: tuple[int, int],
    texture_rng: np.random.Generator,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """(colour layer H×W×3, opacity H×W) for the class; opacity is later multiplied by the mask coverage."""
    width, height = size
    shape = (height, width)
    inside = np.clip(1 - rho, 0, 1)  # 1 at the centre, 0 at the outline
    colours = lesion.colours
    code = lesion.code
    opacity = np.full(shape, 0.95, np.float32)

    if code == "mel":
        # Each colour owns the regions where its own noise field is highest: irregular, multi-coloured blotches.
        fields = np.stack([_smooth_noise(texture_rng, size, (6, 5)) for _ in colours])
        colour = colours[np.argmax(fields, axis=0)]
        colour *= (1 - 0.15 * inside)[..., None]
    elif code == "nv":
        colour = np.broadcast_to(colours[0], (*shape, 3)) * (1 - 0.18 * inside)[..., None]
        opacity *= np.clip((1 - rho) / 0.12, 0, 1)
    elif code == "bcc":
        colour = np.broadcast_to(colours[0], (*shape, 3)).copy()
        # A pearly sheen: a soft highlight off-centre.
        colour += 35 * np.exp(-(((rho - 0.35) / 0.25) ** 2))[..., None]
        colour = _paint_marks(colour, _vessels(texture_rng, size, rho), colours[1])
        if lesion.texture_seed % 2:
            colour = _paint_marks(colour, _dots(texture_rng, size, rho, 3, (2, 4), 0.7), colours[2])
        opacity *= lesion.extra["opacity"]
    elif code == "akiec":
        colour = colours[0] + 18 * _smooth_noise(texture_rng, size, (12, 9))[..., None]
        scale = np.clip((_smooth_noise(texture_rng, size, (width // 5, height // 5)) - 0.35) * 3, 0, 1)
        colour = colour * (1 - 0.7 * scale[..., None]) + colours[1] * 0.7 * scale[..., None]
        opacity *= np.clip((1 - rho) / 0.35, 0, 1) * 0.85 + 0.1  # blurred, poorly defined border
    elif code == "bkl":
        colour = colours[0] + 20 * _smooth_noise(texture_rng, size, (8, 6))[..., None]
        colour = _paint_marks(colour, _dots(texture_rng, size, rho, 14, (1, 2), 0.85), colours[1])
        colour = _paint_marks(colour, _dots(texture_rng, size, rho, 10, (1, 2), 0.85), colours[2])
    elif code == "df":
        ring = np.clip((rho - 0.25) / 0.35, 0, 1)[..., None]
        colour = colours[1] * (1 - ring) + colours[0] * ring
        opacity *= np.clip((1 - rho) / 0.15, 0, 1) * 0.9
    else:  # vasc
        nearest = np.argmin(rho_stack, axis=0)
        colour = colours[nearest] * (1 - 0.25 * inside)[..., None]
        if len(rho_stack) > 1:
            two = np.sort(rho_stack, axis=0)[:2]
            septum = np.clip(1 - (two[1] - two[0]) / 0.12, 0, 1)[..., None] * (rho < 1)[..., None]
            colour = colour * (1 - 0.6 * septum) + np.array([215, 180, 185]) * 0.6 * septum
    return np.asarray(colour, np.float32), opacity


def _paint_marks(colour: np.ndarray, marks: np.ndarray, mark_colour: np.ndarray) -> np.ndarray:
    weight = marks[..., None]
    return colour * (1 - weight) + mark_colour * weight


def _vessels(rng: np.random.Generator, size: tuple[int, int], rho: np.ndarray) -> np.ndarray:
    """Thin branching red lines, kept inside the lesion: the arborising vessels of BCC."""
    width, height = size
    layer = Image.new("L", size, 0)
    draw = ImageDraw.Draw(layer)
    inside_ys, inside_xs = np.nonzero(rho < 0.7)
    if len(inside_xs) == 0:
        return np.zeros((height, width), np.float32)
    for _ in range(int(rng.integers(3, 7))):
        start = int(rng.integers(len(inside_xs)))
        point = np.array([inside_xs[start], inside_ys[start]], np.float64)
        heading = rng.uniform(0, 2 * np.pi)
        points = [tuple(point)]
        for _ in range(int(rng.integers(6, 14))):
            heading += rng.normal(0, 0.5)
            point = point + 2.5 * np.array([math.cos(heading), math.sin(heading)])
            points.append(tuple(point))
        draw.line(points, fill=255, width=1)
    return np.asarray(layer, np.float32) / 255.0 * (rho < 1)


def _dots(
    rng: np.random.Generator,
    size: tuple[int, int],
    rho: np.ndarray,
    count: int,
    radii: tuple[int, int],
    strength: float,
) -> np.ndarray:
    """Small round marks inside the lesion (milia-like cysts, comedo-like openings, nests)."""
    width, height = size
    layer = Image.new("L", size, 0)
    draw = ImageDraw.Draw(layer)
    inside_ys, inside_xs = np.nonzero(rho < 0.85)
    if len(inside_xs) == 0:
        return np.zeros((height, width), np.float32)
    for index in rng.integers(len(inside_xs), size=count):
        r = rng.uniform(*radii)
        x, y = inside_xs[index], inside_ys[index]
        draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
    return np.asarray(layer, np.float32) / 255.0 * strength * (rho < 1)


def _draw_hairs(image: Image.Image, rng: np.random.Generator) -> None:
    """Dark curved hairs over skin and lesion alike (they are not part of the mask)."""
    if rng.random() < 0.5:
        return
    width, height = image.size
    draw = ImageDraw.Draw(image)
    t = np.linspace(0, 1, 16)[:, None]
    for _ in range(int(rng.integers(1, 10))):
        start = rng.uniform((-0.1 * width, -0.1 * height), (1.1 * width, 1.1 * height))
        angle = rng.uniform(0, 2 * np.pi)
        length = rng.uniform(0.3, 1.0) * width
        end = start + length * np.array([math.cos(angle), math.sin(angle)])
        bend = (start + end) / 2 + rng.normal(0, 0.15 * length, 2)
        curve = (1 - t) ** 2 * start + 2 * (1 - t) * t * bend + t**2 * end  # quadratic Bezier
        shade = int(rng.integers(20, 70))
        draw.line(
            [tuple(p) for p in curve],
            fill=(shade, int(shade * 0.8), int(shade * 0.7)),
            width=1 if rng.random() < 0.8 else 2,
        )
