"""Dr. Skin's model layer: labels, safe image decoding, preprocessing, network factories, bundles, batch
predictors and post-processing. No web, no MLflow, no BentoML.

Importing the package is cheap (the site imports ``skin_models.labels`` without torch); the torch-backed names
below are loaded on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from skin_models.labels import CLASS_CODES, LABELS, Label, LesionGroup, get_label

__version__ = "0.1.0"

_LAZY = {
    "ModelConfig": "skin_models.config",
    "create_classifier": "skin_models.factory",
    "create_segmenter": "skin_models.factory",
    "list_classifiers": "skin_models.factory",
    "list_segmenters": "skin_models.factory",
    "save_bundle": "skin_models.bundle",
    "load_bundle": "skin_models.bundle",
    "ClassifierPredictor": "skin_models.predict",
    "SegmenterPredictor": "skin_models.predict",
    "decode_image": "skin_models.imaging",
    "ImageError": "skin_models.imaging",
    "lesion_measurements": "skin_models.postprocess",
    "draw_overlay": "skin_models.postprocess",
    "assess_quality": "skin_models.quality",
    "triage": "skin_models.triage",
}

__all__ = ["CLASS_CODES", "LABELS", "Label", "LesionGroup", "get_label", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'skin_models' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
