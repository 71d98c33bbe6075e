"""``drskin data``: check a data folder, generate a synthetic one, split one into train/val/test."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from skin_models.labels import CLASS_CODES, LABELS
from training.data import (
    DatasetError,
    DatasetReport,
    check_dataset,
    dataset_fingerprint,
    detect_layout,
    load_records,
)
from training.splits import SPLITS, make_splits, save_splits, split_counts, split_fingerprint
from training.synth import generate_synthetic_dataset

data_app = typer.Typer(
    help="Data sets (Dr. Skin, HAM10000 Dataverse/Kaggle or ISIC 2018 Task 3 layout): check, generate, split.",
    no_args_is_help=True,
)

# How many broken or missing file names the console shows; --json always has all of them.
MAX_LISTED = 20
DATA_FOLDER_HELP = (
    "Data folder: the Dr. Skin layout (GroundTruth.csv, images/), HAM10000 as downloaded from the Harvard "
    "Dataverse or Kaggle, or an ISIC 2018 Task 3 challenge set; the layout is detected."
)


def _out() -> Console:
    # Created per call so that the current sys.stdout is used (test runners swap it).
    return Console(highlight=False)


def _err() -> Console:
    return Console(stderr=True, highlight=False)


def _fail(message: str) -> typer.Exit:
    _err().print(f"[bold red]error:[/] {message}", markup=True, soft_wrap=True)
    return typer.Exit(code=1)


@data_app.command("check")
def check(
    path: Annotated[Path, typer.Argument(help=DATA_FOLDER_HELP)],
    verify: Annotated[
        bool, typer.Option("--verify/--no-verify", help="Decode every image and mask (slow on 10k files).")
    ] = True,
    json_file: Annotated[
        Path | None, typer.Option("--json", help="Also write the full report as JSON to this file.", dir_okay=False)
    ] = None,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")] = True,
) -> None:
    """Count images per class, masks and lesions, and find missing or broken files.

    Exits with code 1, and says why, when the folder cannot be used for training.
    """
    try:
        report = check_dataset(path, verify_images=verify, progress=progress)
    except DatasetError as exc:
        if json_file is not None:
            _write_json(json_file, {"root": str(path), "ok": False, "errors": [str(exc)], "warnings": []})
        raise _fail(str(exc)) from None
    _print_report(report)
    if json_file is not None:
        _write_json(json_file, report.to_dict())
    if not report.ok:
        raise _fail("the data set is not usable: " + "; ".join(report.errors))


@data_app.command("synth")
def synth(
    out: Annotated[Path, typer.Argument(help="Folder to write the synthetic data set to (created if missing).")],
    n: Annotated[int, typer.Option("--n", min=1, help="Number of images.")] = 200,
    seed: Annotated[int, typer.Option("--seed", help="Random seed; the same seed gives the same data set.")] = 0,
    size: Annotated[str, typer.Option("--size", help="Image size WIDTHxHEIGHT; masks are 3x as large.")] = "200x150",
    force: Annotated[
        bool, typer.Option("--force", help="Write into a non-empty folder, replacing earlier synthetic files.")
    ] = False,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")] = True,
) -> None:
    """Generate a SYNTHETIC data set (procedurally drawn lesions, not medical data) in the Dr. Skin layout."""
    try:
        width, height = (int(part) for part in size.lower().split("x"))
    except ValueError:
        raise _fail(f"--size must look like 200x150, got {size!r}") from None
    try:
        counts = generate_synthetic_dataset(out, n, seed, (width, height), progress=progress, overwrite=force)
    except FileExistsError as exc:
        raise _fail(f"{exc} (use --force to replace the synthetic files in it)") from None
    except ValueError as exc:
        raise _fail(str(exc)) from None
    summary = ", ".join(f"{code} {counts[code]}" for code in CLASS_CODES)
    _out().print(f"wrote {n} SYNTHETIC images (not medical data) to {out}: {summary}", soft_wrap=True)


@data_app.command("split")
def split(
    path: Annotated[Path, typer.Argument(help=DATA_FOLDER_HELP)],
    out: Annotated[
        Path, typer.Option("--out", help="CSV file to write (image,lesion_id,label,split).", dir_okay=False)
    ],
    seed: Annotated[int, typer.Option("--seed", help="Random seed for shuffling lesions.")] = 42,
    ratios: Annotated[str, typer.Option("--ratios", help="train,val,test shares summing to 1.")] = "0.8,0.1,0.1",
    force: Annotated[bool, typer.Option("--force", help="Replace an existing split file.")] = False,
) -> None:
    """Split by lesion (no lesion in two splits), stratified by class, and print images per split and class."""
    try:
        shares = tuple(float(part) for part in ratios.split(","))
    except ValueError:
        raise _fail(f"--ratios must be three numbers like 0.8,0.1,0.1, got {ratios!r}") from None
    if out.exists() and not force:
        # Runs record the split's fingerprint; silently replacing the file would break that link.
        raise _fail(f"{out} already exists; use --force to replace it")
    try:
        records = load_records(path)
    except DatasetError as exc:
        raise _fail(str(exc)) from None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            splits = make_splits(records, ratios=shares, seed=seed)
        except ValueError as exc:
            raise _fail(str(exc)) from None
    save_splits(out, splits, records)

    counts = split_counts(records, splits)
    lesions: dict[str, set[str]] = {name: set() for name in SPLITS}
    for record in records:
        lesions[splits[record.image_id]].add(record.lesion_id or f"image:{record.image_id}")
    table = Table(title=f"Split of {path} (seed {seed}, ratios {ratios})")
    table.add_column("class")
    for name in SPLITS:
        table.add_column(name, justify="right")
    table.add_column("total", justify="right")
    for code in CLASS_CODES:
        row = [counts[name][code] for name in SPLITS]
        table.add_row(code, *map(str, row), str(sum(row)))
    totals = [sum(counts[name].values()) for name in SPLITS]
    table.add_section()
    table.add_row("images", *map(str, totals), str(sum(totals)))
    table.add_row("lesions", *(str(len(lesions[name])) for name in SPLITS), str(sum(len(v) for v in lesions.values())))
    console = _out()
    console.print(table)
    console.print(f"layout: {detect_layout(path).name}", soft_wrap=True)
    for warning in caught:
        console.print(f"[yellow]warning:[/] {warning.message}", soft_wrap=True)
    console.print(f"wrote {out}", soft_wrap=True)
    console.print(f"split sha256 {split_fingerprint(out)}; data sha256 {dataset_fingerprint(records)}", soft_wrap=True)


# --- output -------------------------------------------------------------------------------------------------------


def _print_report(report: DatasetReport) -> None:
    console = _out()
    total = report.n_images
    table = Table(title=f"Data set {report.root}")
    table.add_column("class")
    table.add_column("name")
    table.add_column("images", justify="right")
    table.add_column("share", justify="right")
    for label in LABELS:
        count = report.class_counts[label.code]
        table.add_row(label.code, label.name_en, str(count), f"{100 * count / total:.1f}%" if total else "-")
    table.add_section()
    table.add_row("total", "", str(total), "100.0%" if total else "-")
    console.print(table)

    found = total - len(report.missing_images)
    console.print(f"layout: {report.layout}", soft_wrap=True)
    kind = "phone photos (clinical close-ups)" if report.photo_kind == "phone" else "dermoscopic photos"
    console.print(f"photo kind: {kind}", soft_wrap=True)
    if report.label_mapping:
        mapping = ", ".join(f"{source}→{code}" for source, code in report.label_mapping.items())
        console.print(f"class mapping: {mapping} (the source's labels onto HAM10000's classes)", soft_wrap=True)
    if report.n_patients:
        console.print(f"patients: {report.n_patients} (splits keep a patient's photos together)", soft_wrap=True)
    console.print(f"masks found: {report.n_masks} of {found} images", soft_wrap=True)
    console.print(f"lesions: {report.n_lesions} (lesion ids on {report.n_with_lesion_id} of {found} images)")
    if report.verified:
        sizes = ", ".join(f"{size} ({n})" for size, n in report.image_sizes.items()) or "-"
        mask_sizes = ", ".join(f"{size} ({n})" for size, n in report.mask_sizes.items()) or "-"
        console.print(f"decoded: image sizes {sizes}; mask sizes {mask_sizes}", soft_wrap=True)
        console.print(f"broken files: {len(report.broken_files)}")
        _print_names(console, report.broken_files)
    else:
        console.print("broken files: not checked (--no-verify)")
    if report.missing_images:
        console.print(f"missing images: {len(report.missing_images)}")
        _print_names(console, report.missing_images)
    console.print(f"fingerprint: {report.fingerprint}")
    for warning in report.warnings:
        console.print(f"[yellow]warning:[/] {warning}", soft_wrap=True)
    if report.ok:
        console.print("[green]OK[/]: usable for training")


def _print_names(console: Console, names: list[str]) -> None:
    for name in names[:MAX_LISTED]:
        console.print(f"  {name}", soft_wrap=True, markup=False)
    if len(names) > MAX_LISTED:
        console.print(f"  ... and {len(names) - MAX_LISTED} more (all of them with --json)")


def _write_json(path: Path, data: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
