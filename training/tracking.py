"""MLflow set-up: local ``mlruns/`` (SQLite backend + artifacts folder) unless MLFLOW_TRACKING_URI says otherwise."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

CLASSIFIER_EXPERIMENT = "drskin-classifier"
SEGMENTER_EXPERIMENT = "drskin-segmenter"
CLASSIFIER_MODEL_NAME = "skin-classifier"
SEGMENTER_MODEL_NAME = "skin-segmenter"
BUNDLE_ARTIFACT_PATH = "bundle"

# Tags every training run carries; the registry and `drskin models` read them back.
TAG_TASK = "drskin.task"
TAG_SYNTHETIC = "drskin.synthetic"
TAG_SELECTION_METRIC = "drskin.selection_metric"
TAG_DATA_FINGERPRINT = "drskin.data_fingerprint"
TAG_SPLIT_FINGERPRINT = "drskin.split_fingerprint"

SELECTION_METRICS = {"classification": "best_val_balanced_accuracy", "segmentation": "best_val_dice"}
EXPERIMENTS = {"classification": CLASSIFIER_EXPERIMENT, "segmentation": SEGMENTER_EXPERIMENT}
MODEL_NAMES = {"classification": CLASSIFIER_MODEL_NAME, "segmentation": SEGMENTER_MODEL_NAME}


def mlruns_dir() -> Path:
    """The local MLflow folder (``DRSKIN_MLRUNS`` or ``./mlruns``)."""
    return Path(os.environ.get("DRSKIN_MLRUNS", "mlruns")).resolve()


def configure_tracking(uri: str | None = None) -> str:
    """Point MLflow at ``uri``, ``$MLFLOW_TRACKING_URI``, or a SQLite store inside the local ``mlruns/``."""
    import mlflow

    uri = uri or os.environ.get("MLFLOW_TRACKING_URI")
    if not uri:
        folder = mlruns_dir()
        folder.mkdir(parents=True, exist_ok=True)
        uri = f"sqlite:///{folder / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return uri


def ensure_experiment(name: str) -> str:
    """The experiment id for ``name``, created with artifacts under ``mlruns/artifacts`` for a local store."""
    import mlflow

    experiment = mlflow.get_experiment_by_name(name)
    if experiment is not None:
        return str(experiment.experiment_id)
    artifact_location = None
    if mlflow.get_tracking_uri().startswith("sqlite:"):
        artifact_location = (mlruns_dir() / "artifacts").as_uri()
    return str(mlflow.create_experiment(name, artifact_location=artifact_location))


def system_info(device: str) -> dict[str, Any]:
    """Where a run ran: device, threads and library versions."""
    import torch

    info: dict[str, Any] = {
        "device": device,
        "torch_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "torch": torch.__version__,
    }
    for module in ("timm", "segmentation_models_pytorch", "mlflow", "albumentations"):
        try:
            info[module] = __import__(module).__version__
        except Exception:  # pragma: no cover - optional
            continue
    if torch.cuda.is_available():
        info["cuda_device"] = torch.cuda.get_device_name(0)
    return info
