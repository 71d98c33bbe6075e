"""The Dr. Skin BentoML service: ``bentoml serve service:DrSkin``.

Three services, each in its own worker process:

* ``LesionClassifier`` and ``LesionSegmenter`` hold one network each and expose one *batchable* API that takes a
  list of uint8 H×W×3 arrays already at the network's input size, so a batch is just normalise + one forward pass
  (ONNX Runtime when the bundle carries ``model.onnx``, else PyTorch; CUDA when present).
* ``DrSkin`` is the public HTTP API (``/classify``, ``/segment``, ``/diagnose``). It decodes and validates each
  upload once, resizes it for each network, calls the internal services asynchronously (so concurrent requests to
  all three endpoints are batched together), and turns their outputs into responses.

This module holds no model logic: decoding, preprocessing, post-processing, quality and triage live in
``skin_models``. Models come from the BentoML store (``$DRSKIN_CLASSIFIER`` / ``$DRSKIN_SEGMENTER``, default
``skin-classifier:latest`` / ``skin-segmenter:latest``) and are declared at class scope so ``bentoml build`` packs
them. Environment knobs: ``DRSKIN_BATCHING=off`` (one request per forward pass, for benchmarks),
``DRSKIN_MAX_BATCH_SIZE``, ``DRSKIN_MAX_LATENCY_MS``, ``DRSKIN_MAX_IMAGE_BYTES`` (15 MiB),
``DRSKIN_MAX_IMAGE_PIXELS`` (40 MP), ``DRSKIN_MAX_SIDE`` (1024: larger photos are scaled down to this longer side
before anything else, so a 12-megapixel phone photo costs about what a 1-megapixel one does), ``DRSKIN_DEVICE``
(auto|cpu|cuda), ``DRSKIN_BACKEND`` (auto|onnx|torch).
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import json
import logging
import os
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

import bentoml
import numpy as np
from bentoml.exceptions import BentoMLException
from pydantic import BaseModel, Field

from skin_models.context import FIELDS as CONTEXT_FIELDS
from skin_models.context import MAX_AGE, SEXES, SITES, ContextError, PatientContext
from skin_models.pipeline import Diagnosis, Photo, Pipeline

Backend = Literal["auto", "torch", "onnx"]

if TYPE_CHECKING:
    from skin_models.config import ModelConfig
    from skin_models.postprocess import LesionMeasurements

logger = logging.getLogger("drskin.service")

CLASSIFIER_NAME = "skin-classifier"
SEGMENTER_NAME = "skin-segmenter"
CLASSIFIER_TAG = os.environ.get("DRSKIN_CLASSIFIER") or f"{CLASSIFIER_NAME}:latest"
SEGMENTER_TAG = os.environ.get("DRSKIN_SEGMENTER") or f"{SEGMENTER_NAME}:latest"

BATCHING = os.environ.get("DRSKIN_BATCHING", "on").strip().lower() not in {"off", "0", "false", "no"}
# Chosen by measurement (docs/performance.md, "forward pass by batch size"): on 2 cores the classifier's time per
# image stops falling at a batch of 4-8 and the segmenter's at 2, so bigger batches only add waiting.
# With batching off, the internal APIs are plain (not batchable):
# each request is its own forward pass, one at a time per service, i.e. a max batch size of 1 (BentoML itself
# refuses max_batch_size=1).
MAX_BATCH_SIZE = int(os.environ.get("DRSKIN_MAX_BATCH_SIZE", "8"))
# BentoML's dispatcher waits adaptively (far less than this) to fill a batch; max_latency_ms is the point past which
# it sheds a queued request with 503, so it is a queue timeout, sized for a burst of ~64 requests on 2 cores.
MAX_LATENCY_MS = int(os.environ.get("DRSKIN_MAX_LATENCY_MS", "20000"))
MAX_IMAGE_BYTES = int(os.environ.get("DRSKIN_MAX_IMAGE_BYTES", str(15 * 1024 * 1024)))
MAX_IMAGE_PIXELS = int(os.environ.get("DRSKIN_MAX_IMAGE_PIXELS", "40000000"))
# The networks see 64-96 px; the mask, overlay and measurements at a phone camera's 12 MP cost seconds
# (docs/performance.md), at 1024 px a few hundred milliseconds, and nobody reads an outline finer than that.
MAX_SIDE = int(os.environ.get("DRSKIN_MAX_SIDE", "1024"))
# A multipart body carries the file plus boundaries and part headers.
MAX_REQUEST_BYTES = MAX_IMAGE_BYTES + 64 * 1024
DEVICE = os.environ.get("DRSKIN_DEVICE", "auto")
# The two model services run side by side: each gets half the cores, so their thread pools do not fight (on a busy
# 2-core machine one ONNX Runtime thread per model was twice as fast as its default; docs/performance.md).
MODEL_THREADS = int(os.environ.get("DRSKIN_MODEL_THREADS") or max(1, (os.cpu_count() or 2) // 2))
BACKEND = cast(Backend, os.environ.get("DRSKIN_BACKEND", "auto"))
REQUEST_TIMEOUT_S = 120
# BentoML 1.4 recycles its client session to a dependency every `max_requests` calls (default 100) by closing it,
# which drops the requests still in flight on it (ServerDisconnectedError → 500 under concurrency). The internal
# services are local and long-lived, so the session is kept for the life of the process instead.
INTERNAL_SERVICE_CONFIG: dict[str, Any] = {
    "workers": 1,
    "traffic": {"timeout": REQUEST_TIMEOUT_S},
    "runner_connection": {"max_requests": 2**62, "max_age": 10.0 * 365 * 24 * 3600},
}
PUBLIC_ROUTES = ("/classify", "/segment", "/diagnose")

DISCLAIMER = (
    "Dr. Skin is not a diagnosis. It is an automated estimate from a single photo, made by software that can be "
    "wrong, and it cannot rule out skin cancer. See a doctor or dermatologist if a lesion is new, growing, changing "
    "in shape or colour, bleeding, itching or not healing, if the result is medium or high, or whenever you are "
    "worried, whatever this result says."
)
SYNTHETIC_NOTE = (
    " The models answering now were trained on synthetic images only (a first-run demo): their results mean nothing."
)
# For API users; the site words the verdict itself (EN/KO) from the codes.
VERDICT_MESSAGES = {
    "ok": "The photo can be judged; the result below is an estimate, not a diagnosis.",
    "retake": "This photo cannot be judged ({reasons}); no result is given. Please take another photo: close, "
              "sharp, in even light, with the whole lesion and some skin around it in the frame.",
    "not_a_lesion": "This photo does not look like a close-up of skin with a lesion, so no result is given. Please "
                    "photograph the skin spot itself, close and in focus.",
}
# Who may read /metrics (the entry port is the public one): loopback and private networks unless set.
METRICS_ALLOW = tuple(ipaddress.ip_network(cidr.strip(), strict=False) for cidr in os.environ.get(
    "DRSKIN_METRICS_ALLOW", "127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7").split(",")
    if cidr.strip())
# ``DRSKIN_LESION_LIKENESS``: the not-a-lesion calibration to use (default: the one shipped in skin_models), or
# "off" to judge every photo that passes the quality checks.
LESION_LIKENESS = os.environ.get("DRSKIN_LESION_LIKENESS", "").strip()


# --- models in the store ---------------------------------------------------------------------------------------------


class ModelsMissingError(RuntimeError):
    """The BentoML store lacks a model the service needs; the message names the command that creates it."""


def _model_reference(tag: str) -> bentoml.models.BentoModel:
    """A class-scope model reference (what ``bentoml build`` packs); fails early with a fix when it is missing."""
    reference = bentoml.models.BentoModel(tag)
    if reference.stored is None:  # checked here: resolve() would otherwise try BentoCloud first
        from bentoml._internal.configuration.containers import BentoMLContainer

        store = BentoMLContainer.model_store_dir.get()
        raise ModelsMissingError(
            f"Dr. Skin cannot start: there is no model {tag!r} in the BentoML store at {store}. "
            "Create synthetic first-run models with `drskin train quick`, or train real ones with "
            "`drskin train all --data PATH` (a HAM10000 folder); `drskin models` lists what the store holds."
        )
    return reference


CLASSIFIER_MODEL = _model_reference(CLASSIFIER_TAG)
SEGMENTER_MODEL = _model_reference(SEGMENTER_TAG)


def _model_config(stored: Any) -> ModelConfig:
    from skin_models.bundle import load_config

    return load_config(Path(stored.path))


def _lesion_likeness() -> Any:
    """The not-a-lesion calibration (skin_models.verdict), or None when ``DRSKIN_LESION_LIKENESS=off``."""
    from skin_models.verdict import LIKENESS_FILE, LesionLikeness

    if LESION_LIKENESS.lower() == "off":
        return None
    path = Path(LESION_LIKENESS) if LESION_LIKENESS else LIKENESS_FILE
    if LESION_LIKENESS and not path.exists():
        raise FileNotFoundError(f"DRSKIN_LESION_LIKENESS={LESION_LIKENESS}: no such file; give a file written by "
                                "`drskin calibrate-verdict`, or 'off'")
    likeness = LesionLikeness.load(path)
    if likeness is None:
        logger.warning("no not-a-lesion calibration at %s: every photo that passes the quality checks is judged "
                       "(run `drskin calibrate-verdict`)", path)
    return likeness


def _limit_threads() -> None:
    import torch

    os.environ.setdefault("DRSKIN_ORT_THREADS", str(MODEL_THREADS))  # read by skin_models.predict
    torch.set_num_threads(MODEL_THREADS)


def _warm_up(run: Any, config: ModelConfig) -> None:
    """One forward pass at start-up, so the first request does not pay for lazy initialisation."""
    height, width = config.input_size
    run([np.zeros((height, width, 3), dtype=np.uint8)])


# --- response schemas ------------------------------------------------------------------------------------------------


class ModelInfo(BaseModel):
    name: str = Field(description="BentoML model name (skin-classifier or skin-segmenter)")
    tag: str = Field(description="full BentoML tag, name:version")
    version: str = Field(description="BentoML model version")


class ModelVersion(ModelInfo):
    synthetic: bool = Field(description="trained on synthetic images (a demo model, not for real use)")


class ClassProbability(BaseModel):
    label: str = Field(description="class code, e.g. 'nv'")
    label_name: str = Field(description="English class name")
    probability: float = Field(ge=0.0, le=1.0, description="calibrated probability")


class Diagnostics(BaseModel):
    likeness_distance: float | None = Field(description="how far the photo's colour and texture lie from real lesion "
                                                        "photos' (Mahalanobis); null when the check is off")
    likeness_threshold: float | None = Field(description="beyond this distance the photo is judged not a lesion")
    unjudged_probabilities: dict[str, float] | None = Field(
        default=None, description="only when the verdict is not 'ok': what the classifier computed anyway, for "
                                  "debugging. Not a result: the photo could not be judged")


class PatientContextOut(BaseModel):
    age: float | None = Field(description="the age given, in years; null when not given")
    sex: str | None = Field(description="the sex given (female, male); null when not given")
    site: str | None = Field(description="the body site given (HAM10000's localization); null when not given")
    applied: bool = Field(description="whether the answer weighs what was given: false when nothing was given or "
                                      "when the served classifier has no context model")


class ClassifyResponse(BaseModel):
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
    model: ModelInfo = Field(description="the classifier that answered")
    synthetic_model: bool = Field(description="the classifier was trained on synthetic images only")


class BoundingBox(BaseModel):
    x: int = Field(description="left edge in pixels of the (EXIF-rotated) photo")
    y: int = Field(description="top edge in pixels")
    width: int = Field(description="box width in pixels")
    height: int = Field(description="box height in pixels")


class Measurements(BaseModel):
    area_fraction: float = Field(description="share of the photo covered by the lesion")
    asymmetry: float = Field(description="0 for a mirror-symmetric outline, up to 1")
    border_irregularity: float = Field(description="compactness P²/(4πA): about 1 for a disc, larger when ragged")
    colour_variegation: float = Field(description="spread of the lesion's colours, 0..1")
    diameter_px: float = Field(description="largest caliper diameter of the lesion in pixels")


class SegmentResponse(BaseModel):
    lesion_found: bool = Field(description="false when the mask is empty")
    width: int = Field(description="width of the mask and overlay in pixels: the photo's (after EXIF rotation), "
                                   f"or scaled down so that the longer side is at most {MAX_SIDE} px")
    height: int = Field(description="height of the mask and overlay in pixels (see width)")
    original_width: int = Field(description="the uploaded photo's width in pixels, after EXIF rotation")
    original_height: int = Field(description="the uploaded photo's height in pixels, after EXIF rotation")
    mask_png: str = Field(description="base64 PNG, L mode, 255 = lesion, width × height")
    overlay_png: str = Field(description="base64 PNG of the photo with the lesion outlined, width × height")
    area_fraction: float = Field(description="share of the photo covered by the lesion")
    bbox: BoundingBox | None = Field(description="the lesion's bounding box; null when no lesion was found")
    measurements: Measurements = Field(description="ABCD-style lesion measurements (zeros when no lesion)")
    model: ModelInfo = Field(description="the segmenter that answered")
    synthetic_model: bool = Field(description="the segmenter was trained on synthetic images only")


class Triage(BaseModel):
    level: Literal["low", "medium", "high"] = Field(description="how soon a doctor should see the lesion")
    reason: str = Field(description="why this level, in plain words")
    advice: str = Field(description="what to do next")
    concerning_probability: float = Field(description="P(mel) + P(bcc) + P(akiec)")
    threshold: float = Field(description="the classifier's referral threshold on concerning_probability")


class QualityWarningOut(BaseModel):
    code: str = Field(description="blurred, too_dark, too_bright, too_small, lesion_touches_border, "
                                  "no_lesion_found or low_confidence")
    message: str = Field(description="what is wrong with the photo and how to take a better one")


class Quality(BaseModel):
    warnings: list[QualityWarningOut] = Field(description="photo-quality warnings; empty when all is well")


class Explanation(BaseModel):
    label: str = Field(description="the class the map is for (the top class)")
    grid: list[list[float]] = Field(description="class activation map at the network's feature resolution (rows of "
                                                "0..1; 1 = where the evidence for the class was strongest)")
    box: list[int] = Field(description="[left, top, right, bottom]: the region of the photo (at width × height) that "
                                       "the network saw and the grid covers")
    inside_lesion: float | None = Field(description="share of the map's mass inside the segmenter's lesion outline")


class DiagnoseResponse(BaseModel):
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
    explanation: Explanation | None = Field(default=None, description="with explain=true and a verdict of 'ok': "
                                            "where the classifier's evidence for its top class lay")
    quality: Quality = Field(description="photo-quality warnings")
    models: list[ModelVersion] = Field(description="the model versions used")
    disclaimer: str = Field(description="this is not a diagnosis, and when to see a doctor")


class ErrorResponse(BaseModel):
    error: str = Field(description="what was wrong with the request and what to do")


class TrainingData(BaseModel):
    source: str | None = Field(description="what the model was trained on: the data folder's name (no full path)")
    synthetic: bool = Field(description="procedurally generated images, not real photos")
    data_fingerprint: str | None = Field(description="fingerprint of the data set's image list")
    split_fingerprint: str | None = Field(description="fingerprint of the train/val/test split")
    images: dict[str, int] = Field(description="images per split (train, val, test) when the registry recorded them")
    epochs: int | None = Field(description="epochs trained")
    starting_weights: dict[str, str] | None = Field(
        default=None, description="where the weights it was fine-tuned from came from (ImageNet: package, version, "
                                  "file sha256); null when trained from scratch")


class ContextInfo(BaseModel):
    fields: list[str] = Field(description="the optional request fields it weighs (age, sex, site)")
    weight: float = Field(description="how much they count against the photo (chosen on validation)")
    fitted_on: int = Field(description="training images the age/sex/site tables were counted on")


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


class InfoResponse(BaseModel):
    models: list[ServedModel] = Field(description="the classifier and the segmenter being served")
    synthetic: bool = Field(description="at least one served model was trained on synthetic images only")


# --- client errors ---------------------------------------------------------------------------------------------------

_STATUS_BY_IMAGE_ERROR = {
    "empty": 400,
    "not_an_image": 400,
    "corrupt": 400,
    "too_many_bytes": 413,
    "too_many_pixels": 413,
    "unsupported_format": 415,
}
MISSING_IMAGE_MESSAGE = "The request has no photo: send it as the multipart/form-data file field 'image'."


class UploadRefused(BentoMLException):
    """A form field ``image`` that is not a file (e.g. a URL): this service never fetches anything."""

    error_code = HTTPStatus.BAD_REQUEST


def _context(age: float | None, sex: str | None, site: str | None) -> PatientContext | Any:
    """The request's optional patient context, or a 422 response saying which value is not understood."""
    try:
        return PatientContext.parse(age, sex, site)
    except ContextError as exc:
        return _error_response(422, f"{exc}. These fields are optional: leave out what you do not know.")


def _error_response(status: int, message: str) -> Any:
    from starlette.responses import JSONResponse

    return JSONResponse({"error": message}, status_code=status)


def _install_upload_only_multipart_parser() -> None:
    """Replace BentoML's multipart parser for this server with one that takes uploaded files only.

    BentoML 1.4's parser downloads any *text* value of a file field as a URL, and JSON-decodes every other field,
    so a stray binary field is a 500. This one refuses text in a file field (400, nothing is fetched), ignores
    fields the API does not declare, and leaves validation (a missing ``image`` → 422) to pydantic.
    """
    from _bentoml_impl import serde
    from starlette.datastructures import UploadFile

    class UploadOnlyMultipartSerde(serde.MultipartSerde):
        async def parse_request(self, request: Any, cls: Any) -> Any:
            try:
                form = await request.form()
            except Exception as exc:  # any failure to parse the client's body is the client's mistake, not a 500
                raise UploadRefused("The request body is not valid multipart/form-data (" + (
                    str(exc) or type(exc).__name__) + "). Send the photo as the file field 'image', for example: "
                    "curl -F image=@photo.jpg ...") from exc
            data: dict[str, Any] = {}
            for name in form:
                if name not in cls.model_fields:
                    continue
                values = form.getlist(name)
                if name in cls.multipart_fields:
                    files = [v for v in values if isinstance(v, UploadFile)]
                    if len(files) != len(values):
                        raise UploadRefused(f"The field {name!r} must be an uploaded file (multipart/form-data); "
                                            "this service does not fetch URLs or read paths.")
                    data[name] = files[0]
                else:
                    value = values[0]
                    if isinstance(value, UploadFile):
                        value = await value.read()
                    if value in ("", b""):
                        continue  # a form input left empty: not given
                    try:
                        data[name] = json.loads(value)
                    except ValueError:
                        data[name] = value
            return cls.model_validate(data)

    serde.ALL_SERDE[serde.MultipartSerde.media_type] = UploadOnlyMultipartSerde


_install_upload_only_multipart_parser()


class UploadGuard:
    """ASGI middleware for the public routes: request size and type limits, and ``{"error": ...}`` bodies.

    * a body over ``MAX_REQUEST_BYTES`` is refused with 413 before it is read (Content-Length) or as soon as it
      exceeds the limit (chunked);
    * anything but multipart/form-data is refused with 415 (so a JSON body can never name a server-side path);
    * BentoML's own 4xx bodies are rewritten to ``{"error": message}``: its validation error for a missing field
      becomes 422 with a plain message, and its ``[{"error": ...}]`` (a list) for exceptions becomes an object.
    """

    def __init__(self, app: Any, max_request_bytes: int = MAX_REQUEST_BYTES) -> None:
        self.app = app
        self.max_request_bytes = max_request_bytes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope.get("path") == "/metrics" and not _metrics_allowed(scope):
            await _send_json(send, 403, {"error": "Metrics are served only to the addresses in DRSKIN_METRICS_ALLOW."})
            return
        if scope["type"] != "http" or scope.get("method") != "POST" or scope.get("path") not in PUBLIC_ROUTES:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        limit_message = (f"The upload is larger than the limit of {MAX_IMAGE_BYTES / 1024 / 1024:.0f} MB; "
                         "please send a smaller photo (for example, export it as a JPEG).")
        try:
            declared = int(headers.get("content-length", "0"))
        except ValueError:
            declared = 0
        if declared > self.max_request_bytes:
            await _send_json(send, 413, {"error": limit_message})
            return
        if headers.get("content-type", "").split(";")[0].strip().lower() != "multipart/form-data":
            await _send_json(send, 415, {"error": "Send the photo as multipart/form-data with the file field 'image' "
                                                  "(for example: curl -F image=@photo.jpg ...)."})
            return

        received = 0
        refused = False
        started: dict[str, Any] | None = None
        buffered: list[bytes] = []

        async def limited_receive() -> dict[str, Any]:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_request_bytes and not refused:
                    refused = True
                    await _send_json(send, 413, {"error": limit_message})
                    return {"type": "http.disconnect"}
            return message

        async def rewriting_send(message: dict[str, Any]) -> None:
            nonlocal started
            if refused:
                return  # our 413 has been sent; drop whatever the app answers
            if message["type"] == "http.response.start":
                if message["status"] < 400:
                    await send(message)
                else:
                    started = message
                return
            if message["type"] == "http.response.body" and started is not None:
                buffered.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                status, body = _rewrite_error(started["status"], b"".join(buffered))
                kept = [(k, v) for k, v in started.get("headers", []) if k.lower() not in (b"content-length",
                                                                                           b"content-type")]
                await send({"type": "http.response.start", "status": status,
                            "headers": [*kept, (b"content-type", b"application/json"),
                                        (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
            await send(message)

        await self.app(scope, limited_receive, rewriting_send)


def _metrics_allowed(scope: dict[str, Any]) -> bool:
    """Whether the peer may read ``/metrics``: loopback and private networks by default (a cluster's Prometheus),
    never the open internet; ``DRSKIN_METRICS_ALLOW`` (comma-separated CIDRs) sets the list."""
    client = scope.get("client")
    try:
        address = ipaddress.ip_address(client[0]) if client else None
    except ValueError:
        return False
    return address is not None and any(address in network for network in METRICS_ALLOW)


async def _send_json(send: Any, status: int, payload: dict[str, Any]) -> None:
    body = json.dumps(payload).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def _rewrite_error(status: int, body: bytes) -> tuple[int, bytes]:
    """BentoML's error bodies in the service's ``{"error": message}`` shape (see ``UploadGuard``)."""
    try:
        payload = json.loads(body or b"null")
    except ValueError:
        payload = None
    if isinstance(payload, list) and len(payload) == 1 and isinstance(payload[0], dict):
        payload = payload[0]  # BentoML 1.4 wraps an exception's 4xx body in a one-element list
    if not isinstance(payload, dict):
        text = body.decode("utf-8", "replace").strip() or "The request could not be processed."
        return status, json.dumps({"error": text}).encode()
    details = payload.get("detail")
    if status == 400 and isinstance(details, list):
        missing = [d for d in details if isinstance(d, dict) and d.get("type") == "missing"]
        if any(list(d.get("loc", []))[:1] == ["image"] for d in missing):
            return 422, json.dumps({"error": MISSING_IMAGE_MESSAGE}).encode()
        problems = "; ".join(f"{'.'.join(map(str, d.get('loc', [])))}: {d.get('msg', '')}" for d in details
                             if isinstance(d, dict))
        about_image = any(list(d.get("loc", []))[:1] == ["image"] for d in details if isinstance(d, dict))
        advice = MISSING_IMAGE_MESSAGE if about_image else (
            "The photo goes in the file field 'image'; age (years), sex and site are optional: leave out what you do "
            "not know.")
        return 422, json.dumps({"error": f"The request is not valid ({problems}). {advice}"}).encode()
    if "error" not in payload:
        payload = {"error": str(payload.get("detail") or payload)}
    return status, json.dumps({"error": str(payload["error"])}).encode()


# --- internal services: one network each, batched ---------------------------------------------------------------------


@bentoml.service(**INTERNAL_SERVICE_CONFIG)
class LesionClassifier:
    """Class probabilities (temperature-scaled) for a batch of network-sized uint8 images."""

    model = CLASSIFIER_MODEL

    def __init__(self) -> None:
        import torch

        from skin_models.predict import ClassifierPredictor

        torch.set_grad_enabled(False)
        _limit_threads()
        self.predictor = ClassifierPredictor(Path(self.model.path), device=DEVICE, backend=BACKEND)
        self.config = self.predictor.config
        _warm_up(self.predict_local, self.config)
        logger.info("classifier %s loaded (%s, batch ≤ %d)", self.model.tag, self.predictor.backend, MAX_BATCH_SIZE)

    def predict_local(self, images: list[np.ndarray]) -> list[np.ndarray]:
        import torch

        from skin_models.postprocess import softmax

        with torch.inference_mode():
            logits = self.predictor.logits_from_uint8(np.stack(images))
        return list(softmax(logits, temperature=self.config.temperature).astype(np.float64))

    @bentoml.api(batchable=BATCHING, max_batch_size=MAX_BATCH_SIZE, max_latency_ms=MAX_LATENCY_MS)
    def predict(self, images: list[np.ndarray]) -> list[np.ndarray]:
        """Per image (uint8 H×W×3 at the network's input size), its class probabilities in the config's order."""
        return self.predict_local(images)

    @bentoml.api(batchable=BATCHING, max_batch_size=MAX_BATCH_SIZE, max_latency_ms=MAX_LATENCY_MS)
    def explain(self, images: list[np.ndarray]) -> list[np.ndarray]:
        """Per image, its (classes, h, w) class activation maps (skin_models.explain)."""
        return list(self.predictor.class_maps_from_uint8(np.stack(images)))


@bentoml.service(**INTERNAL_SERVICE_CONFIG)
class LesionSegmenter:
    """Lesion probability maps at the network's input size for a batch of network-sized uint8 images."""

    model = SEGMENTER_MODEL

    def __init__(self) -> None:
        import torch

        from skin_models.predict import SegmenterPredictor

        torch.set_grad_enabled(False)
        _limit_threads()
        self.predictor = SegmenterPredictor(Path(self.model.path), device=DEVICE, backend=BACKEND)
        self.config = self.predictor.config
        _warm_up(self.predict_local, self.config)
        logger.info("segmenter %s loaded (%s, batch ≤ %d)", self.model.tag, self.predictor.backend, MAX_BATCH_SIZE)

    def predict_local(self, images: list[np.ndarray]) -> list[np.ndarray]:
        import torch

        with torch.inference_mode():
            maps = self.predictor.network_maps_from_uint8(np.stack(images))
        return list(maps)

    @bentoml.api(batchable=BATCHING, max_batch_size=MAX_BATCH_SIZE, max_latency_ms=MAX_LATENCY_MS)
    def predict(self, images: list[np.ndarray]) -> list[np.ndarray]:
        """Per image (uint8 H×W×3 at the network's input size), an (h, w) float32 lesion probability map."""
        return self.predict_local(images)


async def _predict(dependency: Any, image: np.ndarray, attempts: int = 5, api: str = "predict") -> np.ndarray:
    """One image through an internal batch API; the result for that image.

    Retries when the pooled connection to the internal service was closed under it ("Cannot write to closing
    transport", server disconnected): under load BentoML 1.4's client hits that race with the server's keep-alive
    timeout. The call is a pure function of its input, so repeating it is safe.
    """
    import aiohttp

    for attempt in range(1, attempts + 1):
        try:
            [result] = await getattr(dependency.to_async, api)([image])
            return np.asarray(result)
        except aiohttp.ClientConnectionError:
            if attempt == attempts:
                raise
            logger.warning("connection to an internal service dropped; retrying (%d/%d)", attempt, attempts - 1)
    raise AssertionError("unreachable")


# --- the public service ----------------------------------------------------------------------------------------------


def _model_info(stored: Any, config: ModelConfig) -> ModelVersion:
    metadata = dict(stored.info.metadata or {})
    synthetic = metadata.get("synthetic", config.synthetic)
    if isinstance(synthetic, str):
        synthetic = synthetic.strip().lower() in {"1", "true", "yes"}
    tag = stored.tag
    return ModelVersion(name=tag.name, tag=str(tag), version=str(tag.version), synthetic=bool(synthetic))


def _finite_metrics(values: Any) -> dict[str, float]:
    """The numeric, finite entries of a metrics mapping (metadata may hold "nan" strings or nested tables)."""
    import math

    if not isinstance(values, dict):
        return {}
    return {str(k): float(v) for k, v in values.items()
            if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)}


def _split_metrics(metrics: dict[str, float]) -> tuple[dict[str, float], dict[str, float]]:
    """(validation, test) from one mapping: ``test_x`` is test, ``val_x`` and unprefixed names are validation."""
    validation: dict[str, float] = {}
    test: dict[str, float] = {}
    for key, value in metrics.items():
        if key.startswith("test_"):
            test[key.removeprefix("test_")] = value
        else:
            validation[key.removeprefix("val_")] = value
    return validation, test


def _optional_str(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _optional_int(value: Any) -> int | None:
    try:
        return None if value is None or value == "" else int(value)
    except (TypeError, ValueError):
        return None


def _describe_model(stored: Any, config: ModelConfig) -> ServedModel:
    """What ``GET /info`` says about one served model: from its BentoML metadata and its bundle's config.json.

    Nothing here runs a model; missing fields (older bundles, test models) are ``null`` or empty.
    """
    metadata = dict(stored.info.metadata or {})
    extra = dict(config.extra or {})
    version = _model_info(stored, config)
    validation, test = _split_metrics({**_finite_metrics(config.metrics), **_finite_metrics(metadata.get("metrics"))})
    test.update(_finite_metrics(metadata.get("test_metrics")))
    data_path = metadata.get("data_path") or extra.get("data_path")
    images: dict[str, int] = {}
    for split in ("train", "val", "test"):
        count = _optional_int(metadata.get(f"n_{split}", extra.get(f"n_{split}")))
        if count is not None:
            images[split] = count
    creation_time = getattr(stored.info, "creation_time", None)
    classifier = config.task == "classification"
    return ServedModel(
        **version.model_dump(),
        task=config.task,
        created_at=_optional_str(config.created_at),
        stored_at=creation_time.isoformat(timespec="seconds") if creation_time is not None else None,
        arch=config.arch,
        encoder=config.encoder,
        input_size=list(config.input_size),
        training=TrainingData(
            source=(Path(str(data_path)).name or None) if data_path else None,
            synthetic=version.synthetic,
            data_fingerprint=_optional_str(metadata.get("data_fingerprint") or config.data_fingerprint),
            split_fingerprint=_optional_str(metadata.get("split_fingerprint") or extra.get("split_fingerprint")),
            images=images,
            epochs=_optional_int(extra.get("epochs")),
            starting_weights={k: str(v) for k, v in extra["pretrained"].items() if k != "left_out"}
            if isinstance(extra.get("pretrained"), dict) else None,
        ),
        validation_metrics=validation,
        test_metrics=test,
        selection_metric=_optional_str(metadata.get("selection_metric")),
        mlflow_run_id=_optional_str(metadata.get("mlflow_run_id") or extra.get("mlflow_run_id")),
        registry_version=_optional_str(metadata.get("mlflow_version")),
        triage_threshold=config.triage_threshold if classifier else None,
        temperature=config.temperature if classifier else None,
        mask_threshold=None if classifier else config.mask_threshold,
        context=ContextInfo(fields=list(CONTEXT_FIELDS), weight=config.context.weight,
                            fitted_on=config.context.fitted_on) if classifier and config.context else None,
    )


@bentoml.service(
    name="DrSkin",
    workers=1,
    traffic={"timeout": REQUEST_TIMEOUT_S},
    labels={"project": "drskin"},
)
class DrSkin:
    """Dr. Skin: skin-lesion classification, segmentation and triage from one photo (not a diagnosis)."""

    classifier = bentoml.depends(LesionClassifier)
    segmenter = bentoml.depends(LesionSegmenter)
    classifier_model = CLASSIFIER_MODEL
    segmenter_model = SEGMENTER_MODEL

    def __init__(self) -> None:
        self.classifier_config = _model_config(self.classifier_model)
        self.segmenter_config = _model_config(self.segmenter_model)
        self.classifier_info = _model_info(self.classifier_model, self.classifier_config)
        self.segmenter_info = _model_info(self.segmenter_model, self.segmenter_config)
        models = [_describe_model(self.classifier_model, self.classifier_config),
                  _describe_model(self.segmenter_model, self.segmenter_config)]
        self.info = InfoResponse(models=models, synthetic=any(m.synthetic for m in models))
        self.likeness = _lesion_likeness()
        self.pipeline = Pipeline(self.classifier_config, self.segmenter_config, self.likeness, max_side=MAX_SIDE)
        self._ready = True

    def __is_ready__(self) -> bool:
        return getattr(self, "_ready", False)

    # -- endpoints --

    @bentoml.api(route="/classify")
    async def classify(self, image: Path = Field(description="the photo (JPEG, PNG, WebP, BMP, TIFF or GIF)"),
                       age: float | None = Field(default=None, description="optional: the person's age in "
                                                 f"years (0-{MAX_AGE}); weighs into the answer"),
                       sex: str | None = Field(default=None, description=f"optional: {' or '.join(SEXES)}"),
                       site: str | None = Field(default=None, description="optional: where on the body the lesion "
                                                f"is, one of {', '.join(SITES)} (HAM10000's localization)"),
                       ) -> ClassifyResponse:
        """Class probabilities for the lesion in one photo (multipart file field ``image``), weighing the
        person's age, sex and the body site when given (all optional)."""
        context = _context(age, sex, site)
        if not isinstance(context, PatientContext):
            return context  # an error response
        photo = await self._decode(image)
        if not isinstance(photo, Photo):
            return photo  # an error response
        probabilities = await self._class_probabilities(photo)
        # Without the segmenter the lesion findings are unknown: the verdict rests on the photo's quality and
        # likeness alone.
        diagnosis = await asyncio.to_thread(self.pipeline.finish, photo, probabilities, None, context)
        return self._classification(diagnosis)

    @bentoml.api(route="/segment")
    async def segment(self, image: Path = Field(description="the photo (JPEG, PNG, WebP, BMP, TIFF or GIF)")
                      ) -> SegmentResponse:
        """The lesion mask, outline overlay and measurements for one photo (multipart file field ``image``)."""
        photo = await self._decode(image)
        if not isinstance(photo, Photo):
            return photo
        mask = await self._lesion_mask(photo)
        return await asyncio.to_thread(self._segmentation, photo, mask)

    @bentoml.api(route="/diagnose")
    async def diagnose(self, image: Path = Field(description="the photo (JPEG, PNG, WebP, BMP, TIFF or GIF)"),
                       explain: bool = Field(default=False, description="also say where the classifier's evidence "
                                                                        "for its top class lay (a class activation "
                                                                        "map)"),
                       age: float | None = Field(default=None, description="optional: the person's age in "
                                                 f"years (0-{MAX_AGE}); weighs into the answer"),
                       sex: str | None = Field(default=None, description=f"optional: {' or '.join(SEXES)}"),
                       site: str | None = Field(default=None, description="optional: where on the body the lesion "
                                                f"is, one of {', '.join(SITES)} (HAM10000's localization)"),
                       ) -> DiagnoseResponse:
        """The verdict on one photo (can it be judged?), then — only when it can — classification and triage;
        always the segmentation and the photo-quality warnings, with a disclaimer."""
        context = _context(age, sex, site)
        if not isinstance(context, PatientContext):
            return context
        photo = await self._decode(image)
        if not isinstance(photo, Photo):
            return photo
        if photo.for_classifier is None:  # the classifier looks at the lesion the segmenter found
            mask = await self._lesion_mask(photo)
            probabilities = await self._class_probabilities(photo, mask)
        else:
            probabilities, mask = await asyncio.gather(self._class_probabilities(photo), self._lesion_mask(photo))
        diagnosis = await asyncio.to_thread(self.pipeline.finish, photo, probabilities, mask, context)
        classification = self._classification(diagnosis)
        segmentation = await asyncio.to_thread(self._segmentation, photo, mask, diagnosis.measurements)
        judged = diagnosis.judged
        explanation = await self._explanation(photo, mask, classification.label) if (
            explain and judged and classification.label) else None
        models = [self.classifier_info, self.segmenter_info]
        disclaimer = DISCLAIMER + (SYNTHETIC_NOTE if any(m.synthetic for m in models) else "")
        return DiagnoseResponse(
            explanation=explanation,
            verdict=classification.verdict,
            verdict_reasons=classification.verdict_reasons,
            message=classification.message,
            classification=classification if judged else None,
            segmentation=segmentation,
            triage=Triage.model_validate(diagnosis.triage.as_dict()) if diagnosis.triage is not None else None,
            diagnostics=classification.diagnostics,
            quality=Quality(warnings=[QualityWarningOut(**w.as_dict()) for w in diagnosis.warnings]),
            models=models,
            disclaimer=disclaimer,
        )

    # -- helpers --

    async def _lesion_mask(self, photo: Photo) -> np.ndarray:
        """The segmenter's cleaned lesion mask at the photo's size (all False when it finds no lesion)."""
        network_map = await _predict(self.segmenter, photo.for_segmenter)
        return await asyncio.to_thread(self.pipeline.mask_from, photo, network_map)

    async def _class_probabilities(self, photo: Photo, mask: np.ndarray | None = None) -> np.ndarray:
        """The classifier's photo-only probabilities; a lesion_crop classifier sees the crop around the lesion
        ``mask`` (found first when not given; the whole photo when there is no lesion to crop to)."""
        if photo.for_classifier is not None:
            return await _predict(self.classifier, photo.for_classifier)
        lesion = mask if mask is not None else await self._lesion_mask(photo)
        view = await asyncio.to_thread(self.pipeline.classifier_view, photo, lesion)
        return await _predict(self.classifier, view)

    async def _decode(self, upload: Path) -> Photo | Any:
        """The decoded, validated photo, or a JSON error response saying what was wrong."""
        from skin_models.imaging import ImageError

        try:
            return await asyncio.to_thread(self._prepare, upload)
        except ImageError as exc:
            return _error_response(_STATUS_BY_IMAGE_ERROR.get(exc.code, 400), str(exc))

    def _prepare(self, upload: Path) -> Photo:
        from skin_models.imaging import ImageTooLargeError, decode_image

        upload = Path(upload)
        if upload.stat().st_size > MAX_IMAGE_BYTES:  # do not even read it
            raise ImageTooLargeError(f"The file is larger than the limit of {MAX_IMAGE_BYTES / 1024 / 1024:.0f} MB; "
                                     "please send a smaller photo (for example, export it as a JPEG).")
        uploaded = decode_image(upload.read_bytes(), max_bytes=MAX_IMAGE_BYTES, max_pixels=MAX_IMAGE_PIXELS)
        return self.pipeline.prepare(uploaded)

    async def _explanation(self, photo: Photo, mask: np.ndarray, label: str) -> Explanation:
        """The top class's activation map over the region of the photo the classifier saw."""
        from skin_models.explain import normalised_map, share_inside, to_photo
        from skin_models.preprocess import crop_box, resize_for_network

        lesion = mask if self.classifier_config.resize_policy == "lesion_crop" else None
        view = photo.for_classifier if photo.for_classifier is not None else np.asarray(
            resize_for_network(photo.image, self.classifier_config, lesion), dtype=np.uint8)
        maps = await _predict(self.classifier, view, api="explain")
        grid = normalised_map(maps, list(self.classifier_config.labels).index(label))
        box = crop_box(photo.image.width, photo.image.height, self.classifier_config, lesion)
        inside = share_inside(to_photo(grid, box, photo.image.size), mask) if mask.any() else None
        return Explanation(label=label, grid=np.round(grid, 3).tolist(), box=list(box), inside_lesion=inside)

    def _classification(self, diagnosis: Diagnosis) -> ClassifyResponse:
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
                                    likeness_threshold=self.likeness.threshold if self.likeness else None,
                                    unjudged_probabilities=None if ok else by_code),
            patient_context=PatientContextOut(age=context.age, sex=context.sex, site=context.site,
                                              applied=diagnosis.context_applied),
            model=ModelInfo(**self.classifier_info.model_dump(exclude={"synthetic"})),
            synthetic_model=self.classifier_info.synthetic,
        )

    def _segmentation(self, photo: Photo, mask: np.ndarray,
                      measured: LesionMeasurements | None = None) -> SegmentResponse:
        from skin_models.imaging import encode_png
        from skin_models.postprocess import draw_overlay, lesion_measurements

        measured = measured or lesion_measurements(photo.pixels, mask)
        bbox = None if measured.bbox is None else BoundingBox(x=measured.bbox[0], y=measured.bbox[1],
                                                               width=measured.bbox[2], height=measured.bbox[3])
        return SegmentResponse(
            lesion_found=bool(mask.any()),
            width=photo.image.width,
            height=photo.image.height,
            original_width=photo.original_size[0],
            original_height=photo.original_size[1],
            mask_png=base64.b64encode(encode_png(mask)).decode("ascii"),
            # No tint inside the outline: the lesion's own colours matter to whoever looks at it.
            overlay_png=base64.b64encode(encode_png(draw_overlay(photo.image, mask, fill_alpha=0.0))).decode(
                "ascii"),
            area_fraction=measured.area_fraction,
            bbox=bbox,
            measurements=Measurements(**measured.as_dict()),
            model=ModelInfo(**self.segmenter_info.model_dump(exclude={"synthetic"})),
            synthetic_model=self.segmenter_info.synthetic,
        )


# --- GET /info ------------------------------------------------------------------------------------------------------


async def _info_endpoint(request: Any) -> Any:
    """``GET /info``: the served models, described at start-up (``DrSkin.info``); read-only, runs no model."""
    from starlette.responses import JSONResponse

    try:
        service = bentoml.get_current_service()
        info = cast(InfoResponse, service.info)
    except (BentoMLException, AttributeError):
        return JSONResponse({"error": "The service is still starting; try again in a moment."}, status_code=503)
    return JSONResponse(info.model_dump(mode="json"), headers={"Cache-Control": "no-cache"})


HOME_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Dr. Skin analysis service</title></head>
<body><h1>Dr. Skin analysis service</h1>
<p>An HTTP API for the Dr. Skin web site and for developers. It is not a diagnosis.</p>
<ul><li><code>POST /diagnose</code>, <code>/classify</code>, <code>/segment</code> with the photo as the multipart file
field <code>image</code>, e.g. <code>curl -F image=@photo.jpg http://HOST:PORT/diagnose</code></li>
<li><a href="/docs.json">/docs.json</a>: the OpenAPI document</li><li><a href="/info">/info</a>: the models served</li>
<li><code>/livez</code>, <code>/readyz</code>: health</li></ul></body></html>
"""


async def _home_endpoint(request: Any) -> Any:
    """``GET /``: what this service is, with no scripts (BentoML's own index page loads a third-party tag manager
    and a Swagger UI from its static files)."""
    from starlette.responses import HTMLResponse

    return HTMLResponse(HOME_PAGE, headers={"Content-Security-Policy": "default-src 'none'",
                                            "X-Content-Type-Options": "nosniff"})


def _info_app() -> Any:
    """BentoML 1.4 APIs answer POST only, so ``GET /info`` (and ``GET /``) is a small Starlette app mounted at ``/``
    (BentoML's passive mount: it takes only the paths it routes, and it is routed before BentoML's index page;
    everything else falls through to the service)."""
    from starlette.applications import Starlette
    from starlette.routing import Route

    return Starlette(routes=[Route("/info", _info_endpoint, methods=["GET"], name="info"),
                             Route("/", _home_endpoint, methods=["GET"], name="home")])


DrSkin.mount_asgi_app(_info_app(), path="/", name="info")  # type: ignore[attr-defined]
DrSkin.add_asgi_middleware(UploadGuard)  # type: ignore[attr-defined]  # (the decorator returns a Service)
