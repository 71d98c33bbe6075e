"""Registration into a throwaway MLflow registry and BentoML store, with tiny bundles."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.stores import log_training_run, make_tiny_bundle
from training.registry import (
    CHAMPION_ALIAS,
    RegistryError,
    bentoml_model_path,
    import_bundle_to_bentoml,
    list_store_models,
    register_run,
    should_promote,
)

pytestmark = pytest.mark.usefixtures("tmp_mlflow_uri", "tmp_bentoml_home")


@pytest.fixture(scope="module")
def classifier_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_bundle(tmp_path_factory.mktemp("bundles") / "classifier", metrics={"balanced_accuracy": 0.5})


def test_champion_moves_only_for_a_better_run_or_force(classifier_bundle: Path) -> None:
    from mlflow import MlflowClient

    first = register_run(log_training_run(classifier_bundle, metric=0.50))
    assert (first.model_name, first.version, first.champion) == ("skin-classifier", "1", True)
    assert first.onnx and first.bentoml_tag is not None and first.synthetic
    # ONNX is in the registered bundle (MLflow) and in the BentoML model.
    client = MlflowClient()
    version = client.get_model_version("skin-classifier", "1")
    assert version.run_id == first.run_id
    registered = {Path(p).name for p in _list_files(str(version.source))}
    assert {"config.json", "model.safetensors", "model.onnx"} <= registered
    path = bentoml_model_path("skin-classifier:latest")
    assert (path / "model.onnx").exists() and (path / "config.json").exists()

    import bentoml

    stored = bentoml.models.get(first.bentoml_tag)
    metadata: dict[str, Any] = dict(stored.info.metadata)
    assert metadata["mlflow_run_id"] == first.run_id
    assert metadata["synthetic"] is True
    assert (metadata["mlflow_version"], metadata["mlflow_model_name"]) == ("1", "skin-classifier")
    assert metadata["champion"] is True
    assert metadata["config"]["arch"] == "resnet10t"
    assert metadata["selection_metric"] == "best_val_balanced_accuracy" and metadata["selection_value"] == 0.5
    assert metadata["metrics"] == {"balanced_accuracy": 0.5}
    assert metadata["data_fingerprint"] == "f" * 64
    assert stored.info.labels == {"task": "classification", "synthetic": "true", "arch": "resnet10t"}

    worse = register_run(log_training_run(classifier_bundle, metric=0.40), onnx=False)
    assert (worse.version, worse.champion, worse.bentoml_tag, worse.previous_champion) == ("2", False, None, "1")
    assert str(client.get_model_version_by_alias("skin-classifier", CHAMPION_ALIAS).version) == "1"
    assert str(bentoml.models.get("skin-classifier:latest").tag) == first.bentoml_tag

    forced = register_run(worse.run_id, force=True, onnx=False)  # the same run: its version is reused
    assert (forced.version, forced.champion, forced.reason) == ("2", True, "forced")
    assert str(client.get_model_version_by_alias("skin-classifier", CHAMPION_ALIAS).version) == "2"
    assert str(bentoml.models.get("skin-classifier:latest").tag) == forced.bentoml_tag != first.bentoml_tag

    better = register_run(log_training_run(classifier_bundle, metric=0.45), onnx=False, bentoml_import=False)
    assert (better.version, better.champion, better.bentoml_tag) == ("3", True, None)

    models = list_store_models()
    assert [m.mlflow_version for m in models] == ["2", "1"]
    assert models[0].latest and not models[1].latest and models[0].synthetic


def test_import_anyway_imports_a_non_champion(classifier_bundle: Path) -> None:
    register_run(log_training_run(classifier_bundle, metric=0.50), onnx=False)
    outcome = register_run(log_training_run(classifier_bundle, metric=0.10), onnx=False, import_anyway=True)
    assert not outcome.champion and outcome.bentoml_tag is not None
    assert "not champion" in str(outcome)


def test_promotion_rules_keep_synthetic_models_away_from_a_real_champion() -> None:
    promote, reason = should_promote(candidate_value=0.9, candidate_synthetic=True, champion_value=0.5,
                                     champion_synthetic=False)
    assert not promote and "synthetic" in reason
    assert should_promote(candidate_value=0.1, candidate_synthetic=False, champion_value=0.9,
                          champion_synthetic=True)[0]
    assert not should_promote(candidate_value=0.5, candidate_synthetic=False, champion_value=0.5,
                              champion_synthetic=False)[0]
    assert should_promote(candidate_value=None, candidate_synthetic=False, champion_value=None,
                          champion_synthetic=None)[0]


def test_unknown_run_and_run_without_bundle_fail_clearly(tmp_path: Path) -> None:
    import mlflow

    with pytest.raises(RegistryError, match="no MLflow run"):
        register_run("0123456789abcdef0123456789abcdef")
    from training.tracking import CLASSIFIER_EXPERIMENT, ensure_experiment

    with mlflow.start_run(experiment_id=ensure_experiment(CLASSIFIER_EXPERIMENT)) as run:
        mlflow.log_metric("best_val_balanced_accuracy", 0.5)
    with pytest.raises(RegistryError, match="no model bundle"):
        register_run(run.info.run_id)


def test_import_bundle_and_missing_tag(tmp_path: Path) -> None:
    bundle = make_tiny_bundle(tmp_path / "seg", "segmentation")
    tag = import_bundle_to_bentoml(bundle, "skin-segmenter", {"mlflow_run_id": None, "note": "test"})
    assert tag.startswith("skin-segmenter:")
    (model,) = list_store_models()
    assert (model.tag, model.arch, model.task, model.mlflow_run_id) == (tag, "unet-resnet18", "segmentation", None)
    with pytest.raises(RegistryError, match="drskin register"):
        bentoml_model_path("skin-classifier:latest")


def _list_files(source: str) -> list[str]:
    from mlflow.artifacts import download_artifacts

    return [str(p) for p in Path(download_artifacts(artifact_uri=source)).iterdir()]


def _cli() -> Any:
    import typer

    from training.cli_models import register_commands

    app = typer.Typer()
    register_commands(app)
    return app


def test_cli_register_and_models(classifier_bundle: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    runner = CliRunner()
    empty = runner.invoke(_cli(), ["models"])
    assert empty.exit_code == 1 and "drskin register RUN_ID" in empty.output
    unknown = runner.invoke(_cli(), ["register", "0123456789abcdef0123456789abcdef"])
    assert unknown.exit_code == 1 and "no MLflow run" in unknown.output

    run_id = log_training_run(classifier_bundle, metric=0.5)
    registered = runner.invoke(_cli(), ["register", run_id, "--no-onnx"])
    assert registered.exit_code == 0, registered.output
    assert "skin-classifier v1" in registered.output and "SYNTHETIC" in registered.output
    listed = runner.invoke(_cli(), ["models"], env={"COLUMNS": "250"})
    assert listed.exit_code == 0, listed.output
    assert "✓" in listed.output and "v1" in listed.output and "synthetic" in listed.output
    monkeypatch.setenv("DRSKIN_CLASSIFIER", "skin-classifier:doesnotexist")
    pinned = runner.invoke(_cli(), ["models"], env={"COLUMNS": "250"})
    assert "the service would fail" in pinned.output
