"""Which models the service serves: the BentoML store names of its two networks, and the environment variables
that pin a version instead of ``name:latest``.

The rule lives here, one floor below both readers: the service (``serving.settings``) and the CLI
(``training.registry``: ``drskin models``, ``drskin quantize``). They pass the environment in; the model layer reads
none itself.
"""

from __future__ import annotations

from collections.abc import Mapping

CLASSIFIER_NAME = "skin-classifier"
SEGMENTER_NAME = "skin-segmenter"
# The service's environment variables that pin a BentoML tag instead of ``:latest``.
PIN_VARIABLES = {CLASSIFIER_NAME: "DRSKIN_CLASSIFIER", SEGMENTER_NAME: "DRSKIN_SEGMENTER"}


def served_tag(name: str, environ: Mapping[str, str]) -> str:
    """The tag the service serves for the store name ``name``: its pin variable in ``environ`` when set (and not
    empty), else ``name:latest``."""
    variable = PIN_VARIABLES.get(name)
    pinned = environ.get(variable, "").strip() if variable else ""
    return pinned or f"{name}:latest"
