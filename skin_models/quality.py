"""Photo-quality warnings: is this photo good enough for the models' answer to mean anything?

The checks are cheap heuristics that advise the user; they never block a result. Thresholds are module
constants so the service and tests share them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from PIL import Image
from scipy import ndimage

__all__ = [
    "BLUR_THRESHOLD",
    "QualityCode",
    "QualityWarning",
    "assess_quality",
    "blur_score",
    "border_contact_fraction",
]

#: Blur is judged on the grey image shrunk (box filter) to this longer side, so the score means the same for a
#: 600-pixel dermoscopy image and a 12-megapixel phone photo. Smaller images are measured as they are.
BLUR_WORKING_SIDE = 512
#: Variance of the Laplacian below which a photo counts as blurred. Calibrated on synthetic skin-like photos (a
#: textured background, an irregular lesion, hairs; 200 to 2000 pixels): sharp ones scored ≥ 16, the same photos
#: after a Gaussian blur of σ ≥ 1.5 working pixels ≤ 8.5. On 300 real HAM10000 dermoscopy images under 1% fall below.
BLUR_THRESHOLD = 10.0
#: Mean Rec. 601 luminance (0..255) below / above which a photo is too dark / too bright. HAM10000 images range
#: over about 65..215.
DARK_MEAN_LUMINANCE = 50.0
BRIGHT_MEAN_LUMINANCE = 225.0
#: Share of crushed-black (≤ 16) / blown-out (≥ 250) pixels that alone makes a photo too dark / too bright.
#: Dermoscopes leave black corners on up to ~10% of the frame, so the dark limit is generous.
CRUSHED_FRACTION = 0.5
CLIPPED_FRACTION = 0.25
#: Share of the frame's edge pixels covered by the lesion above which the lesion is probably cut off.
BORDER_CONTACT_FRACTION = 0.05


class QualityCode(StrEnum):
    """Machine codes of the photo-quality warnings."""

    TOO_SMALL = "too_small"
    BLURRED = "blurred"
    TOO_DARK = "too_dark"
    TOO_BRIGHT = "too_bright"
    NO_LESION_FOUND = "no_lesion_found"
    LESION_TOUCHES_BORDER = "lesion_touches_border"


@dataclass(frozen=True, slots=True)
class QualityWarning:
    """One problem with the photo: a machine ``code`` and a ``message`` that says what to do about it."""

    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        """``{"code": ..., "message": ...}`` as the service sends it."""
        return {"code": str(self.code), "message": self.message}


_MESSAGES: dict[QualityCode, str] = {
    QualityCode.TOO_SMALL: (
        "The photo is very small ({width}×{height} pixels), so fine detail is lost; please retake it closer, "
        "at full resolution, with the lesion filling about half of the frame."
    ),
    QualityCode.BLURRED: (
        "The photo looks blurred; hold the camera still (or rest your hand), let it focus on the lesion, "
        "and take it again from about 10 cm."
    ),
    QualityCode.TOO_DARK: "The photo is too dark; please retake it in daylight or a bright room, without shadows.",
    QualityCode.TOO_BRIGHT: (
        "The photo is overexposed; avoid direct sunlight and the flash, and retake it in even, indirect light."
    ),
    QualityCode.NO_LESION_FOUND: (
        "No lesion could be found in the photo; centre the lesion, move closer, and make sure it is in focus."
    ),
    QualityCode.LESION_TOUCHES_BORDER: (
        "The lesion runs off the edge of the photo, so its size and shape cannot be judged; step back a little "
        "and keep the whole lesion, with some skin around it, inside the frame."
    ),
}


def assess_quality(image: np.ndarray, mask: np.ndarray | None = None, *, min_side: int = 128,
                   photo_size: tuple[int, int] | None = None) -> list[QualityWarning]:
    """Warnings about a uint8 H×W×3 (or H×W grey) photo and, when given, its H×W lesion mask; [] when all is well.

    Codes, in this order: ``too_small``, ``blurred`` (only when the exposure is fine), ``too_dark`` or
    ``too_bright``, then with a mask
    ``no_lesion_found`` (the mask is empty) or ``lesion_touches_border``. When ``image`` is a scaled-down copy of
    the photo, ``photo_size`` (width, height) is the photo's own size: ``too_small`` judges that one.
    """
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (3, 4)):
        raise ValueError(f"expected a uint8 H×W×3 or H×W image, got {image.dtype} of shape {image.shape}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"the image is empty (shape {image.shape})")
    height, width = image.shape[:2]
    luminance = _luminance(image)
    codes: list[QualityCode] = []
    photo_width, photo_height = photo_size or (width, height)
    if min(photo_height, photo_width) < min_side:
        codes.append(QualityCode.TOO_SMALL)
    mean = float(luminance.mean())
    exposure = None
    if mean < DARK_MEAN_LUMINANCE or float((luminance <= 16).mean()) > CRUSHED_FRACTION:
        exposure = QualityCode.TOO_DARK
    elif mean > BRIGHT_MEAN_LUMINANCE or float((luminance >= 250).mean()) > CLIPPED_FRACTION:
        exposure = QualityCode.TOO_BRIGHT
    # Sharpness cannot be judged where the light leaves no detail (a black or white photo has no edges): then the
    # advice is about the light alone, not also "hold the camera still".
    if exposure is None and blur_score(luminance) < BLUR_THRESHOLD:
        codes.append(QualityCode.BLURRED)
    if exposure is not None:
        codes.append(exposure)
    if mask is not None:
        mask = np.asarray(mask).astype(bool, copy=False)
        if mask.shape != (height, width):
            raise ValueError(f"mask shape {mask.shape} does not match the image's {(height, width)}")
        if not mask.any():
            codes.append(QualityCode.NO_LESION_FOUND)
        elif border_contact_fraction(mask) > BORDER_CONTACT_FRACTION:
            codes.append(QualityCode.LESION_TOUCHES_BORDER)
    return [QualityWarning(code.value, _MESSAGES[code].format(width=photo_width, height=photo_height))
            for code in codes]


def blur_score(grey: np.ndarray) -> float:
    """Variance of the 4-neighbour Laplacian of a grey (0..255) image shrunk to ``BLUR_WORKING_SIDE``; low = blurred."""
    grey = np.asarray(grey)
    if grey.ndim == 3:
        grey = _luminance(grey)
    height, width = grey.shape
    work = grey.astype(np.float64)
    if max(height, width) > BLUR_WORKING_SIDE:
        scale = BLUR_WORKING_SIDE / max(height, width)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        work = np.asarray(Image.fromarray(work.astype(np.float32), mode="F").resize(size, Image.Resampling.BOX))
    return float(ndimage.laplace(work.astype(np.float64)).var())


def border_contact_fraction(mask: np.ndarray) -> float:
    """The share of the image's edge pixels (all four sides) that belong to the mask."""
    mask = np.asarray(mask).astype(bool, copy=False)
    if mask.shape[0] < 3 or mask.shape[1] < 3:
        return float(mask.mean()) if mask.size else 0.0
    edge = np.concatenate([mask[0], mask[-1], mask[1:-1, 0], mask[1:-1, -1]])
    return float(edge.mean())


def _luminance(image: np.ndarray) -> np.ndarray:
    """Rec. 601 luma (what PIL's "L" conversion uses), as float32 0..255."""
    if image.ndim == 2:
        return image.astype(np.float32)
    rgb = image[..., :3].astype(np.float32)
    return rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
