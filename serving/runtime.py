"""What runs around the networks: the model workers' predictor options and warm-up, the classifier's answer as it
crosses from its worker to the entry service, and the entry service's retrying call to an internal batch API."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from serving.settings import BACKEND, DEVICE, INT8, MODEL_THREADS

if TYPE_CHECKING:
    from skin_models.config import ModelConfig

logger = logging.getLogger("drskin.service")

# The keys of the classifier worker's per-image answer (``LesionClassifier.predict``).
OUTPUTS = "outputs"
CLASS_MAPS = "class_maps"


@dataclass(frozen=True)
class ClassifierAnswer:
    """One image's answer from the classifier worker: the network's raw outputs over its test-time views (class
    logits in the config's label order, then the photo-kind logit with that head: ``skin_models.photo_kind`` reads
    them) and, when the network has them, its (classes, h, w) class activation maps from the same pass."""

    outputs: np.ndarray
    class_maps: np.ndarray | None

    @classmethod
    def of(cls, answer: dict[str, Any]) -> ClassifierAnswer:
        maps = answer.get(CLASS_MAPS)
        return cls(np.asarray(answer[OUTPUTS], dtype=np.float64),
                   None if maps is None else np.asarray(maps, dtype=np.float32))


def predictor_options() -> dict[str, Any]:
    """The ``skin_models.predict`` predictors' options from the service's settings: device, backend, this worker's
    share of the cores (``DRSKIN_MODEL_THREADS``) and whether a kept int8 network may be served (``DRSKIN_INT8``)."""
    return {"device": DEVICE, "backend": BACKEND, "threads": MODEL_THREADS, "int8": INT8}


def warm_up(run: Any, config: ModelConfig) -> None:
    """One forward pass at start-up, so the first request does not pay for lazy initialisation."""
    height, width = config.input_size
    run([np.zeros((height, width, 3), dtype=np.uint8)])


async def predict(dependency: Any, image: np.ndarray, attempts: int = 5, api: str = "predict") -> Any:
    """One image through an internal batch API; the result for that image.

    Retries when the pooled connection to the internal service was closed under it ("Cannot write to closing
    transport", server disconnected): under load BentoML 1.4's client hits that race with the server's keep-alive
    timeout. The call is a pure function of its input, so repeating it is safe.
    """
    import aiohttp

    for attempt in range(1, attempts + 1):
        try:
            [result] = await getattr(dependency.to_async, api)([image])
            return result
        except aiohttp.ClientConnectionError:
            if attempt == attempts:
                raise
            logger.warning("connection to an internal service dropped; retrying (%d/%d)", attempt, attempts - 1)
    raise AssertionError("unreachable")
