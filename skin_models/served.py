"""Which models the service serves: the BentoML store names of its two networks, and the environment variables
that pin a version instead of ``name:latest``.

The rule lives here, one floor below both readers: the service (``serving.settings``) and the CLI
(``training.registry``: ``drskin models``, ``drskin quantize``). They read the pin from their settings or the
environment and pass it in; the model layer reads no environment itself.
"""

from __future__ import annotations

CLASSIFIER_NAME = "skin-classifier"
SEGMENTER_NAME = "skin-segmenter"
# The service's environment variables that pin a BentoML tag instead of ``:latest``.
PIN_VARIABLES = {CLASSIFIER_NAME: "DRSKIN_CLASSIFIER", SEGMENTER_NAME: "DRSKIN_SEGMENTER"}


def served_tag(name: str, pinned: str | None) -> str:
    """The tag the service serves for the store name ``name``: the ``pinned`` one when set (and not empty), else
    ``name:latest``."""
    return (pinned or "").strip() or f"{name}:latest"
