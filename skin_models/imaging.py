"""Safe decoding of untrusted photo uploads into 8-bit RGB images, and small encoding helpers.

``decode_image`` is the one door through which uploaded bytes become pixels. It refuses, with a typed
``ImageError`` whose ``code`` is a short machine string and whose message tells the user what to do:

* ``empty`` – no bytes at all;
* ``too_many_bytes`` – more bytes than ``max_bytes``;
* ``unsupported_format`` – a real file of another known kind (PDF, SVG, HTML, HEIC, ...);
* ``not_an_image`` – bytes that are not recognisably any file format;
* ``too_many_pixels`` – the header declares more than ``max_pixels`` (checked before decoding: decompression bombs);
* ``corrupt`` – an accepted format that cannot be decoded (truncated, broken header, bad data).
"""

from __future__ import annotations

import io
import warnings
from typing import ClassVar

import numpy as np
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from skin_models.contract import DEFAULT_MAX_SIDE

__all__ = [
    "ACCEPTED_FORMATS",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_PIXELS",
    "CorruptImageError",
    "EmptyImageError",
    "ImageError",
    "ImageTooLargeError",
    "NotAnImageError",
    "TooManyPixelsError",
    "UnsupportedFormatError",
    "decode_image",
    "encode_jpeg",
    "encode_png",
    "fit_within",
    "image_to_array",
    "sniff_format",
    "strip_metadata_and_downscale",
    "to_rgb",
]

DEFAULT_MAX_BYTES = 15 * 1024 * 1024
#: The largest photo decoded, by its header: a 48-megapixel phone photo (8064×6048) fits; beyond, a decompression
#: bomb is more likely than a photo. The one limit of the service and the site.
DEFAULT_MAX_PIXELS = 50_000_000

#: Formats ``sniff_format`` may report that ``decode_image`` accepts (MPO sniffs as "jpeg").
ACCEPTED_FORMATS: frozenset[str] = frozenset({"jpeg", "png", "webp", "bmp", "tiff", "gif"})
# Pillow plugin names for the same set (MPO is opened by the JPEG plugin). Restricting Image.open to these keeps
# every other (less audited) Pillow plugin away from untrusted bytes.
_PIL_FORMATS: tuple[str, ...] = ("JPEG", "PNG", "WEBP", "BMP", "TIFF", "GIF")

_ACCEPTED_HINT = "Please send a JPEG, PNG, WebP, BMP, TIFF or GIF photo."

# Human names for formats we recognise but refuse, used in messages.
_KNOWN_FORMAT_NAMES: dict[str, str] = {
    "pdf": "a PDF document",
    "svg": "an SVG drawing",
    "html": "an HTML page",
    "xml": "an XML document",
    "heic": "a HEIC/HEIF photo",
    "avif": "an AVIF image",
    "jpeg2000": "a JPEG 2000 image",
    "jpegxl": "a JPEG XL image",
    "ico": "a Windows icon",
    "psd": "a Photoshop document",
    "postscript": "a PostScript file",
    "zip": "a ZIP archive (or an Office document)",
    "gzip": "a gzip archive",
    "rar": "a RAR archive",
    "7z": "a 7-Zip archive",
    "mp4": "a video",
    "rtf": "an RTF document",
    "exe": "a program",
    "elf": "a program",
}


class ImageError(ValueError):
    """An upload that cannot be used as a photo. ``code`` is a short machine string; ``str(err)`` says what to do."""

    code: ClassVar[str] = "invalid_image"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class EmptyImageError(ImageError):
    """No bytes were sent."""

    code = "empty"


class ImageTooLargeError(ImageError):
    """More bytes than the limit."""

    code = "too_many_bytes"


class TooManyPixelsError(ImageError):
    """More pixels than the limit (including decompression bombs), judged from the header before decoding."""

    code = "too_many_pixels"


class UnsupportedFormatError(ImageError):
    """A real file of a kind we do not take (PDF, SVG, HEIC, ...), or an image in an unusable colour mode."""

    code = "unsupported_format"


class NotAnImageError(ImageError):
    """Bytes that are not recognisably any image or document format."""

    code = "not_an_image"


class CorruptImageError(ImageError):
    """An accepted format that cannot be decoded: truncated or damaged."""

    code = "corrupt"


def sniff_format(data: bytes) -> str | None:
    """The file format named by ``data``'s magic bytes ("jpeg", "png", "pdf", "svg", "html", ...), or None.

    Names in ``ACCEPTED_FORMATS`` are images ``decode_image`` takes; anything else it rejects as unsupported.
    """
    head = bytes(data[:32])
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"BM") and len(head) >= 14:
        return "bmp"
    if head.startswith((b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")):
        return "tiff"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}:
            return "heic"
        if brand in {b"avif", b"avis"}:
            return "avif"
        return "mp4"
    simple_magic: tuple[tuple[bytes, str], ...] = (
        (b"%PDF-", "pdf"),
        (b"%!PS", "postscript"),
        (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "jpeg2000"),
        (b"\xff\x4f\xff\x51", "jpeg2000"),
        (b"\xff\x0a", "jpegxl"),
        (b"\x00\x00\x00\x0cJXL \r\n\x87\n", "jpegxl"),
        (b"\x00\x00\x01\x00", "ico"),
        (b"8BPS", "psd"),
        (b"PK\x03\x04", "zip"),
        (b"\x1f\x8b", "gzip"),
        (b"Rar!\x1a\x07", "rar"),
        (b"7z\xbc\xaf\x27\x1c", "7z"),
        (b"{\\rtf", "rtf"),
        (b"MZ", "exe"),
        (b"\x7fELF", "elf"),
    )
    for magic, name in simple_magic:
        if head.startswith(magic):
            return name
    return _sniff_markup(bytes(data[:1024]))


def _sniff_markup(head: bytes) -> str | None:
    """SVG, HTML or XML from the first kilobyte of a text file (after a BOM and whitespace)."""
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip().lower()
    if not text.startswith(b"<"):
        return None
    if b"<svg" in text:
        return "svg"
    if text.startswith((b"<!doctype html", b"<html")) or b"<html" in text or b"<body" in text:
        return "html"
    if text.startswith(b"<?xml"):
        return "xml"
    return None


def decode_image(
    data: bytes | bytearray | memoryview,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    filename: str | None = None,
) -> Image.Image:
    """Decode uploaded bytes into an 8-bit RGB image, EXIF orientation applied, first frame only.

    Transparency is composited on white; 16-bit and CMYK images are converted properly. ``filename`` is only
    used to make messages friendlier; the format is judged from the bytes. Pillow's own decompression-bomb
    limit (``Image.MAX_IMAGE_PIXELS``) still applies on top of ``max_pixels``.

    Raises an ``ImageError`` subclass (see the module docstring for the codes).
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"decode_image expects bytes, not {type(data).__name__}")
    data = bytes(data)
    what = f"The file {filename!r}" if filename else "The file"
    if not data:
        raise EmptyImageError(f"{what} is empty (0 bytes). Please choose a photo and upload it again.")
    if len(data) > max_bytes:
        raise ImageTooLargeError(
            f"{what} is {_human_bytes(len(data))}; the limit is {_human_bytes(max_bytes)}. "
            "Please send a smaller photo (for example, export it as a JPEG or reduce its resolution)."
        )
    sniffed = sniff_format(data)
    if sniffed is not None and sniffed not in ACCEPTED_FORMATS:
        raise UnsupportedFormatError(_unsupported_message(what, sniffed))

    # PIL warns (between 1x and 2x MAX_IMAGE_PIXELS) before it raises; turning that warning into an error means
    # a bomb is never decoded. The filter change is process-wide but only touches PIL's own warning category.
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            return _decode(data, sniffed, what, max_pixels)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise TooManyPixelsError(
                f"{what} declares too many pixels to decode safely (the limit is {_megapixels(max_pixels)}). "
                "Please send a smaller photo."
            ) from exc


def _decode(data: bytes, sniffed: str | None, what: str, max_pixels: int) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data), formats=_PIL_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning, MemoryError):
        raise
    except Exception as exc:  # UnidentifiedImageError, or OSError & co. from a header cut short
        if sniffed in ACCEPTED_FORMATS:
            raise CorruptImageError(_corrupt_message(what, sniffed)) from exc
        if isinstance(exc, UnidentifiedImageError):
            raise NotAnImageError(f"{what} is not an image. {_ACCEPTED_HINT}") from exc
        raise CorruptImageError(_corrupt_message(what, None)) from exc

    # Image.open has only read the header: check the declared size before any pixel is decoded.
    width, height = image.size
    if width <= 0 or height <= 0:
        raise CorruptImageError(_corrupt_message(what, sniffed))
    if width * height > max_pixels:
        raise TooManyPixelsError(
            f"{what} is {width}×{height} pixels ({_megapixels(width * height)}); the limit is "
            f"{_megapixels(max_pixels)}. Please resize the photo (for example, to 4000 pixels on the long side)."
        )
    try:
        if getattr(image, "n_frames", 1) > 1:
            image.seek(0)
        image.load()
        # Damaged EXIF must not cost the user their photo: keep the stored orientation instead.
        try:
            transposed = ImageOps.exif_transpose(image)
        except Exception:
            transposed = image.copy()
        assert transposed is not None  # in_place=False always returns an image
        return to_rgb(transposed)
    except (ImageError, Image.DecompressionBombError, Image.DecompressionBombWarning, MemoryError):
        raise
    except Exception as exc:  # Pillow's plugins raise OSError, SyntaxError, ValueError, struct.error, ...
        raise CorruptImageError(_corrupt_message(what, sniffed or (image.format or "").lower())) from exc


def to_rgb(image: Image.Image) -> Image.Image:
    """The image as 8-bit RGB: alpha/transparency composited on white, 16-bit and float scaled, CMYK converted.

    An image that is already plain RGB is returned as is (not copied).
    """
    mode = image.mode
    if mode == "RGB" and "transparency" not in image.info:
        return image
    if mode.startswith("I;16") or mode in {"I", "F"}:
        return Image.fromarray(_scale_to_uint8(np.asarray(image)), mode="L").convert("RGB")
    if mode == "CMYK":
        return _cmyk_to_rgb(image)
    if mode in {"RGBA", "LA", "PA", "RGBa", "La"} or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    try:
        return image.convert("RGB")
    except ValueError as exc:
        raise UnsupportedFormatError(
            f"The image uses the {mode!r} colour mode, which cannot be converted to RGB. "
            "Please save it as an ordinary RGB JPEG or PNG."
        ) from exc


def _scale_to_uint8(values: np.ndarray) -> np.ndarray:
    """Scale high-bit-depth grey values into 0..255 (scaled, never clipped, so detail survives)."""
    is_float = np.issubdtype(values.dtype, np.floating)
    values = values.astype(np.float64)
    if is_float and values.size and np.nanmax(values) <= 1.0:
        full_scale = 1.0  # float images are conventionally 0..1
    else:
        # 16-bit sources (PNG, TIFF) fill 0..65535; wider integer data is scaled by its own maximum.
        peak = float(np.nanmax(values)) if values.size else 0.0
        full_scale = 65535.0 if peak <= 65535.0 else peak
    scaled = np.nan_to_num(values, nan=0.0) * (255.0 / full_scale)
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def _cmyk_to_rgb(image: Image.Image) -> Image.Image:
    """CMYK → RGB through the embedded ICC profile when there is one, else Pillow's naive formula."""
    icc = image.info.get("icc_profile")
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode="RGB")
            if converted is not None:
                return converted
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken profile should not reject the photo
    return image.convert("RGB")


def encode_png(image_or_array: Image.Image | np.ndarray) -> bytes:
    """PNG bytes of an image or array. Bool masks become L-mode 0/255; uint8 HxW / HxWx3 / HxWx4 as L/RGB/RGBA."""
    if isinstance(image_or_array, Image.Image):
        image = image_or_array
    else:
        array = np.asarray(image_or_array)
        if array.dtype == np.bool_:
            array = array.astype(np.uint8) * 255
        if array.dtype != np.uint8:
            raise ValueError(f"encode_png expects a bool or uint8 array, not {array.dtype}")
        if array.ndim == 3 and array.shape[2] == 1:
            array = array[:, :, 0]
        if not (array.ndim == 2 or (array.ndim == 3 and array.shape[2] in (3, 4))):
            raise ValueError(f"encode_png expects an HxW, HxWx3 or HxWx4 array, not shape {array.shape}")
        image = Image.fromarray(np.ascontiguousarray(array))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def encode_jpeg(image: Image.Image, quality: int = 90) -> bytes:
    """JPEG bytes of ``image`` (converted to RGB, transparency on white), without EXIF or other metadata."""
    if not 1 <= quality <= 100:
        raise ValueError(f"JPEG quality must be between 1 and 100, not {quality}")
    buffer = io.BytesIO()
    to_rgb(image).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def fit_within(image: Image.Image, max_side: int, *, reducing_gap: float | None = None) -> Image.Image:
    """``image`` itself when its longer side is at most ``max_side``, else a copy scaled down to fit (aspect kept,
    Lanczos). ``reducing_gap`` (e.g. 3.0) first shrinks by an integer factor with a box filter, which is several
    times faster on camera-sized photos at no visible cost (Pillow's ``Image.resize``)."""
    if max_side < 1:
        raise ValueError(f"max_side must be at least 1, not {max_side}")
    width, height = image.size
    if max(width, height) <= max_side:
        return image
    scale = max_side / max(width, height)
    size = (max(1, min(max_side, round(width * scale))), max(1, min(max_side, round(height * scale))))
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=reducing_gap)


def strip_metadata_and_downscale(image: Image.Image, max_side: int = DEFAULT_MAX_SIDE) -> Image.Image:
    """A new RGB image with no EXIF (GPS!), ICC or text metadata, longer side ≤ ``max_side`` (Lanczos).

    The EXIF orientation is applied first, since dropping the tag would otherwise show the photo rotated.
    Smaller images are never upscaled.
    """
    try:
        oriented = ImageOps.exif_transpose(image)
    except Exception:  # damaged EXIF: keep the stored orientation rather than fail
        oriented = image
    assert oriented is not None
    rgb = fit_within(to_rgb(oriented), max_side)
    # Rebuilding from raw pixels guarantees nothing from ``info`` (exif, icc_profile, text chunks, ...) survives.
    return Image.frombytes("RGB", rgb.size, rgb.tobytes())


def image_to_array(img: Image.Image) -> np.ndarray:
    """A writable uint8 HxWx3 array of the image's RGB pixels."""
    return np.array(to_rgb(img), dtype=np.uint8)


def _human_bytes(count: int) -> str:
    if count >= 1024 * 1024:
        return f"{count / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")
    if count >= 1024:
        return f"{count / 1024:.1f} KB".replace(".0 KB", " KB")
    return f"{count} bytes"


def _megapixels(pixels: int) -> str:
    if pixels >= 1_000_000:
        return f"{pixels / 1_000_000:.1f} megapixels".replace(".0 megapixels", " megapixels")
    return f"{pixels} pixels"


def _unsupported_message(what: str, sniffed: str) -> str:
    kind = _KNOWN_FORMAT_NAMES.get(sniffed, f"a {sniffed.upper()} file")
    message = f"{what} is {kind}, not a photo we can read. {_ACCEPTED_HINT}"
    if sniffed == "heic":
        message += " On an iPhone, choose Settings → Camera → Formats → Most Compatible, or share the photo as JPEG."
    return message


def _corrupt_message(what: str, sniffed: str | None) -> str:
    kind = f"{sniffed.upper()} " if sniffed else ""
    return (
        f"{what} looks like a {kind}image but is damaged or incomplete (perhaps the upload was cut off). "
        "Please upload the photo again, or re-save it and retry."
    )
