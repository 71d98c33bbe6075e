"""Synthetic lesion photos for tests: a brown ellipse on skin colour (never real data)."""

from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw, ImageFilter

GPS_IFD = 0x8825


def lesion_photo(width: int = 800, height: int = 600, *, scale: float = 0.3, seed: int = 0, fmt: str = "JPEG",
                 with_gps: bool = True) -> bytes:
    """A skin-coloured photo with a brown, slightly blurred ellipse; JPEGs carry EXIF with a GPS position."""
    rng = random.Random(seed)
    image = Image.new("RGB", (width, height), (224 + rng.randint(-8, 8), 180 + rng.randint(-8, 8), 150))
    draw = ImageDraw.Draw(image)
    rx, ry = width * scale / 2, height * scale / 2.4
    cx, cy = width / 2 + rng.randint(-20, 20), height / 2 + rng.randint(-20, 20)
    draw.ellipse([cx - rx, cy - ry, cx + rx, cy + ry], fill=(110, 70, 45))
    draw.ellipse([cx - rx / 3, cy - ry / 3, cx + rx / 4, cy + ry / 4], fill=(80, 50, 35))
    image = image.filter(ImageFilter.GaussianBlur(2))
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
