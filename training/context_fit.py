"""The patient's context for a classifier that is already trained: ``drskin train context``.

The context term (``skin_models.context``) sits after the network, so a trained classifier gains it by doing what
``drskin train classifier`` does at its end — count the age/sex/body-site tables on the training split, choose the
weight on validation (class-balanced log loss), lower the triage threshold if the weighed answers need it to keep
the malignant sensitivity — with the network's weights untouched. The result is a new MLflow run in the classifier
experiment (the same weights, the new config) that registers like any other: it becomes champion when its
validation balanced accuracy, with the context, beats the champion's. Test figures are reported, never used.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from skin_models.bundle import load_config
from skin_models.labels import class_index
from training.data import Record, dataset_fingerprint, load_image
from training.splits import records_of_the_split, split_fingerprint


class ContextFitError(ValueError):
    """The classifier or the data cannot be given a context model; the message says why."""


def _photo_probabilities(bundle: Path, records: Sequence[Record], progress: bool) -> np.ndarray:
    from tqdm.auto import tqdm

    from skin_models.predict import ClassifierPredictor

    predictor = ClassifierPredictor(bundle)  # ONNX Runtime when the bundle has it: as served
    rows = []
    for start in tqdm(range(0, len(records), 64), desc="classifying", disable=not progress, leave=False):
        rows.append(predictor.predict_proba([load_image(r) for r in records[start : start + 64]]))
    return np.concatenate(rows)


def fit_context_for(bundle: Path, data: Path, split_file: Path, *, source: str = "", progress: bool = True,
                    min_triage_sensitivity: float = 0.90) -> dict[str, Any]:
    """A bundle copy of ``bundle`` with a fitted context model, logged as an MLflow run; returns its summary
    (``run_id``, ``weight``, validation and test metrics with the context and from the photo alone)."""
    import mlflow

    from training import tracking
    from training.trainer import finish_context

    config = load_config(bundle)
    if config.task != "classification":
        raise ContextFitError(f"{source or bundle} is a {config.task} model; the context is for the classifier")
    if config.resize_policy == "lesion_crop":
        raise ContextFitError(f"{source or bundle} looks at lesion crops: fit its context at the end of training "
                              "(drskin train classifier), where the segmenter's crops are at hand")
    by_split = records_of_the_split(data, split_file, config.extra.get("split_fingerprint"), source or str(bundle),
                                    ContextFitError)
    if not by_split["train"] or not by_split["val"]:
        raise ContextFitError(f"{split_file} leaves no training or validation photos of {data}")
    targets = {name: np.array([class_index(r.label) for r in recs]) for name, recs in by_split.items()}
    contexts = {name: [r.context for r in recs] for name, recs in by_split.items()}
    photo = {name: _photo_probabilities(bundle, recs, progress) for name, recs in by_split.items()
             if name != "train" and recs}
    finish = finish_context(photo, targets, contexts, config.labels, min_triage_sensitivity,
                            threshold_cap=config.triage_threshold)
    model, scores, threshold, metrics, selected = (finish.model, finish.scores, finish.threshold, finish.metrics,
                                                   finish.selected)
    if model is None:
        raise ContextFitError("the data records no age, sex or body site for training and validation, or the "
                              "context did not help on validation: nothing to add")
    new_config = config.model_copy(update={
        "context": model, "triage_threshold": threshold,
        "metrics": {f"val_{k}": v for k, v in selected.items()},
        "extra": {**config.extra, "context_fitted_from": source or str(bundle)}})

    tracking.configure_tracking()
    experiment = tracking.ensure_experiment(tracking.EXPERIMENTS["classification"])
    with tempfile.TemporaryDirectory(prefix="drskin-context-") as tmp, \
            mlflow.start_run(experiment_id=experiment, run_name="context-fit") as run:
        copy = Path(tmp) / "bundle"
        shutil.copytree(bundle, copy)
        new_config.save(copy / "config.json")
        mlflow.set_tags({
            tracking.TAG_TASK: "classification", tracking.TAG_SYNTHETIC: str(config.synthetic).lower(),
            tracking.TAG_SELECTION_METRIC: tracking.SELECTION_METRICS["classification"],
            tracking.TAG_DATA_FINGERPRINT: dataset_fingerprint([r for recs in by_split.values() for r in recs]),
            tracking.TAG_SPLIT_FINGERPRINT: split_fingerprint(split_file),
        })
        mlflow.log_params({"context_fitted_from": source or str(bundle), "data_path": str(data),
                           "context_weight": model.weight, "arch": config.arch})
        # The served answer's validation balanced accuracy is what the registry ranks versions by.
        mlflow.log_metrics({"best_val_balanced_accuracy": selected["balanced_accuracy"],
                            **{f"final_val_{k}": v for k, v in selected.items()},
                            **{f"final_test_{k}": float(metrics["test"][k]) for k in ("balanced_accuracy",
                                                                                       "malignant_auc")
                               if "test" in metrics},
                            **{f"context_log_loss_{w:g}": v for w, v in scores.items()}})
        mlflow.log_artifacts(str(copy), tracking.BUNDLE_ARTIFACT_PATH)
        run_id = run.info.run_id
    return {"run_id": run_id, "weight": model.weight, "triage_threshold": threshold,
            "validation": {**{k: metrics["val"][k] for k in ("balanced_accuracy", "malignant_auc")},
                           "mel_recall": metrics["val"]["per_class"]["mel"]["recall"],
                           "photo_only": metrics["val"]["photo_only"]},
            "test": ({**{k: metrics["test"][k] for k in ("balanced_accuracy", "malignant_auc")},
                      "mel_recall": metrics["test"]["per_class"]["mel"]["recall"],
                      "photo_only": metrics["test"]["photo_only"]}
                     if "test" in metrics else {})}
