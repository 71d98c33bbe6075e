"""Batch predictors: a list of photos in, one forward pass, probabilities or masks out.

The network runs in ONNX Runtime when the bundle carries an export and ``backend`` allows it (faster on CPU) —
its int8 version when the bundle's ``config.int8`` says it kept the quality (``skin_models.bundle.servable_int8``),
``int8`` allows it and the device is the CPU — otherwise in PyTorch; on CUDA when present. The ONNX path imports no
torch (the service's image has none); PyTorch is imported only for bundles served by it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from PIL import Image

from skin_models import tta
from skin_models.bundle import (
    CLASS_MAPS_OUTPUT,
    INT8_ONNX_FILE,
    ONNX_FILE,
    has_onnx,
    load_config,
    servable_int8,
)
from skin_models.config import ModelConfig
from skin_models.context import ContextModel, PatientContext
from skin_models.device import device_kind
from skin_models.preprocess import normalised_array, restore_probability_map, to_uint8_batch

Backend = Literal["auto", "torch", "onnx"]


def served_backend(bundle: Path, config: ModelConfig, device: str, backend: Backend, *, int8: bool = True) -> str:
    """Which network of a bundle runs (``onnx-int8``, ``onnx`` or ``torch``) on ``device`` (``cpu``/``cuda``):
    ONNX Runtime when asked, or by default on the CPU when there is an export; its int8 version on the CPU when
    the bundle kept one (``servable_int8``) and ``int8`` allows it."""
    use_onnx = backend == "onnx" or (backend == "auto" and device == "cpu" and has_onnx(bundle))
    if backend == "onnx" and not has_onnx(bundle):
        raise FileNotFoundError(f"{bundle} has no {ONNX_FILE}; use backend 'torch' or re-register the model")
    if not use_onnx:
        return "torch"
    return "onnx-int8" if int8 and device == "cpu" and servable_int8(bundle, config) else "onnx"


class _Runner:
    """Runs a normalised float32 NCHW batch through ONNX Runtime or PyTorch; returns the network's outputs as numpy
    arrays: the logits, then a classifier's class maps when it has them (``has_class_maps``)."""

    def __init__(self, bundle: Path, device: str, backend: Backend, *, threads: int = 0, int8: bool = True) -> None:
        self.config = load_config(bundle)
        self.device = device_kind(device)
        self.backend = served_backend(bundle, self.config, self.device, backend, int8=int8)
        use_onnx, use_int8 = self.backend.startswith("onnx"), self.backend == "onnx-int8"
        self._network: Any = None
        if use_onnx:
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.intra_op_num_threads = threads  # 0: ONNX Runtime's default (one per core)
            providers = ["CUDAExecutionProvider", "CPUExecutionProvider"] if self.device == "cuda" else [
                "CPUExecutionProvider"]
            onnx_file = Path(bundle) / (INT8_ONNX_FILE if use_int8 else ONNX_FILE)
            self.session = ort.InferenceSession(str(onnx_file), options, providers=providers)
            self.input_name = self.session.get_inputs()[0].name
            self.has_class_maps = CLASS_MAPS_OUTPUT in [output.name for output in self.session.get_outputs()]
        else:
            self._network, self.has_class_maps = _torch_network(bundle, device, threads)

    def __call__(self, batch: np.ndarray) -> list[np.ndarray]:
        if self._network is None:
            return [np.asarray(out) for out in self.session.run(None, {self.input_name: batch})]
        import torch

        with torch.inference_mode():
            outputs = self._network(torch.from_numpy(batch).to(next(self._network.parameters()).device))
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        return [out.float().cpu().numpy() for out in outputs]


def _torch_network(bundle: Path, device: str, threads: int) -> tuple[Any, bool]:
    """The bundle's PyTorch network on ``device``, returning its class maps too when it has them."""
    import torch

    from skin_models.bundle import load_bundle
    from skin_models.class_maps import WithClassMaps, supports_cam
    from skin_models.device import resolve_device

    if threads:
        torch.set_num_threads(threads)
    model, config = load_bundle(bundle, "cpu")
    with_maps = config.task == "classification" and supports_cam(model, config.input_size)
    network = WithClassMaps(model, config.input_size) if with_maps else model
    return network.to(resolve_device(device)).eval(), with_maps


class _Predictor:
    """What both predictors share: loading a bundle and checking it holds the right kind of model.

    ``threads``: the network's intra-op threads (0: the runtime's default); ``int8``: whether a quantised network
    that passed its quality check may be served (the service's ``DRSKIN_INT8``)."""

    task: str = ""

    def __init__(self, bundle: Path, device: str = "auto", backend: Backend = "auto", *, threads: int = 0,
                 int8: bool = True) -> None:
        self._runner = _Runner(Path(bundle), device, backend, threads=threads, int8=int8)
        self.config: ModelConfig = self._runner.config
        if self.config.task != self.task:
            kind = "classifier" if self.task == "classification" else "segmenter"
            raise ValueError(f"{bundle} holds a {self.config.task} model, not a {kind}")

    @property
    def backend(self) -> str:
        return self._runner.backend

    def _outputs(self, batch: np.ndarray, *, spatial: bool) -> list[np.ndarray]:
        """The network's outputs for a uint8 NHWC batch, each averaged over the bundle's test-time views (maps
        mirrored back first: the first output is spatial when ``spatial``, class maps always are)."""
        views = self.config.tta
        outputs = self._runner(tta.expand(normalised_array(batch, self.config), views))
        return [tta.merge(out, views, spatial=spatial or index > 0) for index, out in enumerate(outputs)]

    def _run(self, batch: np.ndarray, *, spatial: bool) -> np.ndarray:
        """The network's (first) output for a uint8 NHWC batch, averaged over the bundle's test-time views."""
        return self._outputs(batch, spatial=spatial)[0]


class ClassifierPredictor(_Predictor):
    """Class probabilities for a batch of photos."""

    task = "classification"

    def logits_from_uint8(self, batch: np.ndarray) -> np.ndarray:
        """Logits for a uint8 NHWC batch already at the network's input size."""
        return self._run(batch, spatial=False)

    @property
    def has_class_maps(self) -> bool:
        """Whether the network's pass also gives class activation maps (``skin_models.explain``): an ONNX export
        with a ``class_maps`` output, or a PyTorch network that has them."""
        return bool(self._runner.has_class_maps)

    def logits_and_maps_from_uint8(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Logits and (N, classes, h, w) class activation maps (None without them) of a uint8 NHWC batch at the
        network's input size, from one pass over the bundle's test-time views (each view's maps mirrored back)."""
        outputs = self._outputs(batch, spatial=False)
        return outputs[0], outputs[1] if len(outputs) > 1 else None

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
