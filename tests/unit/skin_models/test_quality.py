"""Photo-quality warnings on synthetic skin-like photos."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageFilter

from skin_models.quality import (
    BLUR_THRESHOLD,
    QualityCode,
    QualityWarning,
    assess_quality,
    blur_score,
    border_contact_fraction,
)


def skin_photo(seed: int, shape: tuple[int, int] = (480, 640), texture: float = 4.0) -> np.ndarray:
    """A skin-toned photo with a lighting gradient, fine texture, an irregular dark lesion and a few hairs."""
    rng = np.random.default_rng(seed)
    height, width = shape
    rows, cols = np.ogrid[:height, :width]
    tone = (np.array([200.0, 160.0, 140.0]) + rng.normal(0, 8, 3)).astype(np.float32)
    shade = (cols / width * 20 - 10) + rng.normal(0, texture, (height, width))  # lighting gradient + texture
    cy, cx = height / 2, width / 2
    ry, rx = height * rng.uniform(0.12, 0.22), width * rng.uniform(0.1, 0.18)
    wobble = 1 + 0.1 * np.sin(5 * np.arctan2(rows - cy, cols - cx) + rng.uniform(0, 6))
    darkening = np.where(((rows - cy) / ry) ** 2 + ((cols - cx) / rx) ** 2 <= wobble**2, 0.45, 1.0)
    for _ in range(int(rng.integers(0, 4))):
        hair = np.abs(cols - rng.uniform(0, width) - rng.normal(0, 1) * rows) < 1.2
        darkening = np.where(hair, darkening * 0.5, darkening)
    image = (tone + shade.astype(np.float32)[..., None]) * darkening.astype(np.float32)[..., None]
    return np.clip(image, 0, 255).astype(np.uint8)


def gaussian_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    # Pillow's (box-approximated) Gaussian is far faster than scipy's on big photos; its radius is the σ.
    return np.asarray(Image.fromarray(image).filter(ImageFilter.GaussianBlur(radius=sigma)))


def codes(warnings: list[QualityWarning]) -> list[str]:
    return [w.code for w in warnings]


@pytest.mark.parametrize("shape", [(200, 260), (480, 640), (1050, 1400)])
def test_blur_threshold_separates_sharp_from_blurred(shape: tuple[int, int]) -> None:
    # σ of 2 pixels at the 512-pixel working size, expressed at the photo's own resolution.
    sigma = 2.0 * max(1.0, max(shape) / 512)
    for seed in range(3 if max(shape) <= 640 else 1):  # big photos are slow to synthesise
        sharp = skin_photo(seed, shape)
        assert blur_score(sharp) > 1.5 * BLUR_THRESHOLD
        assert blur_score(gaussian_blur(sharp, sigma)) < BLUR_THRESHOLD / 1.5


def test_clean_photo_has_no_warnings() -> None:
    image = skin_photo(0)
    mask = np.zeros(image.shape[:2], dtype=bool)
    mask[180:300, 250:390] = True
    assert assess_quality(image, mask) == []
    assert assess_quality(image) == []


def test_blurred_photo_is_flagged_with_advice() -> None:
    warnings = assess_quality(gaussian_blur(skin_photo(1), 4.0))
    assert codes(warnings) == ["blurred"]
    assert "hold the camera still" in warnings[0].message
    assert warnings[0].as_dict() == {"code": "blurred", "message": warnings[0].message}


def test_dark_and_bright_photos() -> None:
    image = skin_photo(2)
    dark = (image * 0.15).astype(np.uint8)
    assert "too_dark" in codes(assess_quality(dark))
    assert "daylight" in next(w.message for w in assess_quality(dark) if w.code == "too_dark")
    bright = np.clip(image.astype(int) + 120, 0, 255).astype(np.uint8)
    assert "too_bright" in codes(assess_quality(bright))
    half_black = image.copy()
    half_black[:, : int(image.shape[1] * 0.6)] = 0  # mostly crushed shadows, even if the rest is fine
    assert "too_dark" in codes(assess_quality(half_black))


def test_a_black_or_white_photo_is_told_about_the_light_only() -> None:
    """No edges in a black or a white photo: the sharpness cannot be judged, so no "hold the camera still"."""
    for flat, code in ((np.zeros((480, 640, 3), np.uint8), "too_dark"),
                       (np.full((480, 640, 3), 255, np.uint8), "too_bright")):
        assert codes(assess_quality(flat)) == [code]
    blurred_and_dark = (gaussian_blur(skin_photo(1), 4.0) * 0.15).astype(np.uint8)
    assert codes(assess_quality(blurred_and_dark)) == ["too_dark"]
    assert codes(assess_quality(gaussian_blur(skin_photo(1), 4.0))) == ["blurred"]  # in good light it is said


def test_small_photo() -> None:
    image = skin_photo(3, (100, 140))
    warnings = assess_quality(image)
    assert codes(warnings)[0] == "too_small"
    assert "140×100" in warnings[0].message
    assert "too_small" not in codes(assess_quality(image, min_side=64))


def test_small_is_judged_on_the_photo_as_taken_when_given_a_scaled_down_copy() -> None:
    copy = skin_photo(3, (100, 1024))  # a 2000×200 photo scaled down to a 1024-px longer side for the work
    assert "too_small" in codes(assess_quality(copy))
    assert "too_small" not in codes(assess_quality(copy, photo_size=(2000, 200)))
    warnings = assess_quality(skin_photo(3, (50, 512)), photo_size=(1000, 98))
    assert codes(warnings)[0] == "too_small" and "1000×98" in warnings[0].message


def test_lesion_checks() -> None:
    image = skin_photo(4)
    empty = np.zeros(image.shape[:2], dtype=bool)
    assert codes(assess_quality(image, empty)) == ["no_lesion_found"]
    cut_off = np.zeros(image.shape[:2], dtype=bool)
    cut_off[100:400, :200] = True  # runs off the left edge along 300 of 480 rows
    assert codes(assess_quality(image, cut_off)) == ["lesion_touches_border"]
    grazing = np.zeros(image.shape[:2], dtype=bool)
    grazing[200:210, :50] = True  # touches the edge on 10 pixels only: fine
    assert assess_quality(image, grazing) == []
    with pytest.raises(ValueError, match="does not match"):
        assess_quality(image, np.zeros((10, 10), dtype=bool))


def test_border_contact_fraction() -> None:
    mask = np.zeros((10, 10), dtype=bool)
    assert border_contact_fraction(mask) == 0.0
    mask[0, :] = True  # the whole top row: 10 of the 36 edge pixels
    assert border_contact_fraction(mask) == pytest.approx(10 / 36)
    assert border_contact_fraction(np.ones((10, 10), dtype=bool)) == 1.0


def test_grey_images_and_bad_inputs() -> None:
    grey = skin_photo(5)[..., 1]
    assert assess_quality(grey) == []
    with pytest.raises(ValueError):
        assess_quality(grey.astype(np.float32))
    with pytest.raises(ValueError):
        assess_quality(np.zeros((0, 5, 3), dtype=np.uint8))


def test_codes_are_the_documented_ones() -> None:
    assert {c.value for c in QualityCode} == {
        "blurred",
        "too_dark",
        "too_bright",
        "too_small",
        "lesion_touches_border",
        "no_lesion_found",
    }
