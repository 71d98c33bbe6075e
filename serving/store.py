"""The models the service serves, from the BentoML store: references, configs, versions, and the not-a-lesion
calibration (``skin_models.verdict``) it judges photos with."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import bentoml

from serving.settings import LESION_LIKENESS
from skin_models.contract import ModelVersion

if TYPE_CHECKING:
    from skin_models.config import ModelConfig

logger = logging.getLogger("drskin.service")


class ModelsMissingError(RuntimeError):
    """The BentoML store lacks a model the service needs; the message names the command that creates it."""


class ModelUnreadableError(RuntimeError):
    """A model in the store that cannot be loaded (a damaged or incomplete bundle); the message names it and the
    commands that replace it."""


def unreadable(stored: Any, problem: Exception) -> ModelUnreadableError:
    return ModelUnreadableError(
        f"Dr. Skin cannot start: the model {stored.tag} in the BentoML store at {stored.path} cannot be loaded "
        f"({type(problem).__name__}: {problem}). If its files are damaged or incomplete, replace it: register its "
        "MLflow run again (`drskin register RUN_ID`) or train a new one (`drskin train all --data PATH`, or "
        "`drskin train quick` for synthetic first-run models); if it was written by a newer drskin, upgrade this "
        "one. `drskin models` lists what the store holds; DRSKIN_CLASSIFIER / DRSKIN_SEGMENTER pick another version.")


def open_predictor(kind: type[Any], stored: Any, **options: Any) -> Any:
    """``kind(bundle_path, **options)`` (a ``skin_models.predict`` predictor), or ``ModelUnreadableError``."""
    try:
        return kind(Path(stored.path), **options)
    except Exception as exc:  # any failure to read the bundle (bad JSON, truncated weights, shape mismatch)
        raise unreadable(stored, exc) from exc


def model_reference(tag: str) -> bentoml.models.BentoModel:
    """A class-scope model reference (what ``bentoml build`` packs); fails early with a fix when it is missing."""
    reference = bentoml.models.BentoModel(tag)
    if reference.stored is None:  # checked here: resolve() would otherwise try BentoCloud first
        store = model_store_dir()
        raise ModelsMissingError(
            f"Dr. Skin cannot start: there is no model {tag!r} in the BentoML store at {store}. "
            "Create synthetic first-run models with `drskin train quick`, or train real ones with "
            "`drskin train all --data PATH` (a HAM10000 folder); `drskin models` lists what the store holds."
        )
    return reference


def model_store_dir() -> Path:
    """Where BentoML keeps its models: ``$BENTOML_HOME/models`` (default ``~/bentoml/models``), as BentoML documents
    its home folder."""
    return Path(os.environ.get("BENTOML_HOME") or Path.home() / "bentoml").expanduser() / "models"


def model_config(stored: Any) -> ModelConfig:
    """The bundle's config.json of a model in the store, or ``ModelUnreadableError``."""
    from skin_models.bundle import load_config

    try:
        return load_config(Path(stored.path))
    except Exception as exc:  # missing or malformed config.json, an unknown format version
        raise unreadable(stored, exc) from exc


def lesion_likeness() -> Any:
    """The not-a-lesion calibration (skin_models.verdict), or None when ``DRSKIN_LESION_LIKENESS=off``."""
    from skin_models.verdict import LIKENESS_FILE, LesionLikeness

    if LESION_LIKENESS.lower() == "off":
        return None
    path = Path(LESION_LIKENESS) if LESION_LIKENESS else LIKENESS_FILE
    if LESION_LIKENESS and not path.exists():
        raise FileNotFoundError(f"DRSKIN_LESION_LIKENESS={LESION_LIKENESS}: no such file; give a file written by "
                                "`drskin calibrate-verdict`, or 'off'")
    likeness = LesionLikeness.load(path)
    if likeness is None:
        logger.warning("no not-a-lesion calibration at %s: every photo that passes the quality checks is judged "
                       "(run `drskin calibrate-verdict`)", path)
    return likeness


def model_info(stored: Any, config: ModelConfig) -> ModelVersion:
    """A served model's name, tag, version and synthetic flag (its metadata first, else its config)."""
    metadata = dict(stored.info.metadata or {})
    synthetic = metadata.get("synthetic", config.synthetic)
    if isinstance(synthetic, str):
        synthetic = synthetic.strip().lower() in {"1", "true", "yes"}
    tag = stored.tag
    return ModelVersion(name=tag.name, tag=str(tag), version=str(tag.version), synthetic=bool(synthetic))
