"""The Dr. Skin BentoML service: ``bentoml serve service:DrSkin``.

Three services, each in its own worker process:

* ``LesionClassifier`` and ``LesionSegmenter`` hold one network each and expose one *batchable* API that takes a
  list of uint8 H×W×3 arrays already at the network's input size, so a batch is just normalise + one forward pass
  (ONNX Runtime when the bundle carries ``model.onnx``, else PyTorch; CUDA when present).
* ``DrSkin`` is the public HTTP API (``/classify``, ``/segment``, ``/diagnose``). It decodes and validates each
  upload once, resizes it for each network, calls the internal services asynchronously (so concurrent requests to
  all three endpoints are batched together), and turns their outputs into responses.

This module holds only the services, their APIs and the batching wiring. All model logic (decoding,
preprocessing, the diagnosis chain ``skin_models.pipeline``, post-processing, quality, triage) lives in
``skin_models``; the API's request/response models are ``skin_models.contract`` (torch-free, shared with the site).
The BentoML runtime around the services is the ``serving`` package: ``serving.settings`` (every ``DRSKIN_*``
variable; docs/service.md lists them), ``serving.http`` (upload-only multipart parser, ``UploadGuard`` middleware,
``{"error": ...}`` bodies), ``serving.store`` (the models in the BentoML store), ``serving.info`` (``GET /info``,
``GET /``), ``serving.inputs`` (a request's photo and patient context), ``serving.responses`` (a diagnosis as the
response models) and ``serving.runtime`` (threads, warm-up, the retrying call to an internal API).

Models come from the BentoML store (``$DRSKIN_CLASSIFIER`` / ``$DRSKIN_SEGMENTER``, default
``skin-classifier:latest`` / ``skin-segmenter:latest``), declared at class scope so ``bentoml build`` packs them.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import bentoml
import numpy as np
from pydantic import Field

from serving import inputs, responses
from serving.http import UploadGuard, client_errors, install_upload_only_multipart_parser
from serving.info import describe_service, info_app
from serving.runtime import CLASS_MAPS, OUTPUTS, ClassifierAnswer, predict, predictor_options, warm_up
from serving.settings import (
    BATCHING,
    CLASSIFIER_TAG,
    INTERNAL_SERVICE_CONFIG,
    MAX_BATCH_SIZE,
    MAX_LATENCY_MS,
    MAX_SIDE,
    REQUEST_TIMEOUT_S,
    SEGMENTER_TAG,
)
from serving.store import lesion_likeness, model_config, model_info, model_reference, open_predictor
from skin_models.contract import ClassifyResponse, DiagnoseResponse, SegmentResponse
from skin_models.pipeline import Photo, Pipeline

logger = logging.getLogger("drskin.service")

install_upload_only_multipart_parser()  # before any request: BentoML's own would fetch URLs

CLASSIFIER_MODEL = model_reference(CLASSIFIER_TAG)  # fails at import, naming the fix, when the store lacks it
SEGMENTER_MODEL = model_reference(SEGMENTER_TAG)



# --- internal services: one network each, batched ---------------------------------------------------------------------


@bentoml.service(**INTERNAL_SERVICE_CONFIG)
class LesionClassifier:
    """The classifier network's outputs (class logits, and the photo-kind logit when it has that head) and, when the
    network has them, its class activation maps, from one pass over a batch of network-sized uint8 images;
    ``skin_models.pipeline`` reads the outputs (kind, temperature, threshold)."""

    model = CLASSIFIER_MODEL

    def __init__(self) -> None:
        from skin_models.predict import ClassifierPredictor

        self.predictor = open_predictor(ClassifierPredictor, self.model, **predictor_options())
        self.config = self.predictor.config
        warm_up(self.predict_local, self.config)
        logger.info("classifier %s loaded (%s, batch ≤ %d, class maps: %s)", self.model.tag, self.predictor.backend,
                    MAX_BATCH_SIZE, "yes" if self.predictor.has_class_maps else "no")

    def predict_local(self, images: list[np.ndarray]) -> list[dict[str, np.ndarray]]:
        outputs, maps = self.predictor.logits_and_maps_from_uint8(np.stack(images))
        rows = np.asarray(outputs, dtype=np.float64)
        return [{OUTPUTS: row} if maps is None else {OUTPUTS: row, CLASS_MAPS: image_maps}
                for row, image_maps in zip(rows, maps if maps is not None else rows, strict=True)]

    @bentoml.api(batchable=BATCHING, max_batch_size=MAX_BATCH_SIZE, max_latency_ms=MAX_LATENCY_MS)
    def predict(self, images: list[np.ndarray]) -> list[dict[str, np.ndarray]]:
        """Per image (uint8 H×W×3 at the network's input size): ``outputs``, the network's outputs averaged over the
        test-time views (class logits in the config's order, then the photo-kind logit with that head), and, when the
        network has them, ``class_maps`` ((classes, h, w), skin_models.explain), from the same pass and views."""
        return self.predict_local(images)


@bentoml.service(**INTERNAL_SERVICE_CONFIG)
class LesionSegmenter:
    """Lesion probability maps at the network's input size for a batch of network-sized uint8 images."""

    model = SEGMENTER_MODEL

    def __init__(self) -> None:
        from skin_models.predict import SegmenterPredictor

        self.predictor = open_predictor(SegmenterPredictor, self.model, **predictor_options())
        self.config = self.predictor.config
        warm_up(self.predict_local, self.config)
        logger.info("segmenter %s loaded (%s, batch ≤ %d)", self.model.tag, self.predictor.backend, MAX_BATCH_SIZE)

    def predict_local(self, images: list[np.ndarray]) -> list[np.ndarray]:
        return list(self.predictor.network_maps_from_uint8(np.stack(images)))

    @bentoml.api(batchable=BATCHING, max_batch_size=MAX_BATCH_SIZE, max_latency_ms=MAX_LATENCY_MS)
    def predict(self, images: list[np.ndarray]) -> list[np.ndarray]:
        """Per image (uint8 H×W×3 at the network's input size), an (h, w) float32 lesion probability map."""
        return self.predict_local(images)


# --- the public service: the HTTP API ---------------------------------------------------------------------------


@bentoml.service(name="DrSkin", workers=1, traffic={"timeout": REQUEST_TIMEOUT_S}, labels={"project": "drskin"})
class DrSkin:
    """Dr. Skin: skin-lesion classification, segmentation and triage from one photo (not a diagnosis)."""

    classifier = bentoml.depends(LesionClassifier)
    segmenter = bentoml.depends(LesionSegmenter)
    classifier_model = CLASSIFIER_MODEL
    segmenter_model = SEGMENTER_MODEL

    def __init__(self) -> None:
        self.classifier_config = model_config(self.classifier_model)
        self.segmenter_config = model_config(self.segmenter_model)
        self.classifier_info = model_info(self.classifier_model, self.classifier_config)
        self.segmenter_info = model_info(self.segmenter_model, self.segmenter_config)
        self.info = describe_service((self.classifier_model, self.classifier_config),
                                     (self.segmenter_model, self.segmenter_config))
        self.likeness = lesion_likeness()
        self.pipeline = Pipeline(self.classifier_config, self.segmenter_config, self.likeness, max_side=MAX_SIDE)
        self._ready = True

    def __is_ready__(self) -> bool:
        return getattr(self, "_ready", False)

    # -- endpoints --

    @bentoml.api(route="/classify")
    @client_errors
    async def classify(self, image: Path = Field(description=inputs.IMAGE_FIELD),
                       age: float | None = Field(default=None, description=inputs.AGE_FIELD),
                       sex: str | None = Field(default=None, description=inputs.SEX_FIELD),
                       site: str | None = Field(default=None, description=inputs.SITE_FIELD),
                       changed: bool | None = Field(default=None, description=inputs.SYMPTOM_FIELDS["changed"]),
                       grew: bool | None = Field(default=None, description=inputs.SYMPTOM_FIELDS["grew"]),
                       bled: bool | None = Field(default=None, description=inputs.SYMPTOM_FIELDS["bled"]),
                       itched: bool | None = Field(default=None, description=inputs.SYMPTOM_FIELDS["itched"]),
                       hurt: bool | None = Field(default=None, description=inputs.SYMPTOM_FIELDS["hurt"]),
                       raised: bool | None = Field(default=None, description=inputs.SYMPTOM_FIELDS["raised"]),
                       ) -> ClassifyResponse:
        """Class probabilities for the lesion in one photo (multipart file field ``image``), weighing the
        person's age, sex, the body site and their account of the spot when given (all optional)."""
        context = inputs.patient_context(age, sex, site, changed=changed, grew=grew, bled=bled, itched=itched,
                                         hurt=hurt, raised=raised)
        photo = await inputs.decode_upload(self.pipeline, image)
        answer = await self._classify(photo)
        # Without the segmenter the lesion findings are unknown: the verdict rests on the photo's quality and
        # likeness alone.
        diagnosis = await asyncio.to_thread(self.pipeline.finish, photo, answer.outputs, None, context)
        return responses.classification(diagnosis, self.classifier_info, self.likeness, self.classifier_config)

    @bentoml.api(route="/segment")
    @client_errors
    async def segment(self, image: Path = Field(description=inputs.IMAGE_FIELD),
                      images: inputs.Images = Field(default="none", description=inputs.IMAGES_FIELD),
                      ) -> SegmentResponse:
        """The lesion mask (run-length), outline and measurements for one photo (multipart file field ``image``)."""
        photo = await inputs.decode_upload(self.pipeline, image)
        mask = await self._lesion_mask(photo)
        return await asyncio.to_thread(responses.segmentation, photo, mask, self.segmenter_info, images=images == "png")

    @bentoml.api(route="/diagnose")
    @client_errors
    async def diagnose(self, image: Path = Field(description=inputs.IMAGE_FIELD),
                       explain: bool = Field(default=False, description=inputs.EXPLAIN_FIELD),
                       images: inputs.Images = Field(default="none", description=inputs.IMAGES_FIELD),
                       age: float | None = Field(default=None, description=inputs.AGE_FIELD),
                       sex: str | None = Field(default=None, description=inputs.SEX_FIELD),
                       site: str | None = Field(default=None, description=inputs.SITE_FIELD),
                       changed: bool | None = Field(default=None, description=inputs.SYMPTOM_FIELDS["changed"]),
                       grew: bool | None = Field(default=None, description=inputs.SYMPTOM_FIELDS["grew"]),
                       bled: bool | None = Field(default=None, description=inputs.SYMPTOM_FIELDS["bled"]),
                       itched: bool | None = Field(default=None, description=inputs.SYMPTOM_FIELDS["itched"]),
                       hurt: bool | None = Field(default=None, description=inputs.SYMPTOM_FIELDS["hurt"]),
                       raised: bool | None = Field(default=None, description=inputs.SYMPTOM_FIELDS["raised"]),
                       ) -> DiagnoseResponse:
        """The verdict on one photo (can it be judged?), then — only when it can — classification and triage;
        always the kind of photo, the segmentation and the photo-quality warnings, with a disclaimer."""
        context = inputs.patient_context(age, sex, site, changed=changed, grew=grew, bled=bled, itched=itched,
                                         hurt=hurt, raised=raised)
        photo = await inputs.decode_upload(self.pipeline, image)
        if photo.for_classifier is None:  # the classifier looks at the lesion the segmenter found
            mask = await self._lesion_mask(photo)
            answer = await self._classify(photo, mask)
        else:
            answer, mask = await asyncio.gather(self._classify(photo), self._lesion_mask(photo))
        diagnosis = await asyncio.to_thread(self.pipeline.finish, photo, answer.outputs, mask, context)
        classified = responses.classification(diagnosis, self.classifier_info, self.likeness, self.classifier_config)
        segmented = await asyncio.to_thread(responses.segmentation, photo, mask, self.segmenter_info,
                                            diagnosis.measurements, images=images == "png")
        # The map comes from the pass that gave the answer (the same network, int8 or not, and the same views);
        # a network without class maps (MobileNetV3/V4, ConvNeXt, RegNet, or an older export) answers without one.
        label = classified.label if explain and diagnosis.judged else None
        explained = (await asyncio.to_thread(responses.explanation, self.classifier_config, photo, mask, label,
                                             answer.class_maps) if label and answer.class_maps is not None else None)
        return responses.diagnosis_response(diagnosis, classified, segmented, explained,
                                            [self.classifier_info, self.segmenter_info])

    # -- helpers --

    async def _lesion_mask(self, photo: Photo) -> np.ndarray:
        """The segmenter's cleaned lesion mask at the photo's size (all False when it finds no lesion)."""
        network_map = await predict(self.segmenter, photo.for_segmenter)
        return await asyncio.to_thread(self.pipeline.mask_from, photo, network_map)

    async def _classify(self, photo: Photo, mask: np.ndarray | None = None) -> ClassifierAnswer:
        """The classifier network's outputs and class maps (one pass; read by the pipeline); a lesion_crop
        classifier sees the crop around the lesion ``mask`` (found first when not given; the whole photo when there
        is no lesion)."""
        if photo.for_classifier is not None:
            view = photo.for_classifier
        else:
            lesion = mask if mask is not None else await self._lesion_mask(photo)
            view = await asyncio.to_thread(self.pipeline.classifier_view, photo, lesion)
        return ClassifierAnswer.of(await predict(self.classifier, view))


# GET /info, GET /, GET /docs and /docs.json (BentoML APIs are POST-only), and the upload limits and error bodies of
# the public routes. (The decorator returns a bentoml Service, which mypy sees as the class.)
DrSkin.mount_asgi_app(info_app(lambda: DrSkin.openapi_spec.asdict()),  # type: ignore[attr-defined]
                      path="/", name="info")
DrSkin.add_asgi_middleware(UploadGuard)  # type: ignore[attr-defined]  # (the decorator returns a Service)
