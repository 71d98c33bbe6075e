"""The Dr. Skin HTTP API contract: the request and response models of ``/classify``, ``/segment``, ``/diagnose`` and
``GET /info``, as pydantic models.

It is the API contract both the service and the site import: the BentoML service (``service.py`` and ``serving/``)
builds its answers from these models and publishes them in its OpenAPI document, and the site (``webapp/``), or any
other client, can validate an answer against them. It is torch-free on purpose (part of the core the site's image
installs): it imports only the standard library and pydantic, never numpy, PIL, torch or BentoML, and no service
setting. Renaming or removing a field here changes the public API.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# The service's default for DRSKIN_MAX_SIDE (serving.settings reads the variable with this default): a photo whose
# longer side is larger is scaled down to it before anything else.
DEFAULT_MAX_SIDE = 1024

__all__ = [
    "DEFAULT_MAX_SIDE",
    "BoundingBox",
    "ClassProbability",
    "ClassifyResponse",
    "ContextInfo",
    "DiagnoseResponse",
    "Diagnostics",
    "ErrorResponse",
    "Explanation",
    "InfoResponse",
    "KindInfo",
    "KindPerformance",
    "Measurements",
    "ModelInfo",
    "ModelVersion",
    "PatientContextOut",
    "PhotoKindOut",
    "Quality",
    "QualityWarningOut",
    "SegmentResponse",
    "ServedModel",
    "TrainingData",
    "Triage",
]


def _openapi_nullable(schema: dict[str, Any]) -> None:
    """``X | None`` as OpenAPI 3.0 says it: the non-null schema with ``nullable: true``. (pydantic writes
    ``anyOf: [X, {type: null}]``, and BentoML's document keeps only the first branch, which would declare the field
    never null: schemathesis found every null answer "violating" the published schema.)"""
    for field in schema.get("properties", {}).values():
        options = field.get("anyOf")
        if isinstance(options, list) and any(option.get("type") == "null" for option in options):
            field["anyOf"] = [option for option in options if option.get("type") != "null"]
            field["nullable"] = True


class ContractModel(BaseModel):
    """The base of every model of the contract (OpenAPI-3.0 nullability, see ``_openapi_nullable``)."""

    model_config = ConfigDict(json_schema_extra=_openapi_nullable)


class ModelInfo(ContractModel):
    name: str = Field(description="BentoML model name (skin-classifier or skin-segmenter)")
    tag: str = Field(description="full BentoML tag, name:version")
    version: str = Field(description="BentoML model version")


class ModelVersion(ModelInfo):
    synthetic: bool = Field(description="trained on synthetic images (a demo model, not for real use)")


class ClassProbability(ContractModel):
    label: str = Field(description="class code, e.g. 'nv'")
    label_name: str = Field(description="English class name")
    probability: float = Field(ge=0.0, le=1.0, description="calibrated probability")


class Diagnostics(ContractModel):
    likeness_distance: float | None = Field(description="how far the photo's colour and texture lie from real lesion "
                                                        "photos' (Mahalanobis); null when the check is off")
    likeness_threshold: float | None = Field(description="beyond this distance the photo is judged not a lesion")
    unjudged_probabilities: dict[str, float] | None = Field(
        default=None, description="only when the verdict is not 'ok': what the classifier computed anyway, for "
                                  "debugging. Not a result: the photo could not be judged")


class PatientContextOut(ContractModel):
    age: float | None = Field(description="the age given, in years; null when not given")
    sex: str | None = Field(description="the sex given (female, male); null when not given")
    site: str | None = Field(description="the body site given (HAM10000's localization); null when not given")
    changed: bool | None = Field(default=None, description="the person says the spot changed lately; null: not said")
    grew: bool | None = Field(default=None, description="the person says it grew; null: not said")
    bled: bool | None = Field(default=None, description="the person says it bled; null: not said")
    itched: bool | None = Field(default=None, description="the person says it itches; null: not said")
    hurt: bool | None = Field(default=None, description="the person says it hurts; null: not said")
    raised: bool | None = Field(default=None, description="the person says it is raised; null: not said")
    applied: bool = Field(description="whether the answer weighs what was given: false when nothing was given or "
                                      "when the served classifier has no context model")


class KindPerformance(ContractModel):
    images: int = Field(description="held-out test photos of this kind it was measured on")
    balanced_accuracy: float | None = Field(description="mean recall over the classes present among them")
    mel_recall: float | None = Field(description="share of the melanomas named melanoma; null when none")
    malignant_sensitivity: float | None = Field(
        description="share of the skin cancers (mel, bcc, akiec) flagged at the triage threshold for this kind")
    malignant_specificity: float | None = Field(description="share of the benign spots not flagged")
    malignant_auc: float | None = Field(description="area under the ROC curve of the concerning probability")

    @classmethod
    def from_measured(cls, measured: dict[str, float]) -> KindPerformance | None:
        """From a bundle's ``KindCalibration.measured``; None when nothing was measured."""
        if not measured.get("images"):
            return None
        return cls(images=int(measured["images"]),
                   **{name: measured.get(name) for name in ("balanced_accuracy", "mel_recall", "malignant_sensitivity",
                                                            "malignant_specificity", "malignant_auc")})


class PhotoKindOut(ContractModel):
    kind: Literal["dermoscopic", "phone"] = Field(
        description="'dermoscopic': taken through a dermoscope (lens on the skin); 'phone': a close-up taken with "
                    "a phone camera. Calibration, triage threshold and the measured figures below are this kind's")
    probability: float = Field(ge=0.5, le=1.0, description="how sure the classifier is of the kind")
    measured: KindPerformance | None = Field(
        description="what the served answer was measured to do on held-out photos of this kind; null when not "
                    "measured")


class ClassifyResponse(ContractModel):
    verdict: Literal["ok", "retake", "not_a_lesion"] = Field(
        description="'ok': the photo can be judged and the fields below hold the result; 'retake': too poor to "
                    "judge; 'not_a_lesion': not a close-up of a skin lesion. Only 'ok' carries a label")
    verdict_reasons: list[str] = Field(description="why not 'ok': quality codes (too_dark, too_bright, blurred, "
                                                   "too_small, no_lesion_found) or not_skin_like; empty when 'ok'")
    message: str = Field(description="the verdict in plain English, for API users")
    label: str | None = Field(description="the most probable class code (mel, nv, bcc, akiec, bkl, df, vasc); "
                                          "null unless the verdict is 'ok'")
    label_name: str | None = Field(description="English name of the most probable class; null unless 'ok'")
    probabilities: dict[str, float] | None = Field(description="all seven class probabilities by code; they sum "
                                                               "to 1; null unless 'ok'")
    top3: list[ClassProbability] | None = Field(description="the three most probable classes, best first; null "
                                                            "unless 'ok'")
    diagnostics: Diagnostics = Field(description="what the verdict was based on")
    patient_context: PatientContextOut = Field(description="the patient's context the request gave, and whether "
                                                           "the probabilities weigh it")
    photo_kind: PhotoKindOut | None = Field(
        default=None, description="the kind of photo (whatever the verdict); null when the served classifier does "
                                  "not tell kinds apart")
    model: ModelInfo = Field(description="the classifier that answered")
    synthetic_model: bool = Field(description="the classifier was trained on synthetic images only")


class BoundingBox(ContractModel):
    x: int = Field(description="left edge in pixels of the (EXIF-rotated) photo")
    y: int = Field(description="top edge in pixels")
    width: int = Field(description="box width in pixels")
    height: int = Field(description="box height in pixels")


class Measurements(ContractModel):
    area_fraction: float = Field(description="share of the photo covered by the lesion")
    asymmetry: float = Field(description="0 for a mirror-symmetric outline, up to 1")
    border_irregularity: float = Field(description="compactness P²/(4πA): about 1 for a disc, larger when ragged")
    colour_variegation: float = Field(description="spread of the lesion's colours, 0..1")
    diameter_px: float = Field(description="largest caliper diameter of the lesion in pixels")


class MaskRLE(ContractModel):
    size: list[int] = Field(min_length=2, max_length=2, description="[height, width]")
    counts: list[int] = Field(description="row-major run lengths, alternating, starting with a (possibly empty) run "
                                          "of background; they sum to height × width")


class SegmentResponse(ContractModel):
    lesion_found: bool = Field(description="false when the mask is empty")
    width: int = Field(description="width of the mask and overlay in pixels: the photo's (after EXIF rotation), "
                                   "or scaled down so that the longer side is at most the service's "
                                   f"DRSKIN_MAX_SIDE ({DEFAULT_MAX_SIDE} px unless set otherwise)")
    height: int = Field(description="height of the mask and overlay in pixels (see width)")
    original_width: int = Field(description="the uploaded photo's width in pixels, after EXIF rotation")
    original_height: int = Field(description="the uploaded photo's height in pixels, after EXIF rotation")
    mask_rle: MaskRLE = Field(description="the lesion mask, width × height, run-length encoded")
    outline: list[Annotated[list[int], Field(min_length=2, max_length=2)]] = Field(
        description="the lesion's outline as a closed polygon of [x, y] pixel positions (clockwise, simplified to "
                    "within a pixel); empty when no lesion was found. Draw it over the photo scaled to width × height")
    mask_png: str | None = Field(default=None, description="only with images=png: base64 PNG, L mode, 255 = lesion, "
                                                           "width × height")
    overlay_png: str | None = Field(default=None, description="only with images=png: base64 PNG of the photo with "
                                                              "the lesion outlined, width × height")
    area_fraction: float = Field(description="share of the photo covered by the lesion")
    bbox: BoundingBox | None = Field(description="the lesion's bounding box; null when no lesion was found")
    measurements: Measurements = Field(description="ABCD-style lesion measurements (zeros when no lesion)")
    model: ModelInfo = Field(description="the segmenter that answered")
    synthetic_model: bool = Field(description="the segmenter was trained on synthetic images only")


class Triage(ContractModel):
    level: Literal["low", "medium", "high"] = Field(description="how soon a doctor should see the lesion")
    reason: str = Field(description="why this level, in plain English (for API users)")
    reason_code: Literal["melanoma_most_likely", "high_concern", "above_threshold", "below_threshold",
                         "red_flag"] = Field(
        description="why this level, as a code: melanoma is the most likely class; the concerning probability is "
                    "high (at least 0.5 and the threshold); at or above the threshold; below it; below it, but the "
                    "person said the spot bled or changed (never 'low' then)")
    advice: str = Field(description="what to do next, in plain English (for API users)")
    concerning_probability: float = Field(description="P(mel) + P(bcc) + P(akiec)")
    threshold: float = Field(description="the classifier's referral threshold on concerning_probability (for this "
                                         "kind of photo)")
    red_flags: list[str] = Field(default_factory=list, description="the red-flag symptoms the person reported "
                                                                   "(bled, changed)")


class QualityWarningOut(ContractModel):
    code: str = Field(description="blurred, too_dark, too_bright, too_small, lesion_touches_border, "
                                  "no_lesion_found, low_confidence or close_call")
    message: str = Field(description="what is wrong with the photo and how to take a better one")


class Quality(ContractModel):
    warnings: list[QualityWarningOut] = Field(description="photo-quality warnings; empty when all is well")


class Explanation(ContractModel):
    label: str = Field(description="the class the map is for (the top class)")
    grid: list[list[float]] = Field(description="class activation map at the network's feature resolution (rows of "
                                                "0..1; 1 = where the evidence for the class was strongest)")
    box: list[int] = Field(description="[left, top, right, bottom]: the region of the photo (at width × height) that "
                                       "the network saw and the grid covers")
    inside_lesion: float | None = Field(description="share of the map's mass inside the segmenter's lesion outline")


class DiagnoseResponse(ContractModel):
    verdict: Literal["ok", "retake", "not_a_lesion"] = Field(
        description="'ok': judged, see classification and triage; 'retake': the photo is too poor to judge; "
                    "'not_a_lesion': it is not a close-up of a skin lesion. Only 'ok' carries a result")
    verdict_reasons: list[str] = Field(description="why not 'ok' (codes, see /classify); empty when 'ok'")
    message: str = Field(description="the verdict in plain English, for API users")
    classification: ClassifyResponse | None = Field(description="as POST /classify; null unless the verdict is 'ok'")
    segmentation: SegmentResponse = Field(description="as POST /segment (the outline helps to retake a photo too)")
    triage: Triage | None = Field(description="triage level from the probabilities and the model's threshold; null "
                                              "unless the verdict is 'ok'")
    diagnostics: Diagnostics = Field(description="what the verdict was based on")
    photo_kind: PhotoKindOut | None = Field(
        default=None, description="the kind of photo (whatever the verdict); null when the served classifier does "
                                  "not tell kinds apart")
    explanation: Explanation | None = Field(default=None, description="with explain=true and a verdict of 'ok': "
                                            "where the classifier's evidence for its top class lay")
    quality: Quality = Field(description="photo-quality warnings")
    models: list[ModelVersion] = Field(description="the model versions used")
    disclaimer: str = Field(description="this is not a diagnosis, and when to see a doctor")


class ErrorResponse(ContractModel):
    error: str = Field(description="what was wrong with the request and what to do")


class TrainingData(ContractModel):
    source: str | None = Field(description="what the model was trained on: the data folder's name (no full path)")
    synthetic: bool = Field(description="procedurally generated images, not real photos")
    data_fingerprint: str | None = Field(description="fingerprint of the data set's image list")
    split_fingerprint: str | None = Field(description="fingerprint of the train/val/test split")
    images: dict[str, int] = Field(description="images per split (train, val, test) when the registry recorded them")
    epochs: int | None = Field(description="epochs trained")
    starting_weights: dict[str, str] | None = Field(
        default=None, description="where the weights it was fine-tuned from came from (ImageNet: package, version, "
                                  "file sha256); null when trained from scratch")


class ContextInfo(ContractModel):
    fields: list[str] = Field(description="the optional request fields it weighs (age, sex, site, and the symptoms "
                                          "it learned from: changed, grew, bled, itched, hurt, raised)")
    weight: float = Field(description="how much they count against the photo (chosen on validation)")
    fitted_on: int = Field(description="training images the age/sex/site tables were counted on")


class Int8Info(ContractModel):
    served: bool = Field(description="whether the service runs the int8 network now (on the CPU, unless turned off "
                                     "with DRSKIN_INT8=off); otherwise the fp32 one")
    metric: str = Field(description="the quality compared before keeping it: balanced_accuracy or dice")
    split: str = Field(description="the held-out photos it was measured on")
    images: int = Field(description="how many")
    fp32: float = Field(description="the metric with the fp32 network")
    int8: float = Field(description="the metric with the int8 network")
    limit: float = Field(description="the largest drop that was accepted")


class KindInfo(ContractModel):
    temperature: float = Field(description="softmax temperature for photos of this kind (fitted on validation)")
    triage_threshold: float = Field(description="referral threshold for photos of this kind (chosen on validation "
                                                "to flag at least 90 % of its skin cancers)")
    class_adjustment: float = Field(default=0.0, description="strength (tau) of the post-hoc logit adjustment for "
                                    "this kind, chosen on validation balanced accuracy; 0: none")
    class_offsets: dict[str, float] | None = Field(
        default=None, description="per class code: what the adjustment adds to the temperature-scaled logits "
        "(positive: the class is favoured over what the network's training mix taught it); null: none")
    measured: KindPerformance | None = Field(description="the served answer on held-out test photos of this kind")


class ServedModel(ModelVersion):
    task: str = Field(description="classification or segmentation")
    created_at: str | None = Field(description="when the model was trained (its bundle's config, ISO 8601)")
    stored_at: str | None = Field(description="when it entered the BentoML store (ISO 8601)")
    arch: str = Field(description="network architecture")
    encoder: str | None = Field(description="segmentation encoder")
    input_size: list[int] = Field(description="network input [height, width] in pixels")
    training: TrainingData = Field(description="the data it was trained on")
    validation_metrics: dict[str, float] = Field(description="metrics on the validation split, by name without "
                                                             "the val_ prefix (e.g. balanced_accuracy, mel_recall, "
                                                             "malignant_sensitivity, dice, thresholded_jaccard)")
    test_metrics: dict[str, float] = Field(description="metrics on the held-out test split, when recorded")
    selection_metric: str | None = Field(description="the metric the registry ranks versions by")
    mlflow_run_id: str | None = Field(description="the MLflow run that trained it")
    registry_version: str | None = Field(description="its MLflow Model Registry version")
    triage_threshold: float | None = Field(description="classifier: referral threshold on P(mel)+P(bcc)+P(akiec)")
    temperature: float | None = Field(description="classifier: softmax temperature fitted on validation")
    mask_threshold: float | None = Field(description="segmenter: probability threshold of the mask")
    context: ContextInfo | None = Field(default=None, description="classifier: how it weighs the patient's age, sex "
                                                                  "and body site; null when it uses the photo alone")
    int8: Int8Info | None = Field(default=None, description="the int8 network for the CPU and the quality it kept; "
                                                            "null when the model has none")
    photo_kinds: dict[str, KindInfo] | None = Field(
        default=None, description="classifier: per kind of photo it tells apart (dermoscopic, phone), its "
                                  "calibration and measured figures; null when it does not tell kinds apart")


class InfoResponse(ContractModel):
    models: list[ServedModel] = Field(description="the classifier and the segmenter being served")
    synthetic: bool = Field(description="at least one served model was trained on synthetic images only")
