"""Teaching a trained classifier the kind of photo, and reading its answer per kind.

After a classifier has trained on dermoscopic and phone photos (``drskin train all --phone-data``), three things
are fitted on the network as it is, its weights untouched:

1. **The photo-kind head**: a logistic regression on the network's pooled features (averaged over its test-time
   views, as served), fitted on training photos of both kinds with the kinds weighed equally, then folded into
   one more row of the network's last linear layer (``ModelConfig.photo_kind_head``). The served network — PyTorch,
   ONNX or int8 — then computes the kind in the same pass as the class logits.
2. **Per-kind calibration**: each kind's temperature (validation negative log-likelihood), its post-hoc logit
   adjustment (Menon et al. 2021: offsets that lean the answer away from the classes the network saw most, their
   strength chosen on validation balanced accuracy, ``training.calibration.choose_logit_adjustment``; none when it
   does not gain) and triage threshold (the highest that keeps ≥ ``min_triage_sensitivity`` of its validation
   cancers, with and without the patient's context), so that the sensitivity promise holds on phone photos as
   well as on dermoscopic ones.
3. **The patient's context**, age/sex/site and the person's account of the spot (``skin_models.context``), counted
   on the training split of both kinds, its weight chosen on validation.

Each kind's held-out test figures are measured with the served rule and stored with it (``KindCalibration.measured``)
so that the service can say what the model does on the kind of photo a person sent. Test figures never choose.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from skin_models.config import PHOTO_KINDS, KindCalibration, ModelConfig
from skin_models.context import ContextModel, PatientContext
from skin_models.photo_kind import calibrated_probabilities
from skin_models.predict import weigh
from training.calibration import choose_logit_adjustment, choose_triage_threshold, fit_temperature
from training.metrics import classification_metrics
from training.torchdata import CachedArrays

#: Training photos of the more common kind used to fit the head (the rarer kind is used whole): plenty for a
#: linear boundary in 1,280 dimensions with L2 shrinkage, and a few seconds on two cores.
HEAD_PHOTOS_PER_KIND = 1500
#: The head's L2 strength (scikit-learn's C, on standardised features).
HEAD_C = 0.1


@torch.inference_mode()
def pooled_features(model: nn.Module, arrays: CachedArrays, config: ModelConfig, device: torch.device,
                    batch_size: int = 64) -> np.ndarray:
    """(N, C) pooled features (what the last linear layer sees) of cached uint8 images, averaged over the
    config's test-time views as the served logits are."""
    from skin_models import tta
    from skin_models.preprocess import normalise

    def run(batch: torch.Tensor) -> np.ndarray:
        features = model.forward_features(batch.to(device))  # type: ignore[operator]
        return model.forward_head(features, pre_logits=True).float().cpu().numpy()  # type: ignore[operator]

    model.eval()
    parts = [tta.apply(run, normalise(arrays.images[start : start + batch_size], config), config.tta, spatial=False)
             for start in range(0, len(arrays.images), batch_size)]
    return np.concatenate(parts)


def fit_head(features: np.ndarray, is_phone: np.ndarray, c: float = HEAD_C) -> tuple[np.ndarray, float]:
    """(weight, bias) of a logistic regression of "phone" on ``features``, the kinds weighed equally, with the
    standardisation folded in so that it applies to the raw features."""
    from sklearn.linear_model import LogisticRegression

    mean = features.mean(axis=0)
    scale = features.std(axis=0) + 1e-6
    fitted = LogisticRegression(C=c, class_weight="balanced", max_iter=5000)
    fitted.fit((features - mean) / scale, is_phone.astype(int))
    weight = fitted.coef_[0] / scale
    bias = float(fitted.intercept_[0] - (fitted.coef_[0] * mean / scale).sum())
    return weight, bias


def append_head(model: nn.Module, weight: np.ndarray, bias: float) -> nn.Module:
    """``model`` with its last linear layer grown by one output row (the photo-kind logit); the class rows are
    kept exactly."""
    old = model.get_classifier()  # type: ignore[operator]
    if not isinstance(old, nn.Linear):
        raise ValueError(f"{type(model).__name__}'s classifier is {type(old).__name__}, not a linear layer: the "
                         "photo-kind head cannot be folded into it")
    grown = nn.Linear(old.in_features, old.out_features + 1)
    with torch.no_grad():
        grown.weight[: old.out_features] = old.weight
        grown.bias[: old.out_features] = old.bias
        grown.weight[old.out_features] = torch.as_tensor(weight, dtype=grown.weight.dtype)
        grown.bias[old.out_features] = float(bias)
    name = getattr(model, "default_cfg", {}).get("classifier", "classifier")
    setattr(model, name, grown.to(old.weight.device))
    return model


def head_sample(kinds: np.ndarray, seed: int = 0, per_kind: int = HEAD_PHOTOS_PER_KIND) -> np.ndarray:
    """Indices of the training photos the head is fitted on: up to ``per_kind`` of each kind."""
    rng = np.random.default_rng(seed)
    chosen = []
    for kind in PHOTO_KINDS:
        members = np.flatnonzero(kinds == kind)
        chosen.append(rng.choice(members, size=min(per_kind, len(members)), replace=False))
    return np.sort(np.concatenate(chosen))


@dataclass(frozen=True)
class KindFinish:
    """What ``calibrate_kinds`` chose and measured."""

    kinds: dict[str, KindCalibration]
    context: ContextModel | None
    kind_accuracy: dict[str, float]  # per split: share of photos whose kind the head names right
    metrics: dict[str, dict[str, dict[str, Any]]]  # split → kind → figures (with "photo_only" when weighed)
    probabilities: dict[str, np.ndarray]  # per split, as served (the kind's temperature, then the context)


def _kind_of(outputs: np.ndarray, n_labels: int) -> np.ndarray:
    return np.where(outputs[:, n_labels] >= 0.0, PHOTO_KINDS[1], PHOTO_KINDS[0])


def measured_figures(y_true: np.ndarray, probs: np.ndarray, labels: tuple[str, ...], threshold: float
                     ) -> dict[str, Any]:
    """The figures stored per kind and reported: over the classes present, at the kind's threshold."""
    found = classification_metrics(y_true, probs, labels, triage_threshold=threshold)
    return {"images": float(len(y_true)), "balanced_accuracy": found["balanced_accuracy"],
            "mel_recall": found["per_class"]["mel"]["recall"], "malignant_sensitivity": found["malignant_sensitivity"],
            "malignant_specificity": found["malignant_specificity"], "malignant_auc": found["malignant_auc"],
            "per_class_recall": {code: row["recall"] for code, row in found["per_class"].items() if row["support"]}}


def calibrate_kinds(outputs: dict[str, np.ndarray], targets: dict[str, np.ndarray], kinds: dict[str, np.ndarray],
                    contexts: dict[str, list[PatientContext]], labels: tuple[str, ...],
                    min_triage_sensitivity: float) -> KindFinish:
    """Per-kind temperature and threshold on validation, the context on train/validation, the figures per kind.

    ``outputs``: the network's outputs (with the head) for "val" and optionally "test"; ``targets``, ``kinds``
    and ``contexts`` for "train", "val" (and "test"). The temperature and threshold of a photo follow the kind the
    head names (as when served), fitted on the photos whose true kind it is."""
    from training.trainer import fit_context

    n = len(labels)
    val = outputs["val"]
    temperatures = {}
    for kind in PHOTO_KINDS:
        chosen = kinds["val"] == kind
        temperatures[kind] = fit_temperature(val[chosen, :n], targets["val"][chosen]) if chosen.any() else 1.0

    # The post-hoc logit adjustment, per kind, on that kind's validation photos read with its temperature. Like
    # the temperature it is fitted on the photos whose true kind it is and applied to the photos the head names
    # so (the head is right on ~98 % of them); the figures below are counted as served, by the named kind.
    adjustments: dict[str, tuple[float, np.ndarray | None, dict[float, float]]] = {}
    for kind in PHOTO_KINDS:
        chosen = kinds["val"] == kind
        adjustments[kind] = (choose_logit_adjustment(val[chosen, :n] / temperatures[kind], targets["val"][chosen])
                             if chosen.any() else (0.0, None, {}))

    def photo_only(split: str) -> np.ndarray:
        named = _kind_of(outputs[split], n)
        return np.concatenate([calibrated_probabilities(row[None, :n], temperatures[str(kind)],
                                                        adjustments[str(kind)][1])
                               for row, kind in zip(outputs[split], named, strict=True)])

    photo = {split: photo_only(split) for split in outputs}
    context, _scores = fit_context(targets["train"], contexts, photo["val"], targets["val"], labels)
    served = {split: weigh(context, photo[split], contexts[split]) if context is not None else photo[split]
              for split in photo}
    calibrations: dict[str, KindCalibration] = {}
    metrics: dict[str, dict[str, dict[str, Any]]] = {split: {} for split in outputs}
    for kind in PHOTO_KINDS:
        chosen = kinds["val"] == kind
        if not chosen.any():
            continue
        threshold = min(choose_triage_threshold(photo["val"][chosen], targets["val"][chosen], min_triage_sensitivity,
                                                labels),
                        choose_triage_threshold(served["val"][chosen], targets["val"][chosen],
                                                min_triage_sensitivity, labels))
        for split in outputs:
            in_split = kinds[split] == kind
            if not in_split.any():
                continue
            figures = measured_figures(targets[split][in_split], served[split][in_split], labels, threshold)
            if context is not None:
                figures["photo_only"] = measured_figures(targets[split][in_split], photo[split][in_split], labels,
                                                         threshold)
            metrics[split][kind] = figures
        test = metrics.get("test", {}).get(kind, {})
        tau, offsets, by_tau = adjustments[kind]
        metrics["val"][kind]["adjustment_balanced_accuracy"] = {f"{t:g}": v for t, v in by_tau.items()}
        calibrations[kind] = KindCalibration(
            temperature=temperatures[kind], triage_threshold=threshold, adjustment=tau,
            class_offsets=tuple(float(v) for v in offsets) if offsets is not None else None,
            measured={k: float(v) for k, v in test.items() if isinstance(v, int | float) and np.isfinite(v)})
    accuracy = {split: float((_kind_of(outputs[split], n) == kinds[split]).mean()) for split in outputs}
    return KindFinish(calibrations, context, accuracy, metrics, served)


def add_photo_kinds(model: nn.Module, config: ModelConfig, cached: dict[str, CachedArrays],
                    kinds: dict[str, np.ndarray], contexts: dict[str, list[PatientContext]], device: torch.device,
                    min_triage_sensitivity: float, seed: int = 0) -> tuple[nn.Module, ModelConfig, KindFinish]:
    """The whole step on a trained classifier: fit the head on training photos, fold it in, calibrate per kind.
    A network that already has its head keeps it and is calibrated again (a newer calibration rule).
    Returns the grown network, its config (``photo_kind_head``, ``kinds``, ``context``, the dermoscopic kind's
    temperature and threshold as the defaults) and what was measured."""
    from training.trainer import predict_arrays

    if not config.photo_kind_head:
        sample = head_sample(kinds["train"], seed)
        train = cached["train"]
        subset = CachedArrays(train.images[sample], train.targets[sample], None,
                              [train.image_ids[i] for i in sample])
        weight, bias = fit_head(pooled_features(model, subset, config, device), kinds["train"][sample] == "phone")
        model = append_head(model, weight, bias)
        config = config.model_copy(update={"photo_kind_head": True})
    outputs: dict[str, np.ndarray] = {split: predict_arrays(model, cached[split], config, device, use_tta=True)
               for split in ("val", "test") if split in cached}
    finish = calibrate_kinds(outputs, {split: arrays.targets for split, arrays in cached.items()}, kinds, contexts,
                             config.labels, min_triage_sensitivity)
    fallback = finish.kinds.get("dermoscopic") or next(iter(finish.kinds.values()))
    config = config.model_copy(update={"kinds": finish.kinds, "context": finish.context,
                                       "temperature": fallback.temperature,
                                       "triage_threshold": fallback.triage_threshold})
    return model, config, finish


def add_photo_kinds_to(bundle: Any, folders: list[Any], split_file: Any, *, source: str = "",
                       progress: bool = True, min_triage_sensitivity: float = 0.90,
                       device: str = "auto") -> dict[str, Any]:
    """``drskin train kinds``: ``add_photo_kinds`` on an already trained classifier bundle, over the data folders
    and the split it was trained on, logged as a new MLflow run (the grown network, its config); returns its
    summary (``run_id``, head accuracy, per-kind figures)."""
    import shutil
    import tempfile
    from pathlib import Path

    import mlflow

    from skin_models.bundle import load_bundle, save_bundle
    from skin_models.device import resolve_device
    from training import tracking
    from training.data import dataset_fingerprint
    from training.splits import records_of_the_split, split_fingerprint
    from training.torchdata import cache_records

    model, config = load_bundle(Path(bundle))
    if config.task != "classification":
        raise ValueError(f"{source or bundle} is a {config.task} model; the photo kind is the classifier's")
    by_split = records_of_the_split(folders, Path(split_file), config.extra.get("split_fingerprint"),
                                    source or str(bundle))
    if len({r.photo_kind for r in by_split["train"]}) < 2:
        raise ValueError("the training split holds one kind of photo only: give a dermoscopic folder and a phone "
                         "photo folder (--phone-data)")
    torch_device = resolve_device(device)
    model = model.to(torch_device)
    train_kinds = np.array([r.photo_kind for r in by_split["train"]])
    keep = head_sample(train_kinds)
    by_split["train"] = [by_split["train"][i] for i in keep]
    cached = {name: cache_records(recs, config, with_masks=False, desc=f"decoding {name}", progress=progress)
              for name, recs in by_split.items() if recs}
    kinds = {name: np.array([r.photo_kind for r in recs]) for name, recs in by_split.items()}
    contexts = {name: [r.context for r in recs] for name, recs in by_split.items()}
    model, new_config, finish = add_photo_kinds(model, config, cached, kinds, contexts, torch_device,
                                                min_triage_sensitivity)
    val_all = classification_metrics(cached["val"].targets, finish.probabilities["val"], new_config.labels)
    new_config = new_config.model_copy(update={
        "metrics": {**config.metrics, "val_balanced_accuracy": float(val_all["balanced_accuracy"]),
                    "val_photo_kind_accuracy": finish.kind_accuracy["val"]},
        "extra": {**config.extra, "photo_kinds_fitted_from": source or str(bundle)}})
    tracking.configure_tracking()
    experiment = tracking.ensure_experiment(tracking.EXPERIMENTS["classification"])
    with tempfile.TemporaryDirectory(prefix="drskin-kinds-") as tmp, \
            mlflow.start_run(experiment_id=experiment, run_name="photo-kinds") as run:
        out = save_bundle(Path(tmp) / "bundle", model.to("cpu"), new_config)
        mlflow.set_tags({
            tracking.TAG_TASK: "classification", tracking.TAG_SYNTHETIC: str(config.synthetic).lower(),
            tracking.TAG_SELECTION_METRIC: tracking.SELECTION_METRICS["classification"],
            tracking.TAG_DATA_FINGERPRINT: dataset_fingerprint([r for recs in by_split.values() for r in recs]),
            tracking.TAG_SPLIT_FINGERPRINT: split_fingerprint(Path(split_file)),
        })
        mlflow.log_params({"photo_kinds_fitted_from": source or str(bundle),
                           "data_path": ", ".join(str(f) for f in folders), "arch": config.arch})
        flat = {"best_val_balanced_accuracy": float(val_all["balanced_accuracy"]),
                **{f"photo_kind_accuracy_{split}": value for split, value in finish.kind_accuracy.items()}}
        for split, by_kind in finish.metrics.items():
            for kind, figures in by_kind.items():
                flat.update({f"{split}_{kind}_{k}": float(v) for k, v in figures.items()
                             if isinstance(v, int | float) and np.isfinite(v)})
        mlflow.log_metrics(flat)
        mlflow.log_dict({"kind_accuracy": finish.kind_accuracy, "metrics": finish.metrics,
                         "kinds": {k: v.model_dump() for k, v in finish.kinds.items()}}, "photo_kinds.json")
        mlflow.log_artifacts(str(out), tracking.BUNDLE_ARTIFACT_PATH)
        shutil.rmtree(out, ignore_errors=True)
        run_id = run.info.run_id
    return {"run_id": run_id, "kind_accuracy": finish.kind_accuracy, "metrics": finish.metrics,
            "kinds": {k: v.model_dump() for k, v in finish.kinds.items()},
            "context_weight": finish.context.weight if finish.context else None,
            "context_fields": list(finish.context.fields) if finish.context else []}
