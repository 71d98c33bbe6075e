"""Photo hygiene with Pillow only (no torch): decode, rotate upright, drop all metadata, downscale, re-encode."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from webapp.core.i18n import _


class PhotoError(ValueError):
    """The upload cannot be used; ``message`` says what the user can do about it."""

    def __init__(self, message: str, status_code: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code


@dataclass(frozen=True, slots=True)
class CleanPhoto:
    """A JPEG without EXIF (no GPS, no camera serial), upright, at most ``max_side`` pixels on its long side."""

    jpeg: bytes
    width: int
    height: int


def clean_photo(data: bytes, *, max_side: int = 1024, max_pixels: int = 50_000_000, quality: int = 88) -> CleanPhoto:
    """Decode ``data`` and return a clean JPEG, or raise ``PhotoError`` with a message for the user."""
    if not data:
        raise PhotoError(_("The file is empty. Choose a photo (JPEG, PNG or WebP) and try again."))
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.width * probe.height > max_pixels:
                raise PhotoError(_("The photo has too many pixels (%(width)d×%(height)d). Use a smaller photo (at "
                                   "most about 50 megapixels).", width=probe.width, height=probe.height),
                                 status_code=413)
            probe.load()
            image = ImageOps.exif_transpose(probe)
    except PhotoError:
        raise
    except Image.DecompressionBombError as exc:
        raise PhotoError(_("The photo has too many pixels. Use a smaller photo."), status_code=413) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise PhotoError(_("This file is not an image we can read. Take a photo or upload a JPEG, PNG or WebP "
                           "picture of the skin spot.")) from exc
    # convert() builds a new image from pixels only: no EXIF, ICC, XMP or text chunks travel with it.
    image = image.convert("RGB")
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality, optimize=True)
    return CleanPhoto(jpeg=buffer.getvalue(), width=image.width, height=image.height)


def image_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.width, image.height
