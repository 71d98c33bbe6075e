"""Registering a training run: MLflow model registry (alias ``champion``) and the BentoML model store.

``register_run`` takes a finished MLflow run that logged a model bundle under ``bundle/``, adds an ONNX export
(checked against PyTorch), registers the bundle folder as a new version of ``skin-classifier`` /
``skin-segmenter``, moves the ``champion`` alias when the new version beats the current champion, and imports
champions into the BentoML model store, where the newest import is what ``:latest`` (and so the service) serves.

The bundle is registered as a plain artifact folder (``create_model_version(source=<run artifact uri>)``), not as
an MLflow "flavor" model: the bundle format is ours (config.json + safetensors + ONNX), it is what every consumer
loads, and it avoids ``mlflow.pytorch.log_model``'s torch.export format, which freezes the batch size of the
input example.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from skin_models import served
from skin_models.bundle import (
    CONFIG_FILE,
    INT8_ONNX_FILE,
    ONNX_FILE,
    BundleError,
    export_onnx,
    load_bundle,
    load_config,
)
from skin_models.config import ModelConfig
from training import tracking

CHAMPION_ALIAS = "champion"

# Model-version tags written at registration; the champion comparison reads them back.
VTAG_SELECTION_VALUE = "drskin.selection_value"


class RegistryError(RuntimeError):
    """A run that cannot be registered, or a store that holds nothing to show. The message says what to do."""


@dataclass(frozen=True)
class RegistrationResult:
    """What ``register_run`` did."""

    run_id: str
    model_name: str
    version: str
    champion: bool
    reason: str
    selection_metric: str
    selection_value: float | None
    previous_champion: str | None = None
    bentoml_tag: str | None = None
    onnx: bool = False
    synthetic: bool = False

    def __str__(self) -> str:
        state = "champion" if self.champion else "not champion"
        value = "n/a" if self.selection_value is None else f"{self.selection_value:.4f}"
        store = f"BentoML {self.bentoml_tag}" if self.bentoml_tag else "not imported into BentoML"
        synthetic = " [SYNTHETIC]" if self.synthetic else ""
        return (f"{self.model_name} v{self.version}{synthetic} ({self.selection_metric}={value}): {state} "
                f"({self.reason}); {store}")


@dataclass(frozen=True)
class StoreModel:
    """One model in the BentoML store, as ``drskin models`` shows it."""

    name: str
    tag: str
    created: datetime
    task: str
    arch: str
    synthetic: bool
    metrics: dict[str, float]
    mlflow_run_id: str | None
    mlflow_version: str | None
    champion_at_import: bool
    latest: bool
    onnx: bool
    path: Path
    metadata: dict[str, Any] = field(default_factory=dict, repr=False)
    int8: bool = False  # carries an int8 network that passed its quality check (drskin quantize)

    @property
    def starting_weights(self) -> str | None:
        """``package version`` of the ImageNet weights it was fine-tuned from; None when trained from scratch."""
        try:
            source = load_config(self.path).extra.get("pretrained")
        except (BundleError, ValueError, OSError):
            return None
        return f"{source.get('package')} {source.get('version')}" if isinstance(source, dict) else None


# --- MLflow ---------------------------------------------------------------------------------------------------------


def _client(tracking_uri: str | None = None) -> Any:
    """An MlflowClient on ``tracking_uri``, else on whatever this process set up, else on the project default."""
    from mlflow import MlflowClient

    try:
        from mlflow.tracking._tracking_service.utils import is_tracking_uri_set

        uri_chosen = bool(is_tracking_uri_set())
    except ImportError:  # a private helper: fall back to the environment only
        uri_chosen = bool(os.environ.get("MLFLOW_TRACKING_URI"))
    # Respect a URI this process already chose (e.g. the training CLI's) rather than resetting it.
    if tracking_uri or not uri_chosen:
        tracking.configure_tracking(tracking_uri)
    return MlflowClient()


def _get_run(client: Any, run_id: str) -> Any:
    from mlflow.exceptions import MlflowException

    try:
        run = client.get_run(run_id)
    except MlflowException as exc:
        import mlflow

        raise RegistryError(f"no MLflow run {run_id!r} in {mlflow.get_tracking_uri()}; list runs with `mlflow ui` "
                            "(or check MLFLOW_TRACKING_URI) and pass a run id from there") from exc
    if run.info.lifecycle_stage == "deleted":
        raise RegistryError(f"MLflow run {run_id} is deleted; restore it in `mlflow ui` or register another run")
    return run


def _download_bundle(client: Any, run_id: str, dst: Path) -> Path:
    names = {Path(a.path).name for a in client.list_artifacts(run_id, tracking.BUNDLE_ARTIFACT_PATH)}
    if CONFIG_FILE not in names:
        raise RegistryError(f"MLflow run {run_id} has no model bundle under '{tracking.BUNDLE_ARTIFACT_PATH}/' "
                            "(it may have failed or still be running); register a finished `drskin train` run")
    return Path(client.download_artifacts(run_id, tracking.BUNDLE_ARTIFACT_PATH, str(dst)))


def _selection_value(run: Any, config: ModelConfig, metric: str) -> float | None:
    """The run's selection metric; falls back to the bundle's validation metrics."""
    candidates = [run.data.metrics.get(metric), config.metrics.get(metric),
                  config.metrics.get(metric.removeprefix("best_val_")),
                  config.metrics.get(metric.removeprefix("best_"))]
    for value in candidates:
        if value is not None and math.isfinite(float(value)):
            return float(value)
    return None


def _is_true(value: Any) -> bool:
    return str(value).strip().lower() in {"true", "1", "yes"}


def should_promote(*, candidate_value: float | None, candidate_synthetic: bool, champion_value: float | None,
                   champion_synthetic: bool | None, force: bool = False) -> tuple[bool, str]:
    """Whether a new version should take the ``champion`` alias, and why.

    ``champion_synthetic is None`` means there is no champion yet. Scores on synthetic data say nothing about real
    lesions, so a synthetic model never displaces a real-data champion (unless forced) and a real-data model always
    displaces a synthetic one. Otherwise the new version must strictly beat the champion's selection metric.
    """
    if force:
        return True, "forced"
    if champion_synthetic is None:
        return True, "first registered version"
    if candidate_synthetic and not champion_synthetic:
        return False, "trained on synthetic data while the champion was trained on real data"
    if not candidate_synthetic and champion_synthetic:
        return True, "trained on real data; the champion was synthetic"
    if candidate_value is None:
        return False, "the run has no selection metric to compare"
    if champion_value is None:
        return True, "the champion has no selection metric"
    if candidate_value > champion_value:
        return True, f"{candidate_value:.4f} beats the champion's {champion_value:.4f}"
    return False, f"{candidate_value:.4f} does not beat the champion's {champion_value:.4f}"


def _champion(client: Any, name: str) -> Any | None:
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version_by_alias(name, CHAMPION_ALIAS)
    except MlflowException:
        return None


def _version_value(client: Any, version: Any, metric: str) -> float | None:
    raw = version.tags.get(VTAG_SELECTION_VALUE)
    if raw not in (None, "", "None"):
        return float(raw)
    if version.run_id:
        try:
            value = client.get_run(version.run_id).data.metrics.get(metric)
        except Exception:  # the champion's run was deleted: keep comparing on what we have
            return None
        return None if value is None else float(value)
    return None


def _ensure_registered_model(client: Any, name: str, task: str) -> None:
    from mlflow.exceptions import MlflowException

    try:
        client.get_registered_model(name)
    except MlflowException:
        client.create_registered_model(
            name, tags={tracking.TAG_TASK: task},
            description=f"Dr. Skin {task} model bundles (config.json + model.safetensors + model.onnx). "
                        f"The alias '{CHAMPION_ALIAS}' marks the version the service should serve.")


def _existing_version(client: Any, name: str, run_id: str) -> Any | None:
    versions = client.search_model_versions(f"name = '{name}' and run_id = '{run_id}'")
    return max(versions, key=lambda v: int(v.version)) if versions else None


def _add_onnx(client: Any, run_id: str, bundle_dir: Path) -> None:
    """Export ONNX into the local bundle (verified against PyTorch) and upload it into the run's bundle."""
    model, config = load_bundle(bundle_dir, "cpu")
    onnx_path = bundle_dir / ONNX_FILE
    try:
        export_onnx(model, config, onnx_path)
    except BundleError as exc:
        raise RegistryError(f"{exc}; register without ONNX with --no-onnx (the service then runs PyTorch)") from exc
    client.log_artifact(run_id, str(onnx_path), tracking.BUNDLE_ARTIFACT_PATH)


def register_run(run_id: str, *, force: bool = False, onnx: bool = True, bentoml_import: bool = True,
                 import_anyway: bool = False, tracking_uri: str | None = None) -> RegistrationResult:
    """Register the bundle of MLflow run ``run_id``; see the module docstring.

    ``force`` makes the new version champion whatever its metric. BentoML gets the bundle only when it became
    champion (so ``:latest`` is the champion), or always with ``import_anyway``; never with ``bentoml_import=False``.
    Registering a run that is already registered reuses its version (so ``force`` can roll back to it).
    """
    client = _client(tracking_uri)
    run = _get_run(client, run_id)
    with tempfile.TemporaryDirectory(prefix="drskin-register-") as tmp:
        bundle_dir = _download_bundle(client, run_id, Path(tmp))
        config = load_config(bundle_dir)
        task = run.data.tags.get(tracking.TAG_TASK, config.task)
        if task not in tracking.MODEL_NAMES:
            raise RegistryError(f"run {run_id} has {tracking.TAG_TASK}={task!r}; expected one of "
                                f"{', '.join(tracking.MODEL_NAMES)}")
        if task != config.task:
            raise RegistryError(f"run {run_id} is tagged {tracking.TAG_TASK}={task} but its bundle holds a "
                                f"{config.task} model; the run is inconsistent, register another one")
        name = tracking.MODEL_NAMES[task]
        metric = run.data.tags.get(tracking.TAG_SELECTION_METRIC, tracking.SELECTION_METRICS[task])
        value = _selection_value(run, config, metric)
        synthetic = _is_true(run.data.tags.get(tracking.TAG_SYNTHETIC, config.synthetic))

        if onnx:
            _add_onnx(client, run_id, bundle_dir)
        has_onnx = (bundle_dir / ONNX_FILE).exists()

        _ensure_registered_model(client, name, task)
        version = _existing_version(client, name, run_id)
        if version is None:
            tags = {
                tracking.TAG_TASK: task,
                tracking.TAG_SYNTHETIC: str(synthetic).lower(),
                tracking.TAG_SELECTION_METRIC: metric,
                VTAG_SELECTION_VALUE: "" if value is None else repr(value),
                tracking.TAG_DATA_FINGERPRINT: run.data.tags.get(tracking.TAG_DATA_FINGERPRINT,
                                                                 config.data_fingerprint or ""),
                tracking.TAG_SPLIT_FINGERPRINT: run.data.tags.get(tracking.TAG_SPLIT_FINGERPRINT, ""),
                "drskin.onnx": str(has_onnx).lower(),
            }
            source = f"{run.info.artifact_uri.rstrip('/')}/{tracking.BUNDLE_ARTIFACT_PATH}"
            version = client.create_model_version(name, source, run_id=run_id, tags=tags, await_creation_for=0,
                                                  description=f"{config.arch} from run {run_id}")
        elif onnx:
            client.set_model_version_tag(name, version.version, "drskin.onnx", str(has_onnx).lower())

        incumbent = _champion(client, name)
        previous = None if incumbent is None else str(incumbent.version)
        if incumbent is not None and str(incumbent.version) == str(version.version):
            promote, reason = True, "already champion"
        else:
            promote, reason = should_promote(
                candidate_value=value, candidate_synthetic=synthetic,
                champion_value=None if incumbent is None else _version_value(client, incumbent, metric),
                champion_synthetic=None if incumbent is None else _is_true(incumbent.tags.get(tracking.TAG_SYNTHETIC)),
                force=force)
            if promote:
                client.set_registered_model_alias(name, CHAMPION_ALIAS, version.version)

        bentoml_tag = None
        if bentoml_import and (promote or import_anyway):
            bentoml_tag = _import_unless_latest(bundle_dir, name, {
                "mlflow_run_id": run_id,
                "mlflow_model_name": name,
                "mlflow_version": str(version.version),
                "champion": promote,
                "selection_metric": metric,
                "selection_value": value,
                "metrics": dict(config.metrics),
                "config": config.model_dump(mode="json"),
                "data_fingerprint": run.data.tags.get(tracking.TAG_DATA_FINGERPRINT, config.data_fingerprint),
                "split_fingerprint": run.data.tags.get(tracking.TAG_SPLIT_FINGERPRINT),
                "synthetic": synthetic,
                "onnx": has_onnx,
                **_training_facts(run),
            })
    return RegistrationResult(run_id=run_id, model_name=name, version=str(version.version), champion=promote,
                              reason=reason, selection_metric=metric, selection_value=value,
                              previous_champion=previous, bentoml_tag=bentoml_tag, onnx=has_onnx, synthetic=synthetic)


def _training_facts(run: Any) -> dict[str, Any]:
    """What the service's ``GET /info`` shows beyond the bundle's config: the data folder's name, images per split
    (the run's ``n_train``/``n_val``/``n_test`` params) and the test-split metrics (``final_test_*``)."""
    params = dict(getattr(run.data, "params", None) or {})
    facts: dict[str, Any] = {}
    if params.get("data_path"):
        facts["data_path"] = Path(str(params["data_path"])).name
    for split in ("train", "val", "test"):
        count = str(params.get(f"n_{split}", ""))
        if count.isdigit():
            facts[f"n_{split}"] = int(count)
    metrics = dict(getattr(run.data, "metrics", None) or {})
    test = {key.removeprefix("final_test_"): float(value) for key, value in metrics.items()
            if key.startswith("final_test_") and isinstance(value, int | float) and math.isfinite(value)}
    if "recall_mel" in test:  # the name the bundle's validation metrics use
        test["mel_recall"] = test["recall_mel"]
    if test:
        facts["test_metrics"] = test
    return facts


# --- BentoML --------------------------------------------------------------------------------------------------------


def _metadata_value(value: Any) -> Any:
    """BentoML metadata accepts only plain values: drop ``None`` and turn NaN into ``None``-free strings."""
    if isinstance(value, dict):
        return {str(k): _metadata_value(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_metadata_value(v) for v in value if v is not None]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def store_dir() -> Path:
    """The BentoML model store folder in use (``$BENTOML_HOME/models``)."""
    from bentoml._internal.configuration.containers import BentoMLContainer

    return Path(BentoMLContainer.model_store_dir.get())


def import_bundle_to_bentoml(bundle_dir: Path, name: str, metadata: dict[str, Any] | None = None) -> str:
    """Copy a bundle folder into a new BentoML model ``name``; it becomes ``name:latest``. Returns the tag.

    Labels (task, synthetic, arch) come from the bundle's config; ``metadata`` is stored as given (``None`` values
    dropped), plus the config itself under ``config`` when absent.
    """
    import bentoml

    bundle_dir = Path(bundle_dir)
    config = load_config(bundle_dir)
    metadata = dict(metadata or {})
    metadata.setdefault("config", config.model_dump(mode="json"))
    metadata.setdefault("synthetic", config.synthetic)
    metadata.setdefault("metrics", dict(config.metrics))
    labels = {"task": config.task, "synthetic": str(bool(metadata["synthetic"])).lower(), "arch": config.arch}
    if config.encoder:
        labels["encoder"] = config.encoder
    with bentoml.models.create(name, labels=labels, metadata=_metadata_value(metadata)) as model:
        for item in bundle_dir.iterdir():
            if item.is_file():
                shutil.copy2(item, Path(model.path) / item.name)
    return str(model.tag)


def _import_unless_latest(bundle_dir: Path, name: str, metadata: dict[str, Any]) -> str:
    """Import, unless ``name:latest`` already is this very registry version (re-registering is then a no-op)."""
    import bentoml
    from bentoml.exceptions import NotFound

    try:
        latest = bentoml.models.get(f"{name}:latest")
    except NotFound:
        latest = None
    if latest is not None and latest.info.metadata.get("mlflow_run_id") == metadata["mlflow_run_id"] and str(
            latest.info.metadata.get("mlflow_version")) == metadata["mlflow_version"]:
        return str(latest.tag)
    return import_bundle_to_bentoml(bundle_dir, name, metadata)


def bentoml_model_path(tag: str) -> Path:
    """The folder of a BentoML model (a bundle: config.json, model.safetensors, model.onnx)."""
    import bentoml
    from bentoml.exceptions import NotFound

    try:
        return Path(bentoml.models.get(tag).path)
    except NotFound as exc:
        raise RegistryError(f"no model {tag!r} in the BentoML store at {store_dir()}; see `drskin models`, or "
                            "register a run with `drskin register RUN_ID` (or `drskin train quick`)") from exc


def served_tag(name: str) -> str:
    """The tag the service serves for ``name``: ``$DRSKIN_CLASSIFIER`` / ``$DRSKIN_SEGMENTER``, else ``name:latest``
    (``skin_models.served``, the service's own rule)."""
    return served.served_tag(name, os.environ.get(served.PIN_VARIABLES.get(name, ""), ""))


def list_store_models(names: tuple[str, ...] = tuple(tracking.MODEL_NAMES.values())) -> list[StoreModel]:
    """Every version of ``names`` in the BentoML store, newest first within each name."""
    import bentoml
    from bentoml.exceptions import NotFound

    found: list[StoreModel] = []
    for name in names:
        try:
            models = bentoml.models.list(name)
            latest_tag = str(bentoml.models.get(f"{name}:latest").tag)
        except NotFound:
            continue
        for model in sorted(models, key=lambda m: m.info.creation_time, reverse=True):
            meta: dict[str, Any] = dict(model.info.metadata)
            labels: dict[str, str] = dict(model.info.labels)
            config: dict[str, Any] = meta.get("config") or {}
            version = meta.get("mlflow_version")
            found.append(StoreModel(
                name=name, tag=str(model.tag), created=model.info.creation_time,
                task=labels.get("task", config.get("task", "?")),
                arch="-".join(x for x in (labels.get("arch", config.get("arch", "?")), labels.get("encoder")) if x),
                synthetic=_is_true(meta.get("synthetic", labels.get("synthetic", False))),
                metrics={k: float(v) for k, v in (meta.get("metrics") or {}).items() if isinstance(v, int | float)},
                mlflow_run_id=meta.get("mlflow_run_id"), mlflow_version=None if version is None else str(version),
                champion_at_import=bool(meta.get("champion", False)), latest=str(model.tag) == latest_tag,
                onnx=(Path(model.path) / ONNX_FILE).exists(), path=Path(model.path), metadata=meta,
                int8=bool(config.get("int8")) and (Path(model.path) / INT8_ONNX_FILE).exists()))
    return found
