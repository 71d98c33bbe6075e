"""A request's inputs: the uploaded photo, decoded and validated once, and the optional patient context. What is
wrong with them is raised (``skin_models.imaging.ImageError``, ``skin_models.context.ContextError``) and answered
with its 4xx in one place, ``serving.http.client_errors``."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path
from typing import Literal

from serving.settings import MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS
from skin_models.context import MAX_AGE, SEXES, SITES, SYMPTOMS, ContextError, PatientContext
from skin_models.pipeline import Photo, Pipeline

# The public APIs' form fields, as the OpenAPI document describes them.
IMAGE_FIELD = "the photo (JPEG, PNG, WebP, BMP, TIFF or GIF)"
EXPLAIN_FIELD = "also say where the classifier's evidence for its top class lay (a class activation map)"
AGE_FIELD = f"optional: the person's age in years (0-{MAX_AGE}); weighs into the answer"
SEX_FIELD = f"optional: {' or '.join(SEXES)}"
SITE_FIELD = f"optional: where on the body the lesion is, one of {', '.join(SITES)} (HAM10000's localization)"
_SYMPTOM_QUESTIONS = {"changed": "has the spot changed lately (size, shape or colour)", "grew": "has it grown",
                      "bled": "has it bled", "itched": "does it itch", "hurt": "does it hurt",
                      "raised": "is it raised above the skin"}
SYMPTOM_FIELDS = {name: f"optional: the person's own account, {_SYMPTOM_QUESTIONS[name]}: true or false; weighs "
                        "into the answer" + (", and a spot that bled or changed is never told low concern"
                                             if name in ("bled", "changed") else "")
                  for name in SYMPTOMS}
IMAGES_FIELD = ("'png' adds PNGs of the mask and of the outlined photo (most of the bytes); 'none' (the default): the "
                "mask run-length encoded and the outline as a polygon only")
Images = Literal["none", "png"]


def patient_context(age: float | None, sex: str | None, site: str | None,
                    **symptoms: bool | None) -> PatientContext:
    """The request's optional patient context and the person's account of the spot; a ``ContextError`` (422) says
    which value is not understood. An age of NaN is refused like infinity: a client leaves out what it does not know
    (the data sets' NaN, "not recorded", is the model layer's business, not the API's)."""
    if age is not None and math.isnan(age):
        raise ContextError(f"age must be a number of years from 0 to {MAX_AGE}, not NaN")
    return PatientContext.parse(age, sex, site, **symptoms)


async def decode_upload(pipeline: Pipeline, upload: Path) -> Photo:
    """The decoded, validated photo; an ``ImageError`` (400, 413 or 415) says what was wrong with it."""
    return await asyncio.to_thread(prepare_upload, pipeline, upload)


def prepare_upload(pipeline: Pipeline, upload: Path) -> Photo:
    """The upload decoded within the size limits and prepared for both networks; an ``ImageError`` otherwise."""
    from skin_models.imaging import ImageTooLargeError, decode_image

    upload = Path(upload)
    if upload.stat().st_size > MAX_IMAGE_BYTES:  # do not even read it
        raise ImageTooLargeError(f"The file is larger than the limit of {MAX_IMAGE_BYTES / 1024 / 1024:.0f} MB; "
                                 "please send a smaller photo (for example, export it as a JPEG).")
    uploaded = decode_image(upload.read_bytes(), max_bytes=MAX_IMAGE_BYTES, max_pixels=MAX_IMAGE_PIXELS)
    return pipeline.prepare(uploaded)
