"""Batch predictors: a list of photos in, one forward pass, probabilities or masks out.

The network runs in ONNX Runtime when the bundle carries an export and ``backend`` allows it (faster on CPU) —
its int8 version when the bundle's ``config.int8`` says it kept the quality (``skin_models.bundle.servable_int8``)
and the device is the CPU — otherwise in PyTorch; on CUDA when present.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from PIL import Image

from skin_models import tta
from skin_models.bundle import INT8_ONNX_FILE, ONNX_FILE, has_onnx, load_bundle, servable_int8
from skin_models.config import ModelConfig
from skin_models.context import ContextModel, PatientContext
from skin_models.device import resolve_device
from skin_models.preprocess import normalise, restore_probability_map, to_uint8_batch

Backend = Literal["auto", "torch", "onnx"]


class _Runner:
    """Runs a normalised NCHW batch through torch or ONNX Runtime and returns numpy outputs."""

    def __init__(self, bundle: Path, device: str, backend: Backend) -> None:
        self.model, self.config = load_bundle(bundle, "cpu")
        self.device = resolve_device(device)
        use_onnx = backend == "onnx" or (backend == "auto" and self.device.type == "cpu" and has_onnx(bundle))
        if backend == "onnx" and not has_onnx(bundle):
            raise FileNotFoundError(f"{bundle} has no {ONNX_FILE}; use backend 'torch' or re-register the model")
        int8 = use_onnx and self.device.type == "cpu" and servable_int8(bundle, self.config)
        self.backend: str = ("onnx-int8" if int8 else "onnx") if use_onnx else "torch"
        self.session = None
        if use_onnx:
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.intra_op_num_threads = int(os.environ.get("DRSKIN_ORT_THREADS", "0"))
            providers = ["CUDAExecutionProvider", "CPUExecutionProvider"] if self.device.type == "cuda" else [
                "CPUExecutionProvider"]
            onnx_file = Path(bundle) / (INT8_ONNX_FILE if int8 else ONNX_FILE)
            self.session = ort.InferenceSession(str(onnx_file), options, providers=providers)
            self.input_name = self.session.get_inputs()[0].name
        else:
            self.model = self.model.to(self.device).eval()

    def __call__(self, batch: torch.Tensor) -> np.ndarray:
        if self.session is not None:
            return np.asarray(self.session.run(None, {self.input_name: batch.numpy()})[0])
        with torch.inference_mode():
            return self.model(batch.to(self.device)).float().cpu().numpy()


class _Predictor:
    """What both predictors share: loading a bundle and checking it holds the right kind of model."""

    task: str = ""

    def __init__(self, bundle: Path, device: str = "auto", backend: Backend = "auto") -> None:
        self._runner = _Runner(Path(bundle), device, backend)
        self.config: ModelConfig = self._runner.config
        if self.config.task != self.task:
            kind = "classifier" if self.task == "classification" else "segmenter"
            raise ValueError(f"{bundle} holds a {self.config.task} model, not a {kind}")

    @property
    def backend(self) -> str:
        return self._runner.backend

    def _run(self, batch: np.ndarray, *, spatial: bool) -> np.ndarray:
        """Network outputs for a uint8 NHWC batch, averaged over the bundle's test-time views."""
        return tta.apply(self._runner, normalise(batch, self.config), self.config.tta, spatial=spatial)


class ClassifierPredictor(_Predictor):
    """Class probabilities for a batch of photos."""

    task = "classification"

    def logits_from_uint8(self, batch: np.ndarray) -> np.ndarray:
        """Logits for a uint8 NHWC batch already at the network's input size."""
        return self._run(batch, spatial=False)

    def class_maps_from_uint8(self, batch: np.ndarray) -> np.ndarray:
        """(N, classes, h, w) class activation maps (``skin_models.explain``) of a uint8 NHWC batch at the network's
        input size: one unmirrored view, computed by the PyTorch network (ONNX bundles carry logits only)."""
        from skin_models.explain import WithClassMaps

        model = self._runner.model
        device = next(model.parameters()).device
        with torch.inference_mode():
            _, maps = WithClassMaps(model.eval())(normalise(batch, self.config).to(device))
        return maps.float().cpu().numpy()

    @property
    def needs_lesion_mask(self) -> bool:
        """Whether the network looks at a crop around the lesion (then every photo needs its lesion mask)."""
        return self.config.resize_policy == "lesion_crop"

    def predict_logits(self, images: Sequence[Image.Image],
                       lesion_masks: Sequence[np.ndarray] | None = None) -> np.ndarray:
        return self.logits_from_uint8(to_uint8_batch(images, self.config, lesion_masks))

    def predict_proba(self, images: Sequence[Image.Image],
                      lesion_masks: Sequence[np.ndarray] | None = None,
                      contexts: Sequence[PatientContext | None] | None = None) -> np.ndarray:
        """(N, n_classes) probabilities with the bundle's fitted temperature (the photo kind's, when the network
        tells kinds apart: ``skin_models.photo_kind``); rows sum to 1. A ``lesion_crop`` classifier needs each
        photo's boolean lesion mask (at the photo's size), e.g. from ``SegmenterPredictor``. ``contexts`` (one per
        photo, any field may be missing) adds the patient's age, sex, body site and account of the spot when the
        bundle has a context model (``skin_models.context``)."""
        from skin_models.photo_kind import read_outputs

        readings = read_outputs(self.predict_logits(images, lesion_masks), self.config)
        probabilities = np.stack([reading.probabilities for reading in readings])
        return with_context(probabilities, self.config, contexts)


class SegmenterPredictor(_Predictor):
    """Lesion probability maps and masks for a batch of photos, at each photo's own size."""

    task = "segmentation"

    def network_maps_from_uint8(self, batch: np.ndarray) -> np.ndarray:
        """(N, h, w) lesion probabilities at the network's input size for a uint8 NHWC batch."""
        logits = self._run(batch, spatial=True)
        from scipy.special import expit

        return expit(logits[:, 0]).astype(np.float32)

    def predict_probability_maps(self, images: Sequence[Image.Image]) -> list[np.ndarray]:
        """Per photo, an (H, W) float map of lesion probability aligned pixel for pixel with the photo."""
        maps = self.network_maps_from_uint8(to_uint8_batch(images, self.config))
        return [restore_probability_map(m, img.size, self.config) for m, img in zip(maps, images, strict=True)]

    def predict_masks(self, images: Sequence[Image.Image]) -> list[np.ndarray]:
        """Per photo, a cleaned boolean lesion mask (largest component, holes filled) at the photo's size."""
        maps = self.network_maps_from_uint8(to_uint8_batch(images, self.config))
        return [lesion_mask(m, img.size, self.config) for m, img in zip(maps, images, strict=True)]


def with_context(probabilities: np.ndarray, config: ModelConfig,
                 contexts: Sequence[PatientContext | None] | None) -> np.ndarray:
    """Photo-only probabilities (N, classes) → given each photo's context too, by the bundle's context model
    (unchanged without one, or where a photo's context is empty)."""
    if contexts is None or config.context is None:
        return probabilities
    return weigh(config.context, probabilities, contexts)


def weigh(model: ContextModel, probabilities: np.ndarray,
          contexts: Sequence[PatientContext | None]) -> np.ndarray:
    """Each row of photo-only probabilities weighed with its photo's context by ``model``."""
    if len(contexts) != len(probabilities):
        raise ValueError(f"{len(contexts)} contexts for {len(probabilities)} photos")
    return np.array([model.apply(row, context) for row, context in zip(probabilities, contexts, strict=True)],
                    dtype=np.float64).reshape(np.shape(probabilities))


def lesion_mask(network_map: np.ndarray, photo_size: tuple[int, int], config: ModelConfig) -> np.ndarray:
    """A segmenter's network-sized probability map → the cleaned boolean lesion mask on the photo's own pixels
    (``photo_size`` is PIL's (width, height)), with the bundle's mask threshold. What serving and evaluation use."""
    from skin_models.postprocess import clean_mask

    restored = restore_probability_map(np.asarray(network_map, dtype=np.float32), photo_size, config)
    return clean_mask(restored, threshold=config.mask_threshold)
