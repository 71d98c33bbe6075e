"""``GET /info`` (what is being served, described once at start-up), ``GET /``, and the API's document (``GET
/docs.json``, ``GET /docs``: ``serving.openapi``), as a small Starlette app.

BentoML 1.4 APIs answer POST only, so ``service.py`` mounts ``info_app()`` at ``/``. Nothing here runs a model.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import bentoml
from bentoml.exceptions import BentoMLException

from serving.settings import BACKEND, DEVICE, INT8
from serving.store import model_info
from skin_models.contract import (
    ContextInfo,
    InfoResponse,
    Int8Info,
    KindInfo,
    KindPerformance,
    ServedModel,
    TrainingData,
)

if TYPE_CHECKING:
    from skin_models.config import ModelConfig


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


def describe_model(stored: Any, config: ModelConfig) -> ServedModel:
    """What ``GET /info`` says about one served model: from its BentoML metadata and its bundle's config.json.

    Nothing here runs a model; missing fields (older bundles, test models) are ``null`` or empty.
    """
    metadata = dict(stored.info.metadata or {})
    extra = dict(config.extra or {})
    version = model_info(stored, config)
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
            source=", ".join(Path(part.strip()).name for part in str(data_path).split(",") if part.strip()) or None
            if data_path else None,
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
        context=ContextInfo(fields=list(config.context.fields), weight=config.context.weight,
                            fitted_on=config.context.fitted_on) if classifier and config.context else None,
        int8=_int8_info(stored, config),
        photo_kinds={kind: KindInfo(temperature=calibration.temperature,
                                    triage_threshold=calibration.triage_threshold,
                                    class_adjustment=calibration.adjustment,
                                    class_offsets=dict(zip(config.labels, calibration.class_offsets, strict=True))
                                    if calibration.class_offsets is not None else None,
                                    measured=KindPerformance.from_measured(calibration.measured))
                     for kind, calibration in config.kinds.items()} if classifier and config.kinds else None,
    )


def _int8_info(stored: Any, config: ModelConfig) -> Int8Info | None:
    """The int8 network's quality check, and whether the model workers run it (the same rule they apply)."""
    from skin_models.device import device_kind
    from skin_models.predict import served_backend

    if config.int8 is None:
        return None
    record = config.int8
    served = served_backend(Path(stored.path), config, device_kind(DEVICE), BACKEND, int8=INT8) == "onnx-int8"
    return Int8Info(served=served, metric=record.metric, split=record.split, images=record.images, fp32=record.fp32,
                    int8=record.int8, limit=record.limit)


def describe_service(*served: tuple[Any, ModelConfig]) -> InfoResponse:
    """``GET /info``'s answer, built once at start-up: each served model from (its store entry, its config)."""
    models = [describe_model(stored, config) for stored, config in served]
    return InfoResponse(models=models, synthetic=any(m.synthetic for m in models))


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
<li><a href="/docs">/docs</a>: the API, its fields and answers (<a href="/docs.json">/docs.json</a>: the OpenAPI
document)</li><li><a href="/info">/info</a>: the models served</li>
<li><code>/livez</code>, <code>/readyz</code>: health</li></ul></body></html>
"""


async def _home_endpoint(request: Any) -> Any:
    """``GET /``: what this service is, with no scripts (BentoML's own index page loads a third-party tag manager
    and a Swagger UI from its static files)."""
    from starlette.responses import HTMLResponse

    return HTMLResponse(HOME_PAGE, headers={"Content-Security-Policy": "default-src 'none'",
                                            "X-Content-Type-Options": "nosniff"})


def info_app(openapi: Callable[[], dict[str, Any]]) -> Any:
    """BentoML 1.4 APIs answer POST only, so ``GET /info``, ``GET /``, ``GET /docs.json`` and ``GET /docs`` are a
    small Starlette app mounted at ``/`` (BentoML's passive mount: it takes only the paths it routes, and it is
    routed before BentoML's own pages; everything else falls through to the service). ``openapi`` gives BentoML's
    generated document, which ``serving.openapi`` corrects."""
    from starlette.responses import HTMLResponse, JSONResponse
    from starlette.routing import Route

    from serving.openapi import docs_page, document

    async def docs_json(request: Any) -> Any:
        return JSONResponse(document(openapi()))

    async def docs(request: Any) -> Any:
        return HTMLResponse(docs_page(document(openapi())), headers={
            "Content-Security-Policy": "default-src 'none'", "X-Content-Type-Options": "nosniff"})

    from starlette.applications import Starlette

    return Starlette(routes=[Route("/info", _info_endpoint, methods=["GET"], name="info"),
                             Route("/", _home_endpoint, methods=["GET"], name="home"),
                             Route("/docs.json", docs_json, methods=["GET"], name="openapi"),
                             Route("/docs", docs, methods=["GET"], name="docs")])
