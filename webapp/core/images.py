"""Photo hygiene without torch: decode (the model layer's safe decoder), upright, no metadata, downscale, re-encode."""

from __future__ import annotations

import io
from dataclasses import dataclass

from skin_models.contract import DEFAULT_MAX_SIDE
from skin_models.imaging import DEFAULT_MAX_PIXELS, ImageError, decode_image, strip_metadata_and_downscale
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


def clean_photo(data: bytes, *, max_side: int = DEFAULT_MAX_SIDE, max_pixels: int = DEFAULT_MAX_PIXELS,
                quality: int = 88) -> CleanPhoto:
    """Decode ``data`` once with the model layer's safe decoder (``skin_models.imaging``: a format allow-list by
    the bytes, pixel limits, EXIF orientation applied, CMYK/16-bit/transparency handled) and return a clean JPEG, or
    raise ``PhotoError`` with the site's own message for the user."""
    try:
        image = decode_image(data, max_bytes=max(len(data), 1), max_pixels=max_pixels)
    except ImageError as exc:
        raise _photo_error(exc.code, max_pixels) from exc
    # Rebuilt from pixels only (no EXIF, ICC, XMP or text chunks travel with it), upright, at most max_side.
    image = strip_metadata_and_downscale(image, max_side)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality, optimize=True)
    return CleanPhoto(jpeg=buffer.getvalue(), width=image.width, height=image.height)


def _photo_error(code: str, max_pixels: int) -> PhotoError:
    """The decoder's error code in the site's words (the service's English messages are for API users)."""
    if code == "empty":
        return PhotoError(_("The file is empty. Choose a photo (JPEG, PNG or WebP) and try again."))
    if code == "too_many_pixels":
        return PhotoError(_("The photo has too many pixels. Use a smaller photo."), status_code=413)
    return PhotoError(_("This file is not an image we can read. Take a photo or upload a JPEG, PNG or WebP "
                        "picture of the skin spot."))
