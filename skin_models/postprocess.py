"""Pure post-processing: probabilities, lesion masks, overlays, lesion measurements and mask run-length encoding.

Everything here takes and returns numpy arrays (or PIL images for the overlay) and has no side effects.
Masks are boolean ``H×W`` arrays in the photo's own pixel grid.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from PIL import Image
from scipy import ndimage
from scipy.spatial import ConvexHull, QhullError

__all__ = [
    "LesionMeasurements",
    "clean_mask",
    "draw_overlay",
    "fill_holes",
    "largest_component",
    "lesion_measurements",
    "mask_bbox",
    "rle_decode",
    "rle_encode",
    "softmax",
    "threshold_mask",
    "top_k",
]

# 8-connectivity for the lesion (a diagonal step keeps a lesion in one piece); hole filling then uses the
# complementary 4-connectivity for the background, the standard digital-topology pairing.
_EIGHT_CONNECTED = np.ones((3, 3), dtype=bool)
_FOUR_CONNECTED = ndimage.generate_binary_structure(2, 1)


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Probabilities along the last axis of ``logits`` / ``temperature`` (float64; each row sums to 1).

    Temperatures above 1 flatten the distribution (calibration), below 1 sharpen it. Stable for huge logits.
    """
    if not (math.isfinite(temperature) and temperature > 0):
        raise ValueError(f"temperature must be a finite number > 0, not {temperature!r}")
    scaled = np.asarray(logits, dtype=np.float64) / temperature
    if scaled.ndim == 0 or scaled.shape[-1] == 0:
        raise ValueError(f"softmax needs at least one class along the last axis, got shape {scaled.shape}")
    if not np.all(np.isfinite(scaled)):
        raise ValueError("logits must be finite (got NaN or infinity)")
    shifted = scaled - scaled.max(axis=-1, keepdims=True)  # exp never overflows; result is unchanged
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


def top_k(probs_row: np.ndarray | Sequence[float], codes: Sequence[str], k: int = 3) -> list[tuple[str, float]]:
    """The ``k`` most probable ``(code, probability)`` pairs, best first; ties keep the order of ``codes``."""
    probs = np.asarray(probs_row, dtype=np.float64)
    if probs.ndim != 1 or probs.shape[0] != len(codes):
        raise ValueError(f"expected one row of {len(codes)} probabilities, got shape {probs.shape}")
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")
    order = np.argsort(-probs, kind="stable")[:k]
    return [(codes[i], float(probs[i])) for i in order]


def threshold_mask(prob_map: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Boolean mask of the pixels whose lesion probability is ≥ ``threshold``."""
    prob_map = np.asarray(prob_map)
    if prob_map.ndim != 2:
        raise ValueError(f"expected an H×W probability map, got shape {prob_map.shape}")
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be in [0, 1], not {threshold}")
    return np.asarray(prob_map >= threshold, dtype=bool)


def largest_component(mask: np.ndarray) -> np.ndarray:
    """The largest 8-connected component of ``mask`` (the first one on ties); all False when empty."""
    mask = _as_mask(mask)
    labels, count = ndimage.label(mask, structure=_EIGHT_CONNECTED)
    if count <= 1:
        return mask.copy()
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0  # background
    return np.asarray(labels == int(np.argmax(sizes)))


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """``mask`` with every background region not connected to the image border filled in."""
    return np.asarray(ndimage.binary_fill_holes(_as_mask(mask), structure=_FOUR_CONNECTED), dtype=bool)


def clean_mask(prob_map: np.ndarray, threshold: float = 0.5, min_area_fraction: float = 0.001) -> np.ndarray:
    """Threshold → largest connected component → fill holes; all False if it covers < ``min_area_fraction``."""
    if not 0.0 <= min_area_fraction <= 1.0:
        raise ValueError(f"min_area_fraction must be in [0, 1], not {min_area_fraction}")
    mask = fill_holes(largest_component(threshold_mask(prob_map, threshold)))
    if mask.size == 0 or mask.sum() < min_area_fraction * mask.size or not mask.any():
        return np.zeros_like(mask)
    return mask


def mask_bbox(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """The ``(x, y, width, height)`` of the smallest box holding every mask pixel, or None when empty."""
    mask = _as_mask(mask)
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)


def draw_overlay(
    image: Image.Image,
    mask: np.ndarray,
    colour: tuple[int, int, int] = (0, 255, 128),
    thickness: int | None = None,
    fill_alpha: float = 0.15,
) -> Image.Image:
    """A new RGB copy of ``image`` (same size) with the lesion tinted and its outline drawn in ``colour``.

    The outline is the band of mask pixels within ``thickness`` pixels (Euclidean) of the background, so it lies
    exactly on the mask and is pixel-aligned with the photo; the image edge is not treated as background.
    ``thickness`` defaults to about 1/150 of the short side (at least 1 pixel), so it stays visible on big photos.
    """
    mask = _as_mask(mask)
    rgb = image.convert("RGB")
    if mask.shape != (rgb.height, rgb.width):
        raise ValueError(f"mask shape {mask.shape} does not match the image's {rgb.height}×{rgb.width}")
    if not 0.0 <= fill_alpha <= 1.0:
        raise ValueError(f"fill_alpha must be in [0, 1], not {fill_alpha}")
    if thickness is None:
        thickness = max(1, round(min(rgb.width, rgb.height) / 150))
    if thickness < 1:
        raise ValueError(f"thickness must be at least 1, not {thickness}")
    pixels = np.asarray(rgb, dtype=np.float32).copy()
    paint = np.asarray(colour, dtype=np.float32)
    if mask.any():
        pixels[mask] = pixels[mask] * (1.0 - fill_alpha) + paint * fill_alpha
        if not mask.all():  # a mask filling the frame has no boundary inside the photo
            outline = mask & (ndimage.distance_transform_edt(mask) <= thickness)
            pixels[outline] = paint
    return Image.fromarray(np.clip(np.rint(pixels), 0, 255).astype(np.uint8), mode="RGB")


@dataclass(frozen=True, slots=True)
class LesionMeasurements:
    """Shape and colour descriptors of one lesion (see ``lesion_measurements`` for the formulas)."""

    area_fraction: float
    bbox: tuple[int, int, int, int] | None
    asymmetry: float
    border_irregularity: float
    colour_variegation: float
    diameter_px: float

    def as_dict(self) -> dict[str, Any]:
        """The service's ``measurements`` object: the five numbers (the bbox is reported on its own)."""
        values = asdict(self)
        values.pop("bbox")
        return values


def lesion_measurements(image: np.ndarray, mask: np.ndarray) -> LesionMeasurements:
    """ABCD-style measurements of the lesion ``mask`` on the uint8 H×W×3 ``image``.

    * ``area_fraction`` — mask pixels / image pixels.
    * ``asymmetry`` — mean over the two principal axes (through the centroid) of
      ``|M xor mirror(M)| / (2·|M|)``: 0 for a mirror-symmetric shape, at most 1.
    * ``border_irregularity`` — compactness index ``P² / (4π·A)``: ≈1 for a disc (≈1.1 on a pixel grid), larger
      for ragged borders. ``P``
      is the weighted boundary-pixel perimeter estimate (Benkrid & Crookes, as in scikit-image's ``perimeter``):
      boundary pixels count 1 on straight runs, √2 on diagonals and (1+√2)/2 at corners.
    * ``colour_variegation`` — mean over R, G, B of the standard deviation of the lesion's pixel values, divided by
      127.5 (the largest standard deviation a 0..255 channel can have), so it lies in [0, 1].
    * ``diameter_px`` — the maximum Feret (caliper) diameter of the union of the lesion's pixel squares, in pixels.

    An empty mask gives zeros and ``bbox=None``.
    """
    mask = _as_mask(mask)
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.shape[:2] != mask.shape:
        raise ValueError(f"expected an H×W×3 image matching the {mask.shape} mask, got shape {image.shape}")
    area = int(mask.sum())
    if area == 0:
        return LesionMeasurements(0.0, None, 0.0, 0.0, 0.0, 0.0)
    bbox = mask_bbox(mask)
    assert bbox is not None
    x, y, w, h = bbox
    # Measure on a padded crop: same results, far less work on big photos with small lesions.
    crop = np.pad(mask[y : y + h, x : x + w], 1)
    return LesionMeasurements(
        area_fraction=area / mask.size,
        bbox=bbox,
        asymmetry=_asymmetry(crop),
        border_irregularity=_perimeter(crop) ** 2 / (4.0 * math.pi * area),
        colour_variegation=_colour_variegation(image[mask]),
        diameter_px=_max_feret_diameter(crop),
    )


def _asymmetry(mask: np.ndarray) -> float:
    coords = np.argwhere(mask).astype(np.float64)
    area = coords.shape[0]
    centroid = coords.mean(axis=0)
    if area < 2:
        return 0.0
    _, axes = np.linalg.eigh(np.cov(coords, rowvar=False))
    # A canvas wide enough around the centroid to hold the mirrored shape wherever it lands.
    radius = int(np.ceil(np.sqrt(((coords - centroid) ** 2).sum(axis=1).max()))) + 2
    top_left = np.floor(centroid).astype(int) - radius
    canvas = np.zeros((2 * radius + 1, 2 * radius + 1), dtype=np.uint8)
    shifted = coords.astype(int) - top_left
    canvas[shifted[:, 0], shifted[:, 1]] = 1
    centre = centroid - top_left
    scores = []
    for axis in axes.T:
        reflection = 2.0 * np.outer(axis, axis) - np.eye(2)
        # output[q] = input[R q + (c - R c)]: the mirror image about the line through c along ``axis``.
        mirrored = ndimage.affine_transform(
            canvas, reflection, offset=centre - reflection @ centre, order=0, mode="constant", cval=0
        )
        scores.append(np.count_nonzero(canvas != mirrored) / (2.0 * area))
    return min(1.0, float(np.mean(scores)))


def _perimeter(mask: np.ndarray) -> float:
    """Weighted boundary-pixel perimeter (Benkrid & Crookes); ``mask`` must have a background border."""
    mask = mask.astype(np.uint8)
    boundary = mask - ndimage.binary_erosion(mask, _FOUR_CONNECTED, border_value=0).astype(np.uint8)
    # Each boundary pixel gets a code from its boundary neighbours: 10 per diagonal, 2 per edge neighbour, +1 self.
    codes = ndimage.convolve(boundary, np.array([[10, 2, 10], [2, 1, 2], [10, 2, 10]], dtype=np.uint8), mode="constant")
    weights = np.zeros(50)
    weights[[5, 7, 15, 17, 25, 27]] = 1.0
    weights[[21, 33]] = math.sqrt(2.0)
    weights[[13, 23]] = (1.0 + math.sqrt(2.0)) / 2.0
    return float(np.bincount(codes.ravel(), minlength=50)[:50] @ weights)


def _colour_variegation(lesion_pixels: np.ndarray) -> float:
    spread = float(lesion_pixels.astype(np.float64).std(axis=0).mean())
    return min(1.0, spread / 127.5)


def _max_feret_diameter(mask: np.ndarray) -> float:
    boundary = mask & ~ndimage.binary_erosion(mask, _FOUR_CONNECTED, border_value=0)
    centres = np.argwhere(boundary).astype(np.float64)
    corners = (centres[:, None, :] + np.array([[-0.5, -0.5], [-0.5, 0.5], [0.5, -0.5], [0.5, 0.5]])).reshape(-1, 2)
    try:
        hull = corners[ConvexHull(corners).vertices]
    except QhullError:  # cannot happen for pixel squares, but never crash on geometry
        hull = corners
    differences = hull[:, None, :] - hull[None, :, :]
    return float(np.sqrt((differences**2).sum(axis=-1).max()))


def rle_encode(mask: np.ndarray) -> dict[str, list[int]]:
    """Row-major run-length encoding ``{"size": [h, w], "counts": [...]}``; runs alternate, starting with zeros."""
    mask = _as_mask(mask)
    height, width = mask.shape
    flat = mask.ravel()
    if flat.size == 0:
        return {"size": [height, width], "counts": []}
    changes = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    runs = np.diff(np.concatenate(([0], changes, [flat.size])))
    counts = [int(run) for run in runs]
    if flat[0]:
        counts.insert(0, 0)
    return {"size": [height, width], "counts": counts}


def rle_decode(rle: dict[str, Any]) -> np.ndarray:
    """The boolean H×W mask of an ``rle_encode`` dictionary (checks that the runs cover the mask exactly)."""
    height, width = (int(v) for v in rle["size"])
    counts = np.asarray(rle["counts"], dtype=np.int64)
    if height < 0 or width < 0 or counts.ndim != 1 or (counts < 0).any() or counts.sum() != height * width:
        raise ValueError(f"run-length counts do not describe a {height}×{width} mask")
    values = np.arange(counts.size) % 2 == 1
    return np.repeat(values, counts).reshape(height, width)


def _as_mask(mask: np.ndarray) -> np.ndarray:
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f"expected an H×W mask, got shape {mask.shape}")
    return mask.astype(bool, copy=False)


# Moore neighbourhood, clockwise from west (x, y offsets; y grows downwards).
_NEIGHBOURS = ((-1, 0), (-1, -1), (0, -1), (1, -1), (1, 0), (1, 1), (0, 1), (-1, 1))


def outline_polygon(mask: np.ndarray, tolerance: float = 1.0) -> list[tuple[int, int]]:
    """The outer boundary of the mask's largest component as a closed polygon of (x, y) pixel positions,
    clockwise, simplified (Ramer-Douglas-Peucker) so that no dropped pixel lies farther than ``tolerance`` pixels
    from it; [] for an empty mask. Holes are ignored: an outline, not a mask (``rle_encode`` keeps the mask)."""
    mask = largest_component(_as_mask(mask))
    if not mask.any():
        return []
    padded = np.pad(mask, 1)
    ys, xs = np.nonzero(padded)
    start = (int(xs[0]), int(ys[0]))  # the top-most, then left-most pixel: its west neighbour is background

    def step(pixel: tuple[int, int], look_from: int) -> tuple[tuple[int, int], int] | None:
        """The next boundary pixel clockwise, and where to look from there (a background neighbour)."""
        for turn in range(8):
            direction = (look_from + turn) % 8
            dx, dy = _NEIGHBOURS[direction]
            candidate = (pixel[0] + dx, pixel[1] + dy)
            if padded[candidate[1], candidate[0]]:
                # the neighbour examined just before this one, seen from the candidate
                return candidate, (direction + 6) % 8 if direction % 2 == 0 else (direction + 5) % 8
        return None  # a single isolated pixel

    first = step(start, 0)
    points = [start]
    if first is not None:
        current, look_from = first
        # Jacob's stopping rule: done when the walk leaves the start the way it first did (a start pixel on a
        # one-pixel bridge is passed twice)
        for _ in range(4 * int(padded.sum()) + 8):
            if current == start and step(current, look_from) == first:
                break
            points.append(current)
            nxt = step(current, look_from)
            assert nxt is not None
            current, look_from = nxt
    outline = [(x - 1, y - 1) for x, y in points]
    return _simplify(outline, tolerance) if len(outline) > 3 else outline


def _simplify(points: list[tuple[int, int]], tolerance: float) -> list[tuple[int, int]]:
    """Ramer-Douglas-Peucker on a closed polygon (split at the point farthest from the first), iteratively."""
    array = np.asarray(points, dtype=np.float64)
    far = int(np.argmax(((array - array[0]) ** 2).sum(axis=1)))
    keep = np.zeros(len(array), dtype=bool)
    keep[[0, far]] = True
    stack = [(0, far), (far, len(array))]  # the second run closes the loop back to point 0
    while stack:
        first, last = stack.pop()
        end = array[last % len(array)]
        inner = array[first + 1 : last]
        if len(inner) == 0:
            continue
        segment = end - array[first]
        length = float(np.hypot(*segment))
        offsets = inner - array[first]
        distances = (np.abs(segment[0] * offsets[:, 1] - segment[1] * offsets[:, 0]) / length if length > 0
                     else np.hypot(offsets[:, 0], offsets[:, 1]))
        worst = int(np.argmax(distances))
        if distances[worst] > tolerance:
            split = first + 1 + worst
            keep[split] = True
            stack += [(first, split), (split, last)]
    return [points[i] for i in np.flatnonzero(keep)]
