"""Safe decoding of hostile and awkward uploads, and the encoding helpers."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageFile

from skin_models.imaging import (
    ACCEPTED_FORMATS,
    CorruptImageError,
    EmptyImageError,
    ImageError,
    ImageTooLargeError,
    NotAnImageError,
    TooManyPixelsError,
    UnsupportedFormatError,
    decode_image,
    encode_jpeg,
    encode_png,
    fit_within,
    image_to_array,
    sniff_format,
    strip_metadata_and_downscale,
)
from tests.fixtures.bad_images import (
    EXIF_MARKER_SIZE,
    EXIF_STORED_SIZE,
    bad_image_corpus,
    good_image_corpus,
    oversized_bytes,
    png_declaring_size,
)

BAD = bad_image_corpus()
GOOD = good_image_corpus()

ERROR_CLASSES = {
    "empty": EmptyImageError,
    "too_many_bytes": ImageTooLargeError,
    "too_many_pixels": TooManyPixelsError,
    "unsupported_format": UnsupportedFormatError,
    "not_an_image": NotAnImageError,
    "corrupt": CorruptImageError,
}


def _jpeg(width: int = 64, height: int = 48, colour: tuple[int, int, int] = (120, 80, 60), **params: object) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format="JPEG", **params)
    return buffer.getvalue()


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_images_raise_the_expected_typed_error(case: str) -> None:
    data, code = BAD[case]
    with pytest.raises(ImageError) as caught:
        decode_image(data)
    error = caught.value
    assert error.code == code
    assert type(error) is ERROR_CLASSES[code]
    assert isinstance(error, ValueError)
    assert len(str(error)) > 20 and str(error) == error.message


def test_error_codes_are_distinct_class_attributes() -> None:
    assert {cls.code for cls in ERROR_CLASSES.values()} == set(ERROR_CLASSES)


def test_too_many_bytes_is_checked_first_and_message_mentions_the_limit() -> None:
    with pytest.raises(ImageTooLargeError, match="15 MB") as caught:
        decode_image(oversized_bytes(15 * 1024 * 1024))
    assert caught.value.code == "too_many_bytes"
    with pytest.raises(ImageTooLargeError, match="1000 bytes"):
        decode_image(oversized_bytes(1000), max_bytes=1000)
    assert decode_image(_jpeg(), max_bytes=len(_jpeg())).size == (64, 48)  # exactly at the limit is fine


def test_declared_size_is_refused_before_decoding() -> None:
    # The crafted PNG's data covers one row only: decoding it would give "corrupt", so this proves the header check.
    with pytest.raises(TooManyPixelsError, match="9000×7000") as caught:
        decode_image(png_declaring_size(9000, 7000))
    assert "50 megapixels" in str(caught.value)
    with pytest.raises(CorruptImageError):
        decode_image(png_declaring_size(9000, 7000), max_pixels=70_000_000)
    with pytest.raises(CorruptImageError):  # a 48-megapixel phone photo is within the limit
        decode_image(png_declaring_size(8064, 6048))


def test_pillow_decompression_bomb_error_becomes_too_many_pixels() -> None:
    with pytest.raises(TooManyPixelsError, match="50 megapixels"):
        decode_image(png_declaring_size(30_000, 30_000))
    # Even when our own limit is lifted, Pillow's bomb guard is converted rather than leaking out.
    with pytest.raises(TooManyPixelsError):
        decode_image(png_declaring_size(30_000, 30_000), max_pixels=10**12)
    with pytest.raises(TooManyPixelsError):  # between 1x and 2x Pillow's limit Pillow only warns
        decode_image(png_declaring_size(10_000, 10_000), max_pixels=10**12)


def test_pixel_limit_applies_to_real_images() -> None:
    with pytest.raises(TooManyPixelsError, match="64×48"):
        decode_image(_jpeg(), max_pixels=64 * 48 - 1)
    assert decode_image(_jpeg(), max_pixels=64 * 48).size == (64, 48)


def test_truncated_jpeg_is_corrupt_and_does_not_flip_the_global_flag() -> None:
    data, _ = BAD["truncated_jpeg"]
    with pytest.raises(CorruptImageError, match="JPEG"):
        decode_image(data)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_filename_is_used_in_messages() -> None:
    with pytest.raises(UnsupportedFormatError, match=r"'scan\.pdf' is a PDF document"):
        decode_image(BAD["pdf_header"][0], filename="scan.pdf")


def test_heic_message_says_how_to_get_a_jpeg() -> None:
    with pytest.raises(UnsupportedFormatError, match="Most Compatible"):
        decode_image(BAD["heic_header"][0])


def test_rejects_non_bytes() -> None:
    with pytest.raises(TypeError):
        decode_image("not bytes")  # type: ignore[arg-type]


def test_accepts_bytearray_and_memoryview() -> None:
    data = _jpeg()
    assert decode_image(bytearray(data)).size == (64, 48)
    assert decode_image(memoryview(data)).size == (64, 48)


@pytest.mark.parametrize("case", sorted(good_image_corpus()))
def test_good_images_decode_to_rgb(case: str) -> None:
    image = decode_image(GOOD[case])
    assert image.mode == "RGB"
    assert image.size == ((48, 32) if case != "jpeg_exif_rotated" else (EXIF_STORED_SIZE[1], EXIF_STORED_SIZE[0]))


@pytest.mark.parametrize("case", ["png_16bit_grey", "tiff_16bit_grey"])
def test_sixteen_bit_grey_is_scaled_not_clipped(case: str) -> None:
    pixels = image_to_array(decode_image(GOOD[case]))
    assert pixels[0, 0].tolist() == [0, 0, 0]
    assert pixels[0, 24].tolist() == [100, 100, 100]  # 25700 / 257; clipping would give 255
    assert pixels[0, -1].tolist() == [255, 255, 255]


def test_cmyk_jpeg_becomes_red() -> None:
    pixels = image_to_array(decode_image(GOOD["jpeg_cmyk"])).astype(int)
    assert np.abs(pixels[16, 24] - [255, 0, 0]).max() <= 3


def test_palette_transparency_is_composited_on_white() -> None:
    pixels = image_to_array(decode_image(GOOD["png_palette_transparent"]))
    assert pixels[10, 5].tolist() == [255, 255, 255]
    assert pixels[10, 40].tolist() == [0, 0, 255]


def test_rgba_is_composited_on_white() -> None:
    pixels = image_to_array(decode_image(GOOD["png_rgba"])).astype(int)
    assert pixels[20, 5].tolist() == [255, 255, 255]  # transparent red vanishes
    assert pixels[20, 40].tolist() == [0, 255, 0]
    assert np.abs(pixels[2, 26] - 127).max() <= 1  # half-transparent black over white


def test_grey_jpeg_and_webp_keep_their_values() -> None:
    assert np.abs(image_to_array(decode_image(GOOD["jpeg_grey"])).astype(int) - 200).max() <= 2
    assert image_to_array(decode_image(GOOD["webp_lossless"]))[5, 5].tolist() == [10, 120, 200]


def test_animated_gif_and_mpo_give_the_first_frame() -> None:
    assert image_to_array(decode_image(GOOD["gif_animated"]))[5, 5].tolist() == [255, 0, 0]
    first = image_to_array(decode_image(GOOD["mpo_two_frames"])).astype(int)
    assert np.abs(first[5, 5] - [200, 40, 40]).max() <= 4


def test_exif_orientation_is_applied() -> None:
    image = decode_image(GOOD["jpeg_exif_rotated"])
    stored_width, stored_height = EXIF_STORED_SIZE
    assert image.size == (stored_height, stored_width)  # portrait now
    pixels = image_to_array(image).astype(int)
    half = EXIF_MARKER_SIZE // 2
    assert np.abs(pixels[half, -half] - [255, 0, 0]).max() <= 8  # stored top-left → displayed top-right
    assert pixels[half, half].min() >= 240  # the old corner is white


def test_sniff_format() -> None:
    assert sniff_format(_jpeg()) == "jpeg"
    assert sniff_format(encode_png(np.zeros((2, 2), dtype=np.uint8))) == "png"
    assert sniff_format(GOOD["gif_animated"]) == "gif"
    assert sniff_format(GOOD["webp_lossless"]) == "webp"
    assert sniff_format(GOOD["bmp"]) == "bmp"
    assert sniff_format(GOOD["tiff_16bit_grey"]) == "tiff"
    assert sniff_format(BAD["pdf_header"][0]) == "pdf"
    assert sniff_format(BAD["svg_drawing"][0]) == "svg"
    assert sniff_format(b"\xef\xbb\xbf  <svg></svg>") == "svg"
    assert sniff_format(BAD["html_page"][0]) == "html"
    assert sniff_format(BAD["heic_header"][0]) == "heic"
    assert sniff_format(b"hello") is None
    assert sniff_format(b"") is None
    assert {"jpeg", "png", "webp", "bmp", "tiff", "gif"} == ACCEPTED_FORMATS


def test_encode_png_round_trips_arrays_and_masks() -> None:
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (7, 5, 3), dtype=np.uint8)
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(encode_png(rgb)))), rgb)
    mask = rng.random((7, 5)) > 0.5
    decoded = Image.open(io.BytesIO(encode_png(mask)))
    assert decoded.mode == "L"
    assert set(np.unique(np.asarray(decoded)).tolist()) <= {0, 255}
    assert np.array_equal(np.asarray(decoded) == 255, mask)
    image = Image.new("RGB", (3, 2), (1, 2, 3))
    assert Image.open(io.BytesIO(encode_png(image))).getpixel((0, 0)) == (1, 2, 3)
    with pytest.raises(ValueError, match="float"):
        encode_png(np.zeros((2, 2), dtype=np.float32))


def test_encode_jpeg_flattens_alpha_and_validates_quality() -> None:
    rgba = Image.new("RGBA", (20, 10), (0, 0, 0, 0))
    decoded = Image.open(io.BytesIO(encode_jpeg(rgba)))
    assert decoded.format == "JPEG" and decoded.size == (20, 10)
    assert np.asarray(decoded.convert("RGB"))[5, 5].min() >= 250  # white, not black
    with pytest.raises(ValueError):
        encode_jpeg(rgba, quality=0)
    assert len(encode_jpeg(Image.new("RGB", (64, 64), (9, 9, 9)), quality=20)) > 0


def _photo_with_metadata(size: tuple[int, int], orientation: int = 1) -> Image.Image:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (37.0, 33.0, 59.0)}  # GPS IFD
    buffer = io.BytesIO()
    Image.new("RGB", size, (180, 120, 100)).save(buffer, format="JPEG", exif=exif.tobytes(), icc_profile=b"fake-icc")
    return Image.open(io.BytesIO(buffer.getvalue()))


def test_strip_metadata_removes_exif_and_icc_and_downscales() -> None:
    photo = _photo_with_metadata((3000, 2000))
    assert "exif" in photo.info and "icc_profile" in photo.info
    clean = strip_metadata_and_downscale(photo)
    assert clean.size == (1024, 683)
    assert clean.mode == "RGB"
    assert clean.info == {}
    assert len(clean.getexif()) == 0
    reopened = Image.open(io.BytesIO(encode_jpeg(clean)))
    assert "exif" not in reopened.info and "icc_profile" not in reopened.info
    assert photo.size == (3000, 2000)  # the input is untouched


def test_strip_metadata_applies_orientation_and_never_upscales() -> None:
    clean = strip_metadata_and_downscale(_photo_with_metadata((300, 200), orientation=6), max_side=1024)
    assert clean.size == (200, 300)
    assert strip_metadata_and_downscale(Image.new("RGB", (10, 5000)), max_side=100).size == (1, 100)
    with pytest.raises(ValueError):
        strip_metadata_and_downscale(Image.new("RGB", (10, 10)), max_side=0)


def test_fit_within_scales_only_larger_images_and_keeps_the_aspect() -> None:
    small = Image.new("RGB", (1024, 700))
    assert fit_within(small, 1024) is small
    rng = np.random.default_rng(0)
    # smooth content (a blurred noise field), where a box pre-reduction must not be visible
    field = np.asarray(Image.fromarray(rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)).resize((4000, 3000),
                                                                                                 Image.BICUBIC))
    photo = Image.fromarray(field)
    exact = fit_within(photo, 1024)
    fast = fit_within(photo, 1024, reducing_gap=3.0)
    assert exact.size == fast.size == (1024, 768)
    assert fit_within(Image.new("RGB", (300, 4000)), 1000).size == (75, 1000)
    difference = np.abs(np.asarray(exact, dtype=np.int16) - np.asarray(fast, dtype=np.int16))
    assert difference.mean() < 1.0 and difference.max() <= 16
    with pytest.raises(ValueError, match="max_side"):
        fit_within(small, 0)


def test_image_to_array_is_writable_uint8_hwc() -> None:
    array = image_to_array(Image.new("L", (5, 3), 7))
    assert array.shape == (3, 5, 3) and array.dtype == np.uint8
    array[0, 0] = 1  # writable
    assert image_to_array(Image.new("RGBA", (2, 2), (0, 0, 0, 0)))[0, 0].tolist() == [255, 255, 255]
