"""Post-processing on hand-computed cases: probabilities, masks, overlays, measurements, RLE."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from skin_models.postprocess import (
    LesionMeasurements,
    clean_mask,
    draw_overlay,
    fill_holes,
    largest_component,
    lesion_measurements,
    mask_bbox,
    rle_decode,
    rle_encode,
    softmax,
    threshold_mask,
    top_k,
)


def disc(shape: tuple[int, int], centre: tuple[float, float], radius: float) -> np.ndarray:
    rows, cols = np.mgrid[: shape[0], : shape[1]]
    return (rows - centre[0]) ** 2 + (cols - centre[1]) ** 2 <= radius**2


def black(shape: tuple[int, int]) -> np.ndarray:
    return np.zeros((*shape, 3), dtype=np.uint8)


# --- softmax and top-k -----------------------------------------------------------------------------------------


def test_softmax_matches_hand_computed_values() -> None:
    probs = softmax(np.array([0.0, math.log(3.0)]))
    np.testing.assert_allclose(probs, [0.25, 0.75])
    batch = softmax(np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]))
    np.testing.assert_allclose(batch.sum(axis=1), 1.0)
    np.testing.assert_allclose(batch[1], [1 / 3] * 3)


def test_softmax_is_stable_for_huge_logits() -> None:
    probs = softmax(np.array([1000.0, 1000.0, -1000.0]))
    np.testing.assert_allclose(probs, [0.5, 0.5, 0.0], atol=1e-12)
    assert np.all(np.isfinite(probs))


def test_softmax_temperature_flattens_and_sharpens() -> None:
    logits = np.array([2.0, 1.0, 0.0])
    base, flat, sharp = softmax(logits), softmax(logits, temperature=2.0), softmax(logits, temperature=0.5)
    assert flat.max() < base.max() < sharp.max()
    np.testing.assert_allclose(flat, softmax(logits / 2.0))
    np.testing.assert_allclose(softmax(logits, temperature=1e6), [1 / 3] * 3, atol=1e-5)


@pytest.mark.parametrize("temperature", [0.0, -1.0, math.inf, math.nan])
def test_softmax_rejects_bad_temperatures(temperature: float) -> None:
    with pytest.raises(ValueError, match="temperature"):
        softmax(np.zeros(3), temperature=temperature)


def test_softmax_rejects_nan_logits() -> None:
    with pytest.raises(ValueError, match="finite"):
        softmax(np.array([0.0, np.nan]))


def test_top_k_orders_by_probability_and_keeps_code_order_on_ties() -> None:
    codes = ("a", "b", "c", "d")
    assert top_k(np.array([0.1, 0.4, 0.1, 0.4]), codes, k=3) == [("b", 0.4), ("d", 0.4), ("a", 0.1)]
    assert top_k([0.7, 0.3, 0.0, 0.0], codes, k=10)[0] == ("a", 0.7)
    assert len(top_k([0.7, 0.3, 0.0, 0.0], codes, k=10)) == 4
    assert all(type(p) is float for _, p in top_k([0.7, 0.3, 0.0, 0.0], codes))
    with pytest.raises(ValueError):
        top_k([0.5, 0.5], codes)
    with pytest.raises(ValueError):
        top_k([0.7, 0.3, 0.0, 0.0], codes, k=0)


# --- masks -------------------------------------------------------------------------------------------------------


def test_threshold_mask_is_inclusive() -> None:
    prob = np.array([[0.2, 0.5], [0.51, 0.49]])
    assert threshold_mask(prob).tolist() == [[False, True], [True, False]]
    assert threshold_mask(prob, 0.3).dtype == np.bool_
    with pytest.raises(ValueError):
        threshold_mask(prob, 1.5)


def test_largest_component_uses_eight_connectivity() -> None:
    mask = np.zeros((10, 10), dtype=bool)
    mask[0, 0] = mask[1, 1] = mask[2, 2] = True  # three pixels, diagonally connected
    mask[6:8, 6:8] = True  # four pixels
    assert largest_component(mask).sum() == 4
    mask[3, 3] = mask[4, 4] = True  # the diagonal now has five
    kept = largest_component(mask)
    assert kept.sum() == 5 and kept[0, 0] and not kept[6, 6]
    assert not largest_component(np.zeros((4, 4), dtype=bool)).any()


def test_fill_holes_fills_enclosed_background_only() -> None:
    ring = disc((21, 21), (10, 10), 8) & ~disc((21, 21), (10, 10), 3)
    filled = fill_holes(ring)
    assert np.array_equal(filled, disc((21, 21), (10, 10), 8))
    cup = np.zeros((6, 6), dtype=bool)
    cup[1:5, 1] = cup[1:5, 4] = cup[4, 1:5] = True  # open at the top: nothing to fill
    assert np.array_equal(fill_holes(cup), cup)


def test_clean_mask_thresholds_keeps_largest_and_fills() -> None:
    prob = np.zeros((100, 100))
    prob[disc((100, 100), (50, 50), 20)] = 0.9
    prob[disc((100, 100), (50, 50), 5)] = 0.1  # a hole of low probability
    prob[5:8, 5:8] = 0.95  # a speck elsewhere
    cleaned = clean_mask(prob)
    assert np.array_equal(cleaned, disc((100, 100), (50, 50), 20))


def test_clean_mask_drops_tiny_components() -> None:
    prob = np.zeros((100, 100))
    prob[10:12, 10:12] = 1.0  # 4 pixels = 0.04% of the image
    assert not clean_mask(prob, min_area_fraction=0.001).any()
    assert clean_mask(prob, min_area_fraction=0.0001).sum() == 4


def test_mask_bbox() -> None:
    mask = np.zeros((10, 20), dtype=bool)
    assert mask_bbox(mask) is None
    mask[2:5, 3:9] = True
    mask[7, 15] = True
    assert mask_bbox(mask) == (3, 2, 13, 6)


# --- overlay -----------------------------------------------------------------------------------------------------


def test_overlay_keeps_size_and_draws_the_outline_exactly_on_the_mask_boundary() -> None:
    photo = Image.new("RGB", (90, 60), (10, 20, 30))
    mask = disc((60, 90), (30, 45), 15)
    overlay = draw_overlay(photo, mask, colour=(0, 255, 128), thickness=1, fill_alpha=0.0)
    assert overlay.size == photo.size and overlay.mode == "RGB"
    pixels = np.asarray(overlay)
    coloured = np.all(pixels == (0, 255, 128), axis=-1)
    boundary = mask & ~ndimage.binary_erosion(mask)  # 4-connected inner boundary
    assert np.array_equal(coloured, boundary)
    assert np.all(pixels[~mask] == (10, 20, 30))  # outside untouched
    assert np.all(pixels[mask & ~boundary] == (10, 20, 30))  # no fill at alpha 0
    assert np.asarray(photo)[0, 0].tolist() == [10, 20, 30]  # the input is not modified


def test_overlay_thickness_and_fill() -> None:
    photo = Image.new("RGB", (90, 60), (100, 100, 100))
    mask = disc((60, 90), (30, 45), 15)
    pixels = np.asarray(draw_overlay(photo, mask, colour=(0, 200, 0), thickness=3, fill_alpha=0.5)).astype(int)
    coloured = np.all(pixels == (0, 200, 0), axis=-1)
    assert coloured[30, 30] and coloured[30, 32] and not coloured[30, 34]  # a 3-pixel band from the left edge (x=30)
    assert pixels[30, 45].tolist() == [50, 150, 50]  # interior: half photo, half colour
    assert pixels[0, 0].tolist() == [100, 100, 100]
    assert not coloured[~mask].any()


def test_overlay_default_thickness_scales_with_image_size() -> None:
    def band_width(size: int) -> int:
        mask = np.zeros((size, size), dtype=bool)
        mask[size // 4 : 3 * size // 4, size // 4 : 3 * size // 4] = True
        pixels = np.asarray(draw_overlay(Image.new("RGB", (size, size)), mask, colour=(255, 0, 0), fill_alpha=0))
        return int(np.all(pixels[size // 2] == (255, 0, 0), axis=-1).sum() // 2)

    assert band_width(100) == 1
    assert band_width(900) == 6


def test_overlay_handles_empty_and_full_masks_and_rejects_mismatch() -> None:
    photo = Image.new("RGB", (8, 6), (1, 2, 3))
    assert np.all(np.asarray(draw_overlay(photo, np.zeros((6, 8), dtype=bool))) == (1, 2, 3))
    full = np.asarray(draw_overlay(photo, np.ones((6, 8), dtype=bool), fill_alpha=0))
    assert np.all(full == (1, 2, 3))  # the frame edge is not a lesion border
    with pytest.raises(ValueError, match="does not match"):
        draw_overlay(photo, np.zeros((8, 6), dtype=bool))


# --- measurements ------------------------------------------------------------------------------------------------


def test_disc_is_symmetric_and_compact() -> None:
    mask = disc((200, 240), (100, 120), 40)
    measured = lesion_measurements(black(mask.shape), mask)
    assert measured.asymmetry < 0.02
    assert 0.95 <= measured.border_irregularity <= 1.15
    assert measured.diameter_px == pytest.approx(81, abs=1.5)  # 2r + 1 pixel squares
    assert measured.area_fraction == pytest.approx(math.pi * 40**2 / (200 * 240), rel=0.01)
    assert measured.bbox == (80, 60, 81, 81)
    assert measured.colour_variegation == 0.0


def test_axis_aligned_rectangle_has_zero_asymmetry_and_exact_feret_diameter() -> None:
    mask = np.zeros((50, 60), dtype=bool)
    mask[10:20, 5:45] = True  # 40 × 10
    measured = lesion_measurements(black(mask.shape), mask)
    assert measured.asymmetry == 0.0
    assert measured.diameter_px == pytest.approx(math.hypot(40, 10))
    assert measured.area_fraction == pytest.approx(400 / 3000)


def test_l_shape_is_asymmetric_and_irregular() -> None:
    mask = np.zeros((100, 100), dtype=bool)
    mask[10:90, 10:30] = True
    mask[70:90, 10:60] = True
    measured = lesion_measurements(black(mask.shape), mask)
    assert measured.asymmetry > 0.25
    assert measured.border_irregularity > 1.8


def test_ragged_border_is_more_irregular_than_a_disc() -> None:
    rows, cols = np.mgrid[:200, :200]
    angle = np.arctan2(rows - 100, cols - 100)
    star = np.hypot(rows - 100, cols - 100) <= 50 * (1 + 0.3 * np.sin(12 * angle))
    smooth = lesion_measurements(black((200, 200)), disc((200, 200), (100, 100), 50))
    ragged = lesion_measurements(black((200, 200)), star)
    assert ragged.border_irregularity > smooth.border_irregularity + 0.5


def test_colour_variegation() -> None:
    mask = np.zeros((10, 10), dtype=bool)
    mask[:, :4] = True
    image = np.zeros((10, 10, 3), dtype=np.uint8)
    image[:, 2:] = 255  # the lesion is half black, half white: the largest possible spread
    assert lesion_measurements(image, mask).colour_variegation == pytest.approx(1.0)
    image[:, :] = (200, 100, 50)
    assert lesion_measurements(image, mask).colour_variegation == 0.0
    image[:, :2] = (100, 100, 50)  # red spread 50 (std 50 of ±50), others none
    assert lesion_measurements(image, mask).colour_variegation == pytest.approx(50 / 127.5 / 3)


def test_empty_mask_gives_zeros() -> None:
    measured = lesion_measurements(black((10, 10)), np.zeros((10, 10), dtype=bool))
    assert measured == LesionMeasurements(0.0, None, 0.0, 0.0, 0.0, 0.0)
    assert measured.as_dict() == {
        "area_fraction": 0.0,
        "asymmetry": 0.0,
        "border_irregularity": 0.0,
        "colour_variegation": 0.0,
        "diameter_px": 0.0,
    }


def test_single_pixel_and_edge_touching_lesions_do_not_crash() -> None:
    mask = np.zeros((10, 10), dtype=bool)
    mask[0, 0] = True
    measured = lesion_measurements(black((10, 10)), mask)
    assert measured.asymmetry == 0.0 and measured.diameter_px == pytest.approx(math.sqrt(2))
    full = lesion_measurements(black((10, 10)), np.ones((10, 10), dtype=bool))
    assert full.area_fraction == 1.0 and full.asymmetry == 0.0


def test_measurements_reject_mismatched_shapes() -> None:
    with pytest.raises(ValueError):
        lesion_measurements(black((10, 12)), np.zeros((10, 10), dtype=bool))


# --- RLE ---------------------------------------------------------------------------------------------------------


def test_rle_hand_computed() -> None:
    mask = np.array([[0, 1, 1], [1, 0, 0]], dtype=bool)
    assert rle_encode(mask) == {"size": [2, 3], "counts": [1, 3, 2]}
    starts_on = np.array([[1, 1], [0, 1]], dtype=bool)
    assert rle_encode(starts_on) == {"size": [2, 2], "counts": [0, 2, 1, 1]}
    assert rle_encode(np.zeros((2, 2), dtype=bool))["counts"] == [4]
    assert rle_encode(np.zeros((0, 3), dtype=bool)) == {"size": [0, 3], "counts": []}


@pytest.mark.parametrize("seed", range(5))
def test_rle_round_trips_random_masks(seed: int) -> None:
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(1, 40)), int(rng.integers(1, 40)))
    mask = rng.random(shape) < rng.random()
    encoded = rle_encode(mask)
    assert sum(encoded["counts"]) == mask.size
    assert all(type(c) is int for c in encoded["counts"])
    decoded = rle_decode(encoded)
    assert decoded.dtype == np.bool_ and np.array_equal(decoded, mask)


def test_rle_decode_rejects_inconsistent_counts() -> None:
    with pytest.raises(ValueError):
        rle_decode({"size": [2, 2], "counts": [1, 2]})
    with pytest.raises(ValueError):
        rle_decode({"size": [1, 2], "counts": [3, -1]})


def test_the_outline_polygon_follows_the_edge_of_the_largest_component() -> None:
    from skin_models.postprocess import outline_polygon

    square = np.zeros((10, 12), dtype=bool)
    square[2:6, 3:8] = True
    assert outline_polygon(square) == [(3, 2), (7, 2), (7, 5), (3, 5)]  # clockwise corners
    assert outline_polygon(np.zeros((5, 5), dtype=bool)) == []
    single = np.zeros((5, 5), dtype=bool)
    single[2, 2] = True
    assert outline_polygon(single) == [(2, 2)]
    # two blocks joined at one corner pixel: the walk passes the joint twice and still comes home
    bridge = np.zeros((10, 10), dtype=bool)
    bridge[1:4, 1:4] = True
    bridge[4:7, 4:7] = True
    traced = outline_polygon(bridge, tolerance=0.1)
    assert {(1, 1), (3, 3), (4, 4), (6, 6)} <= set(traced) and traced.count((3, 3)) == 2
    # a ring: the outer boundary only; every vertex on the mask; a disc simplified to a few dozen points
    yy, xx = np.mgrid[:200, :300]
    ring = ((xx - 150) ** 2 + (yy - 100) ** 2 < 80**2) & ((xx - 150) ** 2 + (yy - 100) ** 2 > 30**2)
    polygon = np.asarray(outline_polygon(ring))
    assert 16 <= len(polygon) <= 120
    assert ring[polygon[:, 1], polygon[:, 0]].all()
    radii = np.hypot(polygon[:, 0] - 150, polygon[:, 1] - 100)
    assert radii.min() > 75  # nothing of the inner hole
    # a smaller component elsewhere is ignored
    ring[5:8, 5:8] = True
    assert np.array_equal(np.asarray(outline_polygon(ring)), polygon)
