"""Synthetic lesion photos for tests: a brown ellipse on textured skin (never real data)."""

from __future__ import annotations

import io

from PIL import Image

from tests.fixtures.service import _scene

GPS_IFD = 0x8825


def lesion_photo(width: int = 800, height: int = 600, *, scale: float = 1.0, seed: int = 0, fmt: str = "JPEG",
                 with_gps: bool = True) -> bytes:
    """A plausible lesion photo (``tests.fixtures.service``'s scene: a brown ellipse on textured skin); JPEGs carry
    EXIF with a GPS position. ``scale`` multiplies the lesion's size."""
    image = Image.fromarray(_scene(width, height, seed, scale)[0])
    buffer = io.BytesIO()
    if fmt == "JPEG" and with_gps:
        exif = Image.Exif()
        exif[0x010F] = "TestCam"  # Make
        exif[0x0110] = "Model X"  # Model
        exif[GPS_IFD] = {1: "N", 2: (37.0, 33.0, 59.0), 3: "E", 4: (126.0, 58.0, 41.0)}
        image.save(buffer, format="JPEG", quality=92, exif=exif)
    else:
        image.save(buffer, format=fmt)
    return buffer.getvalue()
