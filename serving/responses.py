"""A diagnosis (``skin_models.pipeline``) as the API's answers: the response models of ``skin_models.contract``,
with the verdict's message for API users and the disclaimer."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from serving.settings import DISCLAIMER, SYNTHETIC_NOTE, VERDICT_MESSAGES
from skin_models.contract import (
    BoundingBox,
    ClassifyResponse,
    ClassProbability,
    DiagnoseResponse,
    Diagnostics,
    Explanation,
    KindPerformance,
    MaskRLE,
    Measurements,
    ModelInfo,
    ModelVersion,
    PatientContextOut,
    PhotoKindOut,
    Quality,
    QualityWarningOut,
    SegmentResponse,
    Triage,
)

if TYPE_CHECKING:
    from skin_models.config import ModelConfig
    from skin_models.pipeline import Diagnosis, Photo
    from skin_models.postprocess import LesionMeasurements
    from skin_models.verdict import LesionLikeness


def photo_kind(diagnosis: Diagnosis, config: ModelConfig) -> PhotoKindOut | None:
    """The photo's kind with what the served answer was measured to do on that kind (``config.kinds``)."""
    found = diagnosis.photo_kind
    if found is None:
        return None
    calibration = config.kinds.get(found.kind)
    measured = calibration.measured if calibration else {}
    return PhotoKindOut(kind=cast(Any, found.kind), probability=round(found.probability, 4),
                        measured=KindPerformance.from_measured(measured))


def classification(diagnosis: Diagnosis, model: ModelVersion, likeness: LesionLikeness | None,
                   config: ModelConfig) -> ClassifyResponse:
    """``/classify``'s answer (and ``/diagnose``'s ``classification``): the verdict, and the result only when judged."""
    from skin_models.labels import get_label

    top3 = [ClassProbability(label=code, label_name=get_label(code).name_en, probability=p)
            for code, p in diagnosis.top(3)]
    by_code = {code: float(p) for code, p in zip(diagnosis.labels, diagnosis.probabilities, strict=True)}
    ok = diagnosis.judged
    decided = diagnosis.verdict
    reasons = list(decided.reasons)
    context = diagnosis.context
    return ClassifyResponse(
        verdict=cast(Any, str(decided.verdict)),
        verdict_reasons=reasons,
        message=VERDICT_MESSAGES[str(decided.verdict)].format(reasons=", ".join(reasons).replace("_", " ")),
        label=top3[0].label if ok else None,
        label_name=top3[0].label_name if ok else None,
        probabilities=by_code if ok else None,
        top3=top3 if ok else None,
        diagnostics=Diagnostics(likeness_distance=decided.likeness_distance,
                                likeness_threshold=likeness.threshold if likeness else None,
                                unjudged_probabilities=None if ok else by_code),
        patient_context=PatientContextOut.model_validate({**context.as_dict(), "applied": diagnosis.context_applied}),
        photo_kind=photo_kind(diagnosis, config),
        model=ModelInfo(**model.model_dump(exclude={"synthetic"})),
        synthetic_model=model.synthetic,
    )


def segmentation(photo: Photo, mask: np.ndarray, model: ModelVersion, measured: LesionMeasurements | None = None,
                 *, images: bool = False) -> SegmentResponse:
    """``/segment``'s answer: the mask (run-length) and outline (polygon) at the photo's working size, with the
    measurements; PNGs of the mask and of the outlined photo only when ``images`` (they are most of the bytes)."""
    from skin_models.imaging import encode_png
    from skin_models.postprocess import draw_overlay, lesion_measurements, outline_polygon, rle_encode

    measured = measured or lesion_measurements(photo.pixels, mask)
    bbox = None if measured.bbox is None else BoundingBox(x=measured.bbox[0], y=measured.bbox[1],
                                                           width=measured.bbox[2], height=measured.bbox[3])
    return SegmentResponse(
        lesion_found=bool(mask.any()),
        width=photo.image.width,
        height=photo.image.height,
        original_width=photo.original_size[0],
        original_height=photo.original_size[1],
        mask_rle=MaskRLE.model_validate(rle_encode(mask)),
        outline=[list(point) for point in outline_polygon(mask)],
        mask_png=base64.b64encode(encode_png(mask)).decode("ascii") if images else None,
        # No tint inside the outline: the lesion's own colours matter to whoever looks at it.
        overlay_png=base64.b64encode(encode_png(draw_overlay(photo.image, mask, fill_alpha=0.0))).decode(
            "ascii") if images else None,
        area_fraction=measured.area_fraction,
        bbox=bbox,
        measurements=Measurements(**measured.as_dict()),
        model=ModelInfo(**model.model_dump(exclude={"synthetic"})),
        synthetic_model=model.synthetic,
    )


def explanation(config: ModelConfig, photo: Photo, mask: np.ndarray, label: str,
                class_maps: np.ndarray) -> Explanation:
    """The top class's activation map (from the classifier's own pass: ``class_maps``, (classes, h, w)) over the
    region of the photo the classifier saw (the crop around the lesion ``mask`` for a lesion_crop classifier)."""
    from skin_models.explain import normalised_map, share_inside, to_photo
    from skin_models.preprocess import crop_box

    grid = normalised_map(class_maps, list(config.labels).index(label))
    lesion = mask if config.resize_policy == "lesion_crop" else None
    box = crop_box(photo.image.width, photo.image.height, config, lesion)
    inside = share_inside(to_photo(grid, box, photo.image.size), mask) if mask.any() else None
    return Explanation(label=label, grid=np.round(grid, 3).tolist(), box=list(box), inside_lesion=inside)


def diagnosis_response(diagnosis: Diagnosis, classified: ClassifyResponse, segmented: SegmentResponse,
                       explained: Explanation | None, models: list[ModelVersion]) -> DiagnoseResponse:
    """``/diagnose``'s answer: the classification and triage only when judged, always the segmentation and the
    quality warnings, and the disclaimer (with a note when a model is a synthetic demo)."""
    judged = diagnosis.judged
    disclaimer = DISCLAIMER + (SYNTHETIC_NOTE if any(m.synthetic for m in models) else "")
    return DiagnoseResponse(
        explanation=explained,
        verdict=classified.verdict,
        verdict_reasons=classified.verdict_reasons,
        message=classified.message,
        classification=classified if judged else None,
        segmentation=segmented,
        triage=Triage.model_validate(diagnosis.triage.as_dict()) if diagnosis.triage is not None else None,
        diagnostics=classified.diagnostics,
        photo_kind=classified.photo_kind,
        quality=Quality(warnings=[QualityWarningOut(**w.as_dict()) for w in diagnosis.warnings]),
        models=models,
        disclaimer=disclaimer,
    )
