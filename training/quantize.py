"""int8 networks for CPU serving, kept only when they keep the quality: ``drskin quantize``.

For one stored model (a BentoML tag or a bundle folder): static int8 quantisation of its ``model.onnx`` with ONNX
Runtime (QDQ, per-channel int8 weights, uint8 activations, min-max ranges calibrated on training-split photos),
then fp32 and int8 side by side on held-out photos — the classifier's answer as served (with the age, sex and body
site the data records, when it has a context model): balanced accuracy, and the malignant sensitivity at its triage
threshold; the segmenter's Dice — and the decision by a rule set before measuring (issue 17): the int8 network is
kept only when balanced accuracy (and the sensitivity) drop by at most 0.01, or Dice by at most 0.003. The answer
as served, not the photo alone: the triage threshold and the context weight were chosen on fp32 probabilities,
and an int8 network that shifts them costs more than its photo-alone accuracy shows (docs/performance.md).

A kept network is written into a copy of the bundle as ``model.int8.onnx`` with the measurement in ``config.int8``
and imported into the BentoML store as a new version (so ``:latest`` serves it); the fp32 ``model.onnx`` and the
weights stay (GPU, explanation maps, ``DRSKIN_INT8=off``). A network that fails the rule is reported and nothing is
written.
"""

from __future__ import annotations

import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from skin_models.bundle import INT8_ONNX_FILE, ONNX_FILE, load_config
from skin_models.config import Int8Record, ModelConfig

# The largest drop accepted, per task, and the metric it is measured in (issue 17, item 7).
LIMITS: dict[str, tuple[str, float]] = {"classification": ("balanced_accuracy", 0.01),
                                        "segmentation": ("dice", 0.003)}


class QuantizeError(ValueError):
    """The model or the data cannot be quantised as asked; the message says why."""


@dataclass(frozen=True)
class QuantizeResult:
    task: str
    record: Int8Record
    kept: bool
    fp32_ms: float  # forward time per image, batch 8, median
    int8_ms: float
    fp32_mb: float
    int8_mb: float
    tag: str | None  # the new BentoML version when kept and imported

    @property
    def summary(self) -> str:
        verdict = "kept" if self.kept else f"NOT kept (a drop past {self.record.limit})"
        sensitivity = "" if self.record.sensitivity is None else (
            f", malignant sensitivity {self.record.sensitivity[0]:.4f} -> {self.record.sensitivity[1]:.4f}")
        return (f"{self.task}: {self.record.metric} {self.record.fp32:.4f} (fp32) -> {self.record.int8:.4f} (int8) on "
                f"{self.record.images} {self.record.split} photos, drop {self.record.drop:+.4f}{sensitivity}: "
                f"{verdict}; "
                f"forward {self.fp32_ms:.1f} -> {self.int8_ms:.1f} ms/image (batch 8), "
                f"{self.fp32_mb:.1f} -> {self.int8_mb:.1f} MB")


class _Calibration:
    """``onnxruntime.quantization.CalibrationDataReader`` over normalised, network-sized batches."""

    def __init__(self, batches: list[np.ndarray], input_name: str) -> None:
        self.batches = iter(batches)
        self.input_name = input_name

    def get_next(self) -> dict[str, np.ndarray] | None:
        batch = next(self.batches, None)
        return None if batch is None else {self.input_name: batch}


def quantize_onnx(source: Path, target: Path, config: ModelConfig, photos: Sequence[Any]) -> Path:
    """``target``: the int8 (QDQ) version of the ONNX file ``source``, calibrated on ``photos`` (PIL images)."""
    import onnxruntime as ort
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from skin_models.preprocess import normalise, to_uint8_batch

    if not photos:
        raise QuantizeError("no calibration photos")
    with tempfile.TemporaryDirectory(prefix="drskin-int8-") as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)
        input_name = ort.InferenceSession(str(prepared), providers=["CPUExecutionProvider"]).get_inputs()[0].name
        batches = [normalise(to_uint8_batch(list(photos[i : i + 16]), config), config).numpy()
                   for i in range(0, len(photos), 16)]
        quantize_static(str(prepared), str(target), _Calibration(batches, input_name),
                        quant_format=QuantFormat.QDQ, per_channel=True, activation_type=QuantType.QUInt8,
                        weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax)
    return target


def _forward_ms(run: Callable[[np.ndarray], Any], batch: np.ndarray, repeats: int = 10) -> float:
    run(batch)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run(batch)
        times.append((time.perf_counter() - start) * 1000 / len(batch))
    return statistics.median(times)


def measure(bundle: Path, records: Sequence[Any], *, progress: bool = True) -> tuple[float, float | None, float]:
    """The bundle's quality on ``records`` (ONNX Runtime, as served: a classifier with the records' context) —
    (balanced accuracy or Dice, the malignant sensitivity at the triage threshold or None) — and its forward ms
    per image."""
    from tqdm.auto import tqdm

    from skin_models.labels import class_index
    from skin_models.predict import ClassifierPredictor, SegmenterPredictor, with_context
    from skin_models.preprocess import to_uint8_batch
    from training.data import load_image, load_mask
    from training.metrics import classification_metrics, segmentation_metrics

    config = load_config(bundle)
    if config.task == "classification":
        classifier = ClassifierPredictor(bundle, device="cpu", backend="onnx")
        rows = [classifier.predict_proba([load_image(r) for r in records[i : i + 64]])
                for i in tqdm(range(0, len(records), 64), desc="classifying", disable=not progress, leave=False)]
        targets = np.array([class_index(r.label) for r in records])
        served = with_context(np.concatenate(rows), config, [r.context for r in records])
        found = classification_metrics(targets, served, triage_threshold=config.triage_threshold)
        value, sensitivity = float(found["balanced_accuracy"]), float(found["malignant_sensitivity"])
        run: Callable[[np.ndarray], Any] = classifier.logits_from_uint8
    else:
        segmenter = SegmenterPredictor(bundle, device="cpu", backend="onnx")
        with_masks = [r for r in records if r.mask_path is not None]
        if not with_masks:
            raise QuantizeError("none of the held-out photos has a lesion mask: the segmenter cannot be measured")
        predicted, truth = [], []
        for i in tqdm(range(0, len(with_masks), 64), desc="segmenting", disable=not progress, leave=False):
            images = [load_image(r) for r in with_masks[i : i + 64]]
            predicted += segmenter.predict_masks(images)
            truth += [load_mask(r, image.size) for r, image in zip(with_masks[i : i + 64], images, strict=True)]
        value, sensitivity = float(segmentation_metrics(predicted, truth)["dice"]), None
        run = segmenter.network_maps_from_uint8
        records = with_masks
    sample = to_uint8_batch([load_image(r) for r in records[:8]], config)
    return value, sensitivity, _forward_ms(run, sample)


def quantize_bundle(bundle: Path, data: Path, split_file: Path, *, calibration: int = 128, split: str = "val",
                    source: str = "", import_to_store: bool = True, progress: bool = True) -> QuantizeResult:
    """Quantise, measure fp32 against int8 on ``split``, and keep the int8 network only within the limit."""
    from training.data import load_image
    from training.splits import records_of_the_split

    bundle = Path(bundle)
    config = load_config(bundle)
    if not (bundle / ONNX_FILE).exists():
        raise QuantizeError(f"{source or bundle} has no {ONNX_FILE}: register it with ONNX first (drskin register)")
    if config.task == "classification" and config.resize_policy == "lesion_crop":
        raise QuantizeError(f"{source or bundle} looks at lesion crops: calibrating it would need the segmenter's "
                            "crops; not supported")
    by_split = records_of_the_split(data, split_file, config.extra.get("split_fingerprint"), source or str(bundle),
                                    QuantizeError)
    train, held_out = by_split["train"], by_split.get(split, [])
    if not train or not held_out:
        raise QuantizeError(f"{split_file} leaves no training or {split} photos of {data}")
    metric, limit = LIMITS[config.task]
    chosen = random.Random(0).sample(train, min(calibration, len(train)))
    with tempfile.TemporaryDirectory(prefix="drskin-quantize-") as tmp:
        copy = Path(tmp) / "bundle"
        shutil.copytree(bundle, copy)
        (copy / INT8_ONNX_FILE).unlink(missing_ok=True)  # a bundle quantised before: start again from fp32
        config = config.model_copy(update={"int8": None})
        config.save(copy / "config.json")
        quantize_onnx(bundle / ONNX_FILE, copy / INT8_ONNX_FILE, config, [load_image(r) for r in chosen])
        # Each side measured through the same ONNX path, from a folder holding only that network.
        fp32_only, int8_only = Path(tmp) / "fp32", Path(tmp) / "int8"
        for folder, network in ((fp32_only, bundle / ONNX_FILE), (int8_only, copy / INT8_ONNX_FILE)):
            folder.mkdir()
            shutil.copy2(copy / "config.json", folder / "config.json")
            shutil.copy2(bundle / "model.safetensors", folder / "model.safetensors")
            shutil.copy2(network, folder / ONNX_FILE)
        fp32_value, fp32_sensitivity, fp32_ms = measure(fp32_only, held_out, progress=progress)
        int8_value, int8_sensitivity, int8_ms = measure(int8_only, held_out, progress=progress)
        record = Int8Record(metric=metric, split=split, images=len(held_out) if config.task == "classification"
                            else sum(r.mask_path is not None for r in held_out),
                            fp32=round(fp32_value, 4), int8=round(int8_value, 4), limit=limit,
                            sensitivity=None if fp32_sensitivity is None or int8_sensitivity is None else
                            (round(fp32_sensitivity, 4), round(int8_sensitivity, 4)),
                            calibration_images=len(chosen))
        sensitivity_drop = 0.0 if record.sensitivity is None else record.sensitivity[0] - record.sensitivity[1]
        kept = record.drop <= limit + 1e-12 and sensitivity_drop <= limit + 1e-12
        tag = None
        if kept:
            config.model_copy(update={"int8": record}).save(copy / "config.json")
            if import_to_store:
                tag = _import(copy, bundle, source)
        return QuantizeResult(task=config.task, record=record, kept=kept, fp32_ms=fp32_ms, int8_ms=int8_ms,
                              fp32_mb=(bundle / ONNX_FILE).stat().st_size / 2**20,
                              int8_mb=(copy / INT8_ONNX_FILE).stat().st_size / 2**20, tag=tag)


def _import(bundle_dir: Path, source_bundle: Path, source: str) -> str:
    """The kept bundle as a new version of the same BentoML model, with the source's metadata."""
    import bentoml
    from bentoml.exceptions import NotFound

    from training import tracking
    from training.registry import import_bundle_to_bentoml

    config = load_config(bundle_dir)
    metadata: dict[str, Any] = {}
    if source and not Path(source).is_dir():
        try:
            metadata = dict(bentoml.models.get(source).info.metadata or {})
        except NotFound:
            metadata = {}
    metadata.update({"config": config.model_dump(mode="json"), "int8": config.int8.model_dump() if config.int8
                     else None, "quantized_from": source or str(source_bundle)})
    return import_bundle_to_bentoml(bundle_dir, tracking.MODEL_NAMES[config.task], metadata)
