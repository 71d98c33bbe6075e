"""What runs around the networks: the model workers' thread limits and warm-up, and the entry service's retrying
call to an internal batch API."""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

import numpy as np

from serving.settings import MODEL_THREADS

if TYPE_CHECKING:
    from skin_models.config import ModelConfig

logger = logging.getLogger("drskin.service")


def limit_threads() -> None:
    """This model worker's share of the cores (``DRSKIN_MODEL_THREADS``), for torch and ONNX Runtime."""
    import torch

    os.environ.setdefault("DRSKIN_ORT_THREADS", str(MODEL_THREADS))  # read by skin_models.predict
    torch.set_num_threads(MODEL_THREADS)


def warm_up(run: Any, config: ModelConfig) -> None:
    """One forward pass at start-up, so the first request does not pay for lazy initialisation."""
    height, width = config.input_size
    run([np.zeros((height, width, 3), dtype=np.uint8)])


async def predict(dependency: Any, image: np.ndarray, attempts: int = 5, api: str = "predict") -> np.ndarray:
    """One image through an internal batch API; the result for that image.

    Retries when the pooled connection to the internal service was closed under it ("Cannot write to closing
    transport", server disconnected): under load BentoML 1.4's client hits that race with the server's keep-alive
    timeout. The call is a pure function of its input, so repeating it is safe.
    """
    import aiohttp

    for attempt in range(1, attempts + 1):
        try:
            [result] = await getattr(dependency.to_async, api)([image])
            return np.asarray(result)
        except aiohttp.ClientConnectionError:
            if attempt == attempts:
                raise
            logger.warning("connection to an internal service dropped; retrying (%d/%d)", attempt, attempts - 1)
    raise AssertionError("unreachable")
