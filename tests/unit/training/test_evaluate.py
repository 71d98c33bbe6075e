"""Evaluating stored tiny models on a tiny synthetic data set."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from tests.fixtures.stores import make_tiny_bundle
from training.evaluate import EvaluationError, evaluate, json_safe
from training.registry import RegistryError, import_bundle_to_bentoml

pytestmark = pytest.mark.usefixtures("tmp_bentoml_home")


@pytest.fixture(scope="module")
def synthetic_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from training.synth import generate_synthetic_dataset

    out = tmp_path_factory.mktemp("synthetic") / "data"
    generate_synthetic_dataset(out, n=21, seed=0, size=(80, 60), progress=False)
    return out


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("eval-bundles")
    return (make_tiny_bundle(folder / "clf", synthetic=True),
            make_tiny_bundle(folder / "seg", "segmentation", synthetic=True))


def _assert_unit_interval_or_none(value: object, where: str) -> None:
    assert value is None or (isinstance(value, float | int) and 0.0 <= value <= 1.0), f"{where}={value!r}"


def test_evaluate_reports_every_metric_in_range(synthetic_data: Path, bundles: tuple[Path, Path],
                                                tmp_path: Path) -> None:
    clf_tag = import_bundle_to_bentoml(bundles[0], "skin-classifier", {"mlflow_run_id": "r1"})
    seg_tag = import_bundle_to_bentoml(bundles[1], "skin-segmenter")
    result = evaluate(synthetic_data, batch_size=16, device="cpu", progress=False)  # two batches, one partial
    text = json.dumps(result, allow_nan=False)  # NaN must have become null
    assert json.loads(text) == result

    expected = {"n_images", "balanced_accuracy", "accuracy", "per_class", "malignant_sensitivity",
                "malignant_specificity", "dice", "iou", "thresholded_jaccard", "n_masks", "confusion_matrix",
                "models", "data"}
    assert expected <= set(result)
    assert result["n_images"] == 21 and result["n_masks"] == 21
    for key in ("balanced_accuracy", "accuracy", "malignant_sensitivity", "malignant_specificity", "dice", "iou",
                "thresholded_jaccard"):
        assert result[key] is not None
        _assert_unit_interval_or_none(result[key], key)
    assert set(result["per_class"]) == {"mel", "nv", "bcc", "akiec", "bkl", "df", "vasc"}
    for code, stats in result["per_class"].items():
        for key in ("recall", "precision", "auc"):
            _assert_unit_interval_or_none(stats[key], f"{code}.{key}")
    assert sum(stats["support"] for stats in result["per_class"].values()) == 21
    low, high = result["intervals"]["balanced_accuracy"]
    assert 0.0 <= low <= result["balanced_accuracy"] <= high <= 1.0
    assert sum(map(sum, result["confusion_matrix"])) == 21
    assert result["models"]["classifier"]["tag"] == clf_tag
    assert result["models"]["classifier"]["synthetic"] is True
    assert result["models"]["classifier"]["mlflow_run_id"] == "r1"
    assert result["models"]["segmenter"]["tag"] == seg_tag
    assert result["data"]["path"] == str(synthetic_data.resolve()) and len(result["data"]["fingerprint"]) == 64
    assert any("SYNTHETIC" in w for w in result["warnings"])

    # One split of a split file; no segmenter.
    split_file = tmp_path / "splits.csv"
    with (synthetic_data / "GroundTruth.csv").open(newline="") as handle:
        ids = [row["image"] for row in csv.DictReader(handle)]
    with split_file.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["image", "lesion_id", "label", "split"])
        writer.writerows([i, "", "", "test" if n % 3 == 0 else "train"] for n, i in enumerate(ids))
    only_test = evaluate(synthetic_data, segmenter=None, split_file=split_file, split="test", device="cpu",
                         progress=False)
    assert only_test["n_images"] == 7 and only_test["n_masks"] == 0 and only_test["dice"] is None
    assert only_test["models"]["segmenter"] is None


def test_evaluate_errors_are_clear(synthetic_data: Path, tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="drskin register"):
        evaluate(synthetic_data, progress=False)
    with pytest.raises(EvaluationError, match="go together"):
        evaluate(synthetic_data, split="test", progress=False)


def test_json_safe_turns_nan_into_null() -> None:
    import numpy as np

    assert json_safe({"a": float("nan"), "b": [np.float32(0.5), math.inf], "c": np.int64(3)}) == {
        "a": None, "b": [0.5, None], "c": 3}


def test_predict_writes_an_isic_task3_submission(synthetic_data: Path, bundles: tuple[Path, Path],
                                                 tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from training.cli import app

    import_bundle_to_bentoml(bundles[0], "skin-classifier", {"mlflow_run_id": "r1"})
    folder = tmp_path / "photos"
    (folder / "part_2").mkdir(parents=True)
    photos = sorted((synthetic_data / "images").iterdir())[:5]
    for i, photo in enumerate(photos):  # nested folders are read too
        (folder / ("part_2" if i % 2 else "") / photo.name).write_bytes(photo.read_bytes())
    (folder / "notes.txt").write_text("not a photo")  # ignored: not an image suffix
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    out = tmp_path / "submission" / "pred.csv"
    result = CliRunner().invoke(app, ["predict", "--data", str(folder), "--csv", str(out), "--device", "cpu",
                                      "--batch-size", "2"])
    assert result.exit_code == 0, result.output
    assert "skipped broken.jpg" in result.output and "wrote 5 rows" in result.output
    with out.open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["image", "MEL", "NV", "BCC", "AKIEC", "BKL", "DF", "VASC"]
    assert sorted(row[0] for row in rows[1:]) == sorted(p.stem for p in photos)
    for row in rows[1:]:
        values = [float(v) for v in row[1:]]
        assert all(0.0 <= v <= 1.0 for v in values) and math.isclose(sum(values), 1.0, abs_tol=1e-5)


def test_predict_refuses_an_empty_folder_and_clashing_names(tmp_path: Path) -> None:
    from training.evaluate import list_images

    (tmp_path / "a").mkdir()
    with pytest.raises(EvaluationError, match="holds no images"):
        list_images(tmp_path / "a")
    (tmp_path / "a" / "x.jpg").write_bytes(b"")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "x.png").write_bytes(b"")
    with pytest.raises(EvaluationError, match="two images are named 'x'"):
        list_images(tmp_path)
