"""``drskin register``, ``evaluate``, ``predict`` and ``models``: from an MLflow run to the served models.

Add them to the main app with ``register_commands(app)``. Heavy libraries (torch, mlflow, bentoml) are imported
inside the commands so that ``drskin --help`` stays fast.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

_REGISTER_HELP = (
    "Register an MLflow training run: export ONNX (checked against PyTorch), add the bundle as a new version of "
    "skin-classifier / skin-segmenter in the MLflow registry, move the alias 'champion' to it when its selection "
    "metric (best_val_balanced_accuracy / best_val_dice) beats the current champion's, and import it into the "
    "BentoML model store.\n\n"
    "Only champions are imported into BentoML (unless --import-anyway), so the store's ':latest' (what the service "
    "serves unless DRSKIN_CLASSIFIER / DRSKIN_SEGMENTER pin a tag) is always the champion. A model trained on "
    "synthetic data never displaces a champion trained on real data unless --force."
)
_EVALUATE_HELP = (
    "Run the stored BentoML models on a data folder (optionally one split of a split file) and report ISIC "
    "metrics: balanced accuracy, per-class recall/precision/AUC, malignant sensitivity/specificity at the "
    "classifier's triage threshold, and Dice / IoU / thresholded Jaccard on the images that have a mask."
)
_PREDICT_HELP = (
    "Class probabilities of the stored classifier for every photo in a folder, written as an ISIC 2018 Task 3 "
    "submission (image,MEL,NV,BCC,AKIEC,BKL,DF,VASC; each row sums to 1), with a progress bar. Files that "
    "cannot be read are skipped and listed."
)
_CALIBRATE_HELP = (
    "Fit the not-a-lesion check (a Gaussian over colour and texture statistics of the training photos), choose "
    "its threshold on the validation photos, and report how many real validation and test photos the verdict "
    "refuses (and why) and how well it tells generated non-lesion photos apart (AUROC, share refused)."
)
_QUANTIZE_HELP = (
    "int8 for CPU serving: quantise a stored model's ONNX network (ONNX Runtime, static, calibrated on training "
    "photos), measure fp32 and int8 side by side on the validation split (classifier: the answer as served, with the "
    "recorded age/sex/site: balanced accuracy and malignant sensitivity; segmenter: Dice), and keep the int8 network "
    "only when each drops by at most 0.01 (classifier) or 0.003 (Dice): then it is imported as a new version of "
    "the model (it becomes ':latest' and is served; "
    "DRSKIN_INT8=off serves fp32 again). Otherwise nothing is written."
)
_MODELS_HELP = (
    "List the skin-classifier / skin-segmenter models in the BentoML store with their metrics, synthetic flag and "
    "MLflow version, and which ones the service would serve (DRSKIN_CLASSIFIER / DRSKIN_SEGMENTER, else ':latest')."
)


def _out() -> Console:
    # Created per call so that the current sys.stdout is used (test runners swap it). Piped output gets room for
    # whole tags instead of rich's 80-column fallback.
    console = Console(highlight=False)
    if not console.is_terminal:
        console.width = max(console.width, 140)
    return console


def _fail(message: str) -> typer.Exit:
    Console(stderr=True, highlight=False).print(f"[bold red]error:[/] {message}", markup=True, soft_wrap=True)
    return typer.Exit(code=1)


_SHORT_METRIC = {"best_val_balanced_accuracy": "bal. acc", "best_val_dice": "dice"}


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def register(
    run_id: Annotated[str, typer.Argument(help="MLflow run id of a finished `drskin train` run")],
    force: Annotated[bool, typer.Option("--force", help="make this version champion whatever its metric")] = False,
    onnx: Annotated[bool, typer.Option("--onnx/--no-onnx", help="export and verify model.onnx into the bundle")] = True,
    import_anyway: Annotated[bool, typer.Option(
        "--import-anyway", help="import into BentoML even when not champion (it then is ':latest' there)")] = False,
) -> None:
    import os

    from training.registry import RegistryError, register_run

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # a bundle is three files: no bars
    try:
        outcome = register_run(run_id, force=force, onnx=onnx, import_anyway=import_anyway)
    except RegistryError as exc:
        raise _fail(str(exc)) from None
    out = _out()
    out.print(str(outcome), markup=False)
    if outcome.synthetic:
        out.print("note: trained on SYNTHETIC data; it knows nothing about real skin lesions")
    if not outcome.champion and not outcome.bentoml_tag:
        out.print(f"the champion stays v{outcome.previous_champion}; use --force to promote this version anyway")
    elif outcome.bentoml_tag and not outcome.champion:
        out.print(f"warning: {outcome.bentoml_tag} is not champion but is now ':latest' in the BentoML store")


def evaluate(
    data: Annotated[Path, typer.Option("--data", help="data folder in the HAM10000 layout", exists=True,
                                       file_okay=False, resolve_path=True)],
    classifier: Annotated[str, typer.Option(help="BentoML tag of the classifier")] = "skin-classifier:latest",
    segmenter: Annotated[str, typer.Option(help="BentoML tag of the segmenter")] = "skin-segmenter:latest",
    no_segmenter: Annotated[bool, typer.Option("--no-segmenter", help="evaluate the classifier only")] = False,
    split_file: Annotated[Path | None, typer.Option(help="split CSV from `drskin data split` or training",
                                                    exists=True, dir_okay=False)] = None,
    split: Annotated[str | None, typer.Option(help="the split of --split-file to evaluate: train, val or test")] = None,
    json_file: Annotated[Path | None, typer.Option("--json", help="also write the full result as JSON here")] = None,
    device: Annotated[str, typer.Option(help="auto | cpu | cuda")] = "auto",
    batch_size: Annotated[int, typer.Option(help="images per forward pass")] = 32,
    classifier_tta: Annotated[str | None, typer.Option(
        help="override the classifier's test-time views (none | hflip | flips) to measure their effect")] = None,
    segmenter_tta: Annotated[str | None, typer.Option(
        help="override the segmenter's test-time views (none | hflip | flips)")] = None,
    context: Annotated[bool, typer.Option(
        "--context/--no-context", help="weigh the age, sex and body site the data records (when the classifier has "
        "a context model); the photo-only figures are printed beside them")] = True,
    phone_data: Annotated[list[Path] | None, typer.Option(
        "--phone-data", help="phone-photo folder(s) evaluated with --data: dermoscopic and phone figures side by "
        "side, the phone ones per skin type", exists=True, file_okay=False, resolve_path=True)] = None,
) -> None:
    from training.data import DatasetError
    from training.evaluate import EvaluationError
    from training.evaluate import evaluate as run_evaluation
    from training.registry import RegistryError

    try:
        result = run_evaluation([data, *(phone_data or [])], classifier, None if no_segmenter else segmenter,
                                batch_size=batch_size,
                                device=device, split_file=split_file, split=split,
                                tta={"classifier": classifier_tta, "segmenter": segmenter_tta},
                                use_context=context)
    except (RegistryError, EvaluationError, DatasetError, ValueError, RuntimeError) as exc:
        raise _fail(str(exc)) from None
    if json_file is not None:
        json_file.parent.mkdir(parents=True, exist_ok=True)
        json_file.write_text(json.dumps(result, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    _print_evaluation(result)
    if json_file is not None:
        _out().print(f"full result: {json_file}")


def _print_evaluation(result: dict[str, Any]) -> None:
    out = _out()
    where = result["data"]["path"] + (f" (split {result['data']['split']})" if result["data"]["split"] else "")
    summary = Table(title=f"Evaluation on {result['n_images']} images of {where}")
    summary.add_column("metric")
    summary.add_column("value", justify="right")
    intervals = result.get("intervals", {})
    mel_recall = result["per_class"].get("mel", {}).get("recall")
    rows = [("balanced accuracy", result["balanced_accuracy"]), ("melanoma recall", mel_recall),
            ("accuracy", result["accuracy"]),
            ("malignant AUC", result.get("malignant_auc")),
            (f"malignant sensitivity @ {_fmt(result.get('triage_threshold'), 3)}", result["malignant_sensitivity"]),
            (f"malignant specificity @ {_fmt(result.get('triage_threshold'), 3)}", result["malignant_specificity"]),
            (f"Dice ({result['n_masks']} masks)", result["dice"]), ("IoU", result["iou"]),
            ("thresholded Jaccard (ISIC)", result["thresholded_jaccard"])]
    interval_of = {"balanced accuracy": "balanced_accuracy", "melanoma recall": "mel_recall"}
    summary.add_column("95 % interval (bootstrap over lesions)", justify="right")
    photo_only = result.get("photo_only")
    if photo_only:
        summary.add_column("photo only", justify="right")
        summary.add_column("its interval", justify="right")
    for name, value in rows:
        key = interval_of.get(name) or ("malignant_" + name.split()[1] if name.startswith("malignant s") else "")
        low_high = intervals.get(key)
        cells = [name, _fmt(value), f"{_fmt(low_high[0], 3)} – {_fmt(low_high[1], 3)}" if low_high else ""]
        if photo_only:
            alone_key = {"balanced accuracy": "balanced_accuracy", "melanoma recall": "mel_recall", "accuracy":
                         "accuracy", "malignant AUC": "malignant_auc"}.get(name, key)
            alone = photo_only["intervals"].get(key)
            cells += [_fmt(photo_only.get(alone_key)) if alone_key in photo_only else "",
                      f"{_fmt(alone[0], 3)} – {_fmt(alone[1], 3)}" if alone else ""]
        summary.add_row(*cells)
    out.print(summary)
    verdicts = result.get("verdicts")
    if verdicts:
        out.print(f"the service would refuse to judge {result['refused_fraction']:.1%} of these photos "
                  f"({verdicts['retake']} retake, {verdicts['not_a_lesion']} not a lesion; classification metrics "
                  "cover every photo)")
    context = result.get("context") or {}
    if context.get("used"):
        out.print(f"with the age, sex and body site of {context['images_with_context']} of {result['n_images']} "
                  f"images (context weight {context['weight']:g}); 'photo only': the same model without them")
    per_class = Table(title="Per class")
    for column in ("class", "support", "recall", "precision", "AUC"):
        per_class.add_column(column, justify="left" if column == "class" else "right")
    for code, stats in result["per_class"].items():
        per_class.add_row(code, str(stats["support"]), _fmt(stats["recall"]), _fmt(stats["precision"]),
                          _fmt(stats["auc"]))
    out.print(per_class)
    if result.get("by_kind"):
        _print_by_kind(result["by_kind"])
    for role, info in result["models"].items():
        if info:
            flag = " [bold yellow]SYNTHETIC[/]" if info["synthetic"] else ""
            out.print(f"{role}: {info['tag']} ({info['arch']}, {info['backend']}){flag}")
    for warning in result.get("warnings", []):
        out.print(f"[yellow]warning:[/] {warning}")


def _print_by_kind(found: dict[str, Any]) -> None:
    """Dermoscopic and phone photos side by side, and the phone photos per skin type."""
    out = _out()
    groups = {**{kind: row for kind, row in found["kinds"].items()},
              **{f"phone, skin type {skin}": row for skin, row in found["phone_by_skin_type"].items()}}
    table = Table(title="By kind of photo (as served: each photo at its kind's threshold; intervals over patients "
                        "or lesions)")
    for column in ("photos", "images", "balanced accuracy", "melanoma recall", "malignant sensitivity",
                   "specificity", "AUC", "threshold", "refused", "kind named right"):
        table.add_column(column, justify="left" if column == "photos" else "right")
    for name, row in groups.items():
        intervals = row.get("intervals", {})

        def cell(key: str, row: dict[str, Any] = row, intervals: dict[str, Any] = intervals) -> str:
            low_high = intervals.get(key)
            return _fmt(row.get(key)) + (f" [{_fmt(low_high[0], 2)}–{_fmt(low_high[1], 2)}]" if low_high else "")

        table.add_row(name, str(row["images"]), cell("balanced_accuracy"), cell("mel_recall"),
                      cell("malignant_sensitivity"), cell("malignant_specificity"), _fmt(row.get("malignant_auc")),
                      _fmt(row.get("triage_threshold"), 3), _fmt(row.get("refused")),
                      _fmt(found["photo_kind_accuracy"].get(name)) if name in found["photo_kind_accuracy"] else "")
    out.print(table)


def predict(
    data: Annotated[Path, typer.Option("--data", help="folder of photos (any depth; JPEG, PNG, WebP, …)",
                                       exists=True, file_okay=False, resolve_path=True)],
    csv_file: Annotated[Path, typer.Option("--csv", help="where to write the ISIC 2018 Task 3 CSV")],
    classifier: Annotated[str, typer.Option(help="BentoML tag of the classifier")] = "skin-classifier:latest",
    segmenter: Annotated[str, typer.Option(
        help="BentoML tag of the segmenter (used only by a classifier that crops around the lesion)")] = (
        "skin-segmenter:latest"),
    device: Annotated[str, typer.Option(help="auto | cpu | cuda")] = "auto",
    batch_size: Annotated[int, typer.Option(help="images per forward pass")] = 32,
) -> None:
    from training.evaluate import EvaluationError, predict_folder
    from training.registry import RegistryError

    try:
        result = predict_folder(data, csv_file, classifier, segmenter, batch_size=batch_size, device=device)
    except (RegistryError, EvaluationError, ValueError, RuntimeError) as exc:
        raise _fail(str(exc)) from None
    out = _out()
    info = result["classifier"]
    out.print(f"wrote {result['images']} rows to {result['csv']} (classifier {info['tag']}, {info['arch']})"
              + (" [bold yellow]— trained on SYNTHETIC data[/]" if info["synthetic"] else ""))
    for name, reason in result["skipped"].items():
        out.print(f"[yellow]skipped[/] {name}: {reason}")
    if result["skipped"]:
        out.print(f"[yellow]{len(result['skipped'])} file(s) could not be read and have no row[/]")


def calibrate_verdict(
    data: Annotated[Path, typer.Option("--data", help="data folder (real lesion photos)", exists=True,
                                       file_okay=False, resolve_path=True)],
    split_file: Annotated[Path, typer.Option(help="split CSV: fit on train, threshold on val, report val and test",
                                             exists=True, dir_okay=False)],
    segmenter: Annotated[str, typer.Option(
        help="BentoML tag or bundle folder of the segmenter (for the lesion findings)")] = "skin-segmenter:latest",
    quantile: Annotated[float, typer.Option(
        help="share of validation photos that must stay under the not-a-lesion threshold")] = 0.997,
    out: Annotated[Path | None, typer.Option(help="where to write the calibration (default: the one the service "
                                                  "reads, skin_models/lesion_likeness.json)")] = None,
    phone_data: Annotated[list[Path] | None, typer.Option(
        "--phone-data", help="phone-photo folder(s) in the same split file: a Gaussian of their own", exists=True,
        file_okay=False, resolve_path=True)] = None,
    phone_quantile: Annotated[float, typer.Option(
        help="the same for the phone photos' Gaussian (broader: a lower quantile keeps text and scenes out)")] = 0.98,
) -> None:
    from skin_models.verdict import LIKENESS_FILE
    from training.data import DatasetError
    from training.evaluate import EvaluationError
    from training.registry import RegistryError
    from training.verdict_calibration import calibrate

    if not 0.5 <= quantile < 1.0:
        raise _fail(f"--quantile {quantile} is not a share between 0.5 and 1 (e.g. 0.99)")
    try:
        report = calibrate([data, *(phone_data or [])], split_file, segmenter=segmenter, quantile=quantile,
                           phone_quantile=phone_quantile, out=out or LIKENESS_FILE)
    except (RegistryError, EvaluationError, DatasetError, ValueError) as exc:
        raise _fail(str(exc)) from None
    _out().print_json(json.dumps(report, default=str))


def models() -> None:
    import bentoml
    from bentoml.exceptions import BentoMLException

    from training.registry import list_store_models, served_tag, store_dir

    found = list_store_models()
    if not found:
        raise _fail(f"the BentoML model store at {store_dir()} has no skin-classifier or skin-segmenter model; "
                    "run `drskin train quick` (synthetic, two minutes) or `drskin register RUN_ID`")
    served: dict[str, str | None] = {}
    for name in {m.name for m in found}:
        try:
            served[name] = str(bentoml.models.get(served_tag(name)).tag)
        except BentoMLException:
            served[name] = None
    table = Table(title=f"Models in {store_dir()}")
    table.add_column("served")
    table.add_column("tag", no_wrap=True)
    for column in ("created", "arch", "start", "data", "validation", "MLflow", "ONNX"):
        table.add_column(column, overflow="fold")
    for model in found:
        selection = str(model.metadata.get("selection_metric") or "")
        value = model.metadata.get("selection_value", model.metrics.get(selection))
        metrics = f"{_SHORT_METRIC.get(selection, selection)}={_fmt(value, 3)}" if selection else ", ".join(
            f"{k}={_fmt(v, 3)}" for k, v in sorted(model.metrics.items())[:3])
        table.add_row("✓" if served.get(model.name) == model.tag else "", model.tag,
                      model.created.astimezone().strftime("%Y-%m-%d %H:%M"), model.arch,
                      "ImageNet" if model.starting_weights else "scratch",
                      "[bold yellow]synthetic[/]" if model.synthetic else "real", metrics or "-",
                      f"v{model.mlflow_version}" if model.mlflow_version else "-",
                      "int8" if model.int8 else "yes" if model.onnx else "no")
    out = _out()
    out.print(table)
    for name, tag in sorted(served.items()):
        wanted = served_tag(name)
        if tag is None:
            out.print(f"[bold red]the service would fail:[/] {wanted} is not in the store")
        else:
            out.print(f"{name}: the service serves {tag} ({wanted})")


def quantize(
    data: Annotated[Path, typer.Option("--data", help="the data folder the model was trained on", exists=True,
                                       file_okay=False, resolve_path=True)],
    split_file: Annotated[Path, typer.Option(help="the split CSV the model was trained on", exists=True,
                                             dir_okay=False)],
    source: Annotated[list[str] | None, typer.Option(
        "--from", help="BentoML tag or bundle folder; repeat for several (default: both served models)")] = None,
    calibration: Annotated[int, typer.Option(min=1, help="training photos to calibrate the ranges on")] = 128,
    split: Annotated[str, typer.Option(help="the held-out split the decision is made on: val (choose on validation; "
                                            "`drskin evaluate --split test` reports the served pair on test)")] = "val",
    store: Annotated[bool, typer.Option("--import/--no-import", help="import a kept network into the store")] = True,
) -> None:
    from training.quantize import QuantizeError, quantize_bundle
    from training.registry import RegistryError, bentoml_model_path, served_tag

    references = source or [served_tag("skin-classifier"), served_tag("skin-segmenter")]
    for reference in references:
        try:
            bundle = Path(reference) if Path(reference).is_dir() else bentoml_model_path(reference)
            result = quantize_bundle(bundle, data, split_file, calibration=calibration, split=split,
                                     source=reference, import_to_store=store)
        except (QuantizeError, RegistryError, ValueError) as exc:
            raise _fail(f"{reference}: {exc}") from None
        _out().print(f"{reference} — {result.summary}" + (f"; stored as {result.tag}" if result.tag else ""))


def register_commands(app: typer.Typer) -> None:
    """Add ``register``, ``evaluate``, ``predict``, ``calibrate-verdict``, ``quantize`` and ``models`` to the app."""
    app.command("register", help=_REGISTER_HELP, short_help="Register an MLflow run; champions go to BentoML.")(
        register)
    app.command("evaluate", help=_EVALUATE_HELP, short_help="ISIC metrics of the stored models on a data folder.")(
        evaluate)
    app.command("predict", help=_PREDICT_HELP, short_help="ISIC 2018 Task 3 CSV of probabilities for a folder.")(
        predict)
    app.command("calibrate-verdict", help=_CALIBRATE_HELP,
                short_help="Fit the not-a-lesion check; measure refusals of real and non-lesion photos.")(
        calibrate_verdict)
    app.command("quantize", help=_QUANTIZE_HELP,
                short_help="int8 networks for the CPU, kept only when they keep the quality.")(quantize)
    app.command("models", help=_MODELS_HELP, short_help="The models in the BentoML store and which are served.")(
        models)
