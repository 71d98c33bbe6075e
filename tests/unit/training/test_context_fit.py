"""Fitting the patient-context term on the training split and choosing its weight on validation."""

from __future__ import annotations

import numpy as np
import pytest

from skin_models.context import SITES, PatientContext
from skin_models.labels import CLASS_CODES
from training.metrics import balanced_log_loss, classification_metrics
from training.trainer import fit_context

K = len(CLASS_CODES)


def _site_of(k: int) -> str:
    return SITES[k]  # in this made-up world each class has its own body site


def _world(n_per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    targets = np.repeat(np.arange(K), n_per_class)
    # a weak photo model: the true class a little more probable than the others, often not the top one
    logits = rng.normal(0, 1, (len(targets), K))
    logits[np.arange(len(targets)), targets] += 0.8
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return targets, probs


def test_an_informative_context_gets_weight_and_lifts_validation() -> None:
    train_targets, _ = _world(20, seed=0)
    val_targets, val_probs = _world(20, seed=1)
    contexts = {"train": [PatientContext(site=_site_of(k)) for k in train_targets],
                "val": [PatientContext(site=_site_of(k)) for k in val_targets]}
    model, scores = fit_context(train_targets, contexts, val_probs, val_targets, CLASS_CODES)
    assert model is not None and model.weight > 0
    assert scores[model.weight] == min(scores.values()) < scores[0.0]
    weighed = np.array([model.apply(row, c) for row, c in zip(val_probs, contexts["val"], strict=True)])
    assert balanced_log_loss(val_targets, weighed) == pytest.approx(scores[model.weight])
    assert classification_metrics(val_targets, weighed)["balanced_accuracy"] > \
        classification_metrics(val_targets, val_probs)["balanced_accuracy"] + 0.2


def test_a_context_that_misleads_on_validation_is_not_kept() -> None:
    train_targets, _ = _world(20, seed=0)
    val_targets, val_probs = _world(20, seed=1)
    contexts = {"train": [PatientContext(site=_site_of(k)) for k in train_targets],
                "val": [PatientContext(site=_site_of((k + 1) % K)) for k in val_targets]}  # always the wrong site
    model, scores = fit_context(train_targets, contexts, val_probs, val_targets, CLASS_CODES)
    assert model is None
    assert min(scores, key=scores.__getitem__) == 0.0


def test_no_context_on_either_split_means_no_context_model() -> None:
    targets, probs = _world(5, seed=2)
    empty = [PatientContext()] * len(targets)
    assert fit_context(targets, {"train": empty, "val": empty}, probs, targets, CLASS_CODES) == (None, {})
    known = [PatientContext(age=40)] * len(targets)
    assert fit_context(targets, {"train": known, "val": empty}, probs, targets, CLASS_CODES) == (None, {})


def test_balanced_log_loss_weighs_every_class_the_same() -> None:
    targets = np.array([0, 0, 0, 1])
    probs = np.array([[0.9, 0.1], [0.9, 0.1], [0.9, 0.1], [0.5, 0.5]])
    expected = (-np.log(0.9) - np.log(0.5)) / 2
    assert balanced_log_loss(targets, probs) == pytest.approx(expected)


def test_a_trained_classifier_gains_a_context_model_as_a_new_registered_run(
        synth_dir, tmp_path, tmp_mlflow_uri, tmp_bentoml_home) -> None:  # type: ignore[no-untyped-def]
    import csv
    import shutil

    from skin_models.bundle import load_config
    from skin_models.labels import class_index
    from tests.fixtures.stores import make_tiny_bundle
    from training.context_fit import ContextFitError, fit_context_for
    from training.data import load_records
    from training.registry import bentoml_model_path, register_run
    from training.splits import make_splits, save_splits, split_fingerprint

    data = tmp_path / "data"
    shutil.copytree(synth_dir, data)
    rows = list(csv.DictReader((data / "metadata.csv").open()))
    for row in rows:  # in this made-up world the body site gives the class away
        row["localization"] = SITES[class_index(row["dx"])]
    with (data / "metadata.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    records = load_records(data)
    split_file = tmp_path / "splits.csv"
    save_splits(split_file, make_splits(records, seed=0), records)
    bundle = make_tiny_bundle(tmp_path / "classifier", synthetic=True,
                              extra={"split_fingerprint": split_fingerprint(split_file)})

    summary = fit_context_for(bundle, data, split_file, progress=False)
    assert summary["weight"] > 0
    validation = summary["validation"]
    assert validation["balanced_accuracy"] > validation["photo_only"]["balanced_accuracy"] + 0.2
    outcome = register_run(summary["run_id"])
    assert outcome.champion  # the first classifier in this registry
    served = load_config(bentoml_model_path("skin-classifier:latest"))
    assert served.context is not None and served.context.weight == summary["weight"]
    assert served.extra["context_fitted_from"] == str(bundle)
    assert served.metrics["val_balanced_accuracy"] == pytest.approx(validation["balanced_accuracy"])

    other = tmp_path / "other-splits.csv"
    save_splits(other, make_splits(records, seed=1), records)
    with pytest.raises(ContextFitError, match="not the split"):
        fit_context_for(bundle, data, other, progress=False)
