"""ONNX Runtime int8 for the served networks (issue 17, item 7), measured, not assumed (not a test).

    .venv/bin/python benchmarks/quantize.py --split-file var/runs/context1/splits.csv [--calibration 256] [--json PATH]

For the served classifier and segmenter (``skin-classifier:latest`` / ``skin-segmenter:latest``): static int8
quantisation of each bundle's ``model.onnx`` (QDQ, per-channel weights, min-max calibration on training-split photos),
then, side by side on the test split, through the service's own chain (``skin_models.pipeline``): the classifier's
photo-only balanced accuracy and the segmenter's Dice with fp32 and with int8, and the forward time per image at
batch 1 and 8. int8 is worth shipping only when balanced accuracy drops by at most 0.01 and Dice by at most 0.003.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
DATA = REPO_ROOT.parent / "shared" / "data" / "ham10000-dev"


class Calibration:
    """``onnxruntime.quantization.CalibrationDataReader`` over network-sized training photos."""

    def __init__(self, batches: list[np.ndarray], input_name: str) -> None:
        self.batches = iter(batches)
        self.input_name = input_name

    def get_next(self) -> dict[str, np.ndarray] | None:
        batch = next(self.batches, None)
        return None if batch is None else {self.input_name: batch}


def quantize(bundle: Path, out: Path, photos: list[Any]) -> Path:
    """A copy of ``bundle`` in ``out`` whose model.onnx is the int8 (QDQ) version calibrated on ``photos``."""
    import onnxruntime as ort
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from skin_models.bundle import ONNX_FILE, load_config
    from skin_models.preprocess import normalise, to_uint8_batch

    config = load_config(bundle)
    if config.resize_policy == "lesion_crop":
        raise SystemExit(f"{bundle}: a lesion_crop classifier would need calibration on lesion crops; not supported")
    shutil.copytree(bundle, out)
    prepared = out / "prepared.onnx"
    quant_pre_process(str(bundle / ONNX_FILE), str(prepared), skip_symbolic_shape=True)
    input_name = ort.InferenceSession(str(prepared), providers=["CPUExecutionProvider"]).get_inputs()[0].name
    batches = [normalise(to_uint8_batch(photos[i : i + 16], config), config).numpy()
               for i in range(0, len(photos), 16)]
    quantize_static(str(prepared), str(out / ONNX_FILE), Calibration(batches, input_name),
                    quant_format=QuantFormat.QDQ, per_channel=True, activation_type=QuantType.QUInt8,
                    weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax)
    prepared.unlink()
    return out


def forward_ms(predictor: Any, batch: np.ndarray, repeats: int = 20) -> float:
    run = predictor.logits_from_uint8 if hasattr(predictor, "logits_from_uint8") else \
        predictor.network_maps_from_uint8
    run(batch)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run(batch)
        times.append((time.perf_counter() - start) * 1000 / len(batch))
    return round(statistics.median(times), 2)


def evaluate(classifier_bundle: Path, segmenter_bundle: Path, records: list[Any]) -> dict[str, float]:
    from skin_models.labels import class_index
    from skin_models.pipeline import Diagnoser
    from skin_models.predict import ClassifierPredictor, SegmenterPredictor
    from skin_models.preprocess import to_uint8_batch
    from training.data import load_image, load_mask
    from training.metrics import classification_metrics, segmentation_metrics

    classifier = ClassifierPredictor(classifier_bundle, backend="onnx")
    segmenter = SegmenterPredictor(segmenter_bundle, backend="onnx")
    diagnoser = Diagnoser(classifier, segmenter)
    probabilities, predicted, truth = [], [], []
    for start in range(0, len(records), 32):
        batch = records[start : start + 32]
        images = [load_image(r) for r in batch]
        for record, image, found in zip(batch, images, diagnoser.diagnose(images), strict=True):
            probabilities.append(found.photo_probabilities)
            if record.mask_path is not None and found.mask is not None:
                predicted.append(found.mask)
                truth.append(load_mask(record, image.size))
    targets = np.array([class_index(r.label) for r in records])
    result = classification_metrics(targets, np.stack(probabilities))
    sample = [load_image(r) for r in records[:8]]
    net_c = to_uint8_batch(sample, classifier.config)
    net_s = to_uint8_batch(sample, segmenter.config)
    return {"balanced_accuracy": round(result["balanced_accuracy"], 4),
            "malignant_auc": round(result["malignant_auc"], 4),
            "dice": round(segmentation_metrics(predicted, truth)["dice"], 4),
            "classifier_ms_batch1": forward_ms(classifier, net_c[:1]),
            "classifier_ms_batch8": forward_ms(classifier, net_c),
            "segmenter_ms_batch1": forward_ms(segmenter, net_s[:1]),
            "segmenter_ms_batch8": forward_ms(segmenter, net_s)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--split-file", type=Path, required=True)
    parser.add_argument("--calibration", type=int, default=128, help="training photos to calibrate on")
    parser.add_argument("--classifier", default="skin-classifier:latest")
    parser.add_argument("--segmenter", default="skin-segmenter:latest")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    import random

    from training.data import load_image, load_records
    from training.registry import bentoml_model_path
    from training.splits import load_splits

    records = load_records(args.data)
    splits = load_splits(args.split_file)
    train = [r for r in records if splits.get(r.image_id) == "train"]
    test = [r for r in records if splits.get(r.image_id) == "test"]
    calibration = [load_image(r) for r in random.Random(0).sample(train, min(args.calibration, len(train)))]
    classifier, segmenter = bentoml_model_path(args.classifier), bentoml_model_path(args.segmenter)
    with tempfile.TemporaryDirectory(prefix="drskin-int8-") as tmp:
        int8_classifier = quantize(classifier, Path(tmp) / "classifier", calibration)
        int8_segmenter = quantize(segmenter, Path(tmp) / "segmenter", calibration)
        sizes = {"classifier_mb": [round((p / "model.onnx").stat().st_size / 2**20, 1)
                                   for p in (classifier, int8_classifier)],
                 "segmenter_mb": [round((p / "model.onnx").stat().st_size / 2**20, 1)
                                  for p in (segmenter, int8_segmenter)]}
        fp32 = evaluate(classifier, segmenter, test)
        int8 = evaluate(int8_classifier, int8_segmenter, test)
    drop_ba = fp32["balanced_accuracy"] - int8["balanced_accuracy"]
    drop_dice = fp32["dice"] - int8["dice"]
    keep = drop_ba <= 0.01 and drop_dice <= 0.003
    report = {"test_images": len(test), "calibration_images": len(calibration), "fp32": fp32, "int8": int8,
              "sizes_mb_fp32_int8": sizes, "balanced_accuracy_drop": round(drop_ba, 4),
              "dice_drop": round(drop_dice, 4), "keep_int8": keep}
    print("| | fp32 | int8 |\n|---|---|---|")
    for key in fp32:
        print(f"| {key} | {fp32[key]} | {int8[key]} |")
    print(f"\nbalanced accuracy drop {drop_ba:+.4f}, Dice drop {drop_dice:+.4f}: "
          f"{'int8 is worth shipping' if keep else 'int8 is NOT worth shipping (past the limits)'}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
