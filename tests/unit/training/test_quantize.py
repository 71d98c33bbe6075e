"""``drskin quantize``: int8 networks measured against fp32 and kept only within the limit, then served."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from skin_models.bundle import INT8_ONNX_FILE, ONNX_FILE, export_onnx, load_bundle, load_config
from tests.fixtures.stores import make_tiny_bundle


def _with_onnx(bundle: Path) -> Path:
    model, config = load_bundle(bundle)
    export_onnx(model, config, bundle / ONNX_FILE)
    return bundle


@pytest.fixture(scope="module")
def split_file(synth_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from training.data import load_records
    from training.splits import make_splits, save_splits

    records = load_records(synth_dir)
    path = tmp_path_factory.mktemp("splits") / "splits.csv"
    save_splits(path, make_splits(records, seed=0), records)
    return path


def test_a_kept_int8_classifier_becomes_the_served_version(synth_dir: Path, split_file: Path, tmp_path: Path,
                                                           tmp_bentoml_home: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from skin_models.predict import ClassifierPredictor
    from training import quantize
    from training.registry import bentoml_model_path, import_bundle_to_bentoml, list_store_models

    bundle = _with_onnx(make_tiny_bundle(tmp_path / "classifier", synthetic=True))
    source = import_bundle_to_bentoml(bundle, "skin-classifier", {"mlflow_run_id": "abc", "synthetic": True})
    monkeypatch.setitem(quantize.LIMITS, "classification", ("balanced_accuracy", 1.0))  # any drop passes
    result = quantize.quantize_bundle(bentoml_model_path(source), synth_dir, split_file, calibration=16,
                                      source=source, progress=False)
    val_photos = sum(1 for row in csv.DictReader(split_file.open()) if row["split"] == "val")
    assert result.kept and result.tag and result.tag != source
    assert result.record.metric == "balanced_accuracy" and result.record.images == val_photos
    assert result.record.calibration_images == 16 and 0.0 <= result.record.int8 <= 1.0
    assert result.record.sensitivity is not None and all(0.0 <= v <= 1.0 for v in result.record.sensitivity)
    assert result.int8_mb < result.fp32_mb  # int8 weights: a quarter of the bytes, give or take the graph

    served = bentoml_model_path("skin-classifier:latest")
    assert served == bentoml_model_path(result.tag)
    config = load_config(served)
    assert config.int8 == result.record and (served / INT8_ONNX_FILE).exists() and (served / ONNX_FILE).exists()
    [listed] = [m for m in list_store_models() if m.tag == result.tag]
    assert listed.int8 and listed.metadata["quantized_from"] == source and listed.metadata["mlflow_run_id"] == "abc"

    assert ClassifierPredictor(served, device="cpu").backend == "onnx-int8"
    assert ClassifierPredictor(served, device="cpu", int8=False).backend == "onnx"  # the service's DRSKIN_INT8=off
    assert ClassifierPredictor(bentoml_model_path(source), device="cpu").backend == "onnx"  # the source is untouched

    # Quantising the kept version again measures against its fp32 network, not against its own int8 one.
    again = quantize.quantize_bundle(served, synth_dir, split_file, calibration=16, source=result.tag,
                                     import_to_store=False, progress=False)
    assert again.record.fp32 == result.record.fp32 and again.record.sensitivity is not None
    assert again.record.sensitivity[0] == result.record.sensitivity[0]


def test_a_network_past_the_limit_is_reported_and_nothing_is_written(synth_dir: Path, split_file: Path,
                                                                     tmp_path: Path, tmp_bentoml_home: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from training import quantize
    from training.registry import list_store_models

    bundle = _with_onnx(make_tiny_bundle(tmp_path / "segmenter", task="segmentation", synthetic=True))
    monkeypatch.setitem(quantize.LIMITS, "segmentation", ("dice", -1.0))  # no drop, not even zero, passes
    result = quantize.quantize_bundle(bundle, synth_dir, split_file, calibration=8, progress=False)
    assert not result.kept and result.tag is None
    assert result.record.metric == "dice" and result.record.images > 0 and result.record.sensitivity is None
    assert "NOT kept" in result.summary
    assert not (bundle / INT8_ONNX_FILE).exists() and load_config(bundle).int8 is None
    assert list_store_models() == []


def test_int8_needs_both_the_file_and_the_record(tmp_path: Path) -> None:
    from skin_models.config import Int8Record
    from skin_models.predict import ClassifierPredictor

    bundle = _with_onnx(make_tiny_bundle(tmp_path / "c", int8=Int8Record(
        metric="balanced_accuracy", split="test", images=10, fp32=0.5, int8=0.5, limit=0.01, calibration_images=4)))
    assert ClassifierPredictor(bundle, device="cpu").backend == "onnx"  # a record without the file: fp32
    (bundle / INT8_ONNX_FILE).write_bytes((bundle / ONNX_FILE).read_bytes())
    assert ClassifierPredictor(bundle, device="cpu").backend == "onnx-int8"
    assert ClassifierPredictor(bundle, device="cpu", backend="torch").backend == "torch"


def test_a_bundle_without_onnx_or_on_another_split_is_refused(synth_dir: Path, split_file: Path,
                                                             tmp_path: Path) -> None:
    from training.quantize import QuantizeError, quantize_bundle
    from training.splits import split_fingerprint

    bare = make_tiny_bundle(tmp_path / "bare")
    with pytest.raises(QuantizeError, match=r"no model\.onnx"):
        quantize_bundle(bare, synth_dir, split_file, progress=False)
    other = _with_onnx(make_tiny_bundle(tmp_path / "other", extra={"split_fingerprint": "0" * 16}))
    assert split_fingerprint(split_file) != "0" * 16
    with pytest.raises(QuantizeError, match="not the split"):
        quantize_bundle(other, synth_dir, split_file, progress=False)
