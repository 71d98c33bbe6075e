"""``drskin data ...`` through Typer's test runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from training.cli import app
from training.splits import load_splits

runner = CliRunner()


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["data", "--help"],
        ["data", "check", "--help"],
        ["data", "synth", "--help"],
        ["data", "split", "--help"],
    ],
)
def test_every_command_has_help(args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_no_arguments_shows_help() -> None:
    result = runner.invoke(app, [])
    assert "Usage" in result.output and "data" in result.output


def test_check_prints_counts_and_writes_json(synth_dir: Path, tmp_path: Path) -> None:
    report_path = tmp_path / "report.json"
    result = runner.invoke(app, ["data", "check", str(synth_dir), "--no-progress", "--json", str(report_path)])
    assert result.exit_code == 0, result.output
    assert "Melanocytic nevus" in result.output and "total" in result.output
    assert "masks found: 42 of 42" in result.output
    assert "broken files: 0" in result.output
    report = json.loads(report_path.read_text())
    assert report["ok"] is True and report["n_images"] == 42


def test_check_fails_with_the_reason(make_layout, tmp_path: Path) -> None:
    root = make_layout(images=["IMG_1"])
    result = runner.invoke(app, ["data", "check", str(root), "--no-progress"])
    assert result.exit_code == 1
    assert "missing" in result.output and "IMG_2" in result.output
    result = runner.invoke(app, ["data", "check", str(tmp_path / "empty"), "--no-verify"])
    assert result.exit_code == 1 and "does not exist" in result.output


def test_synth_refuses_non_empty_folder_without_force(tmp_path: Path) -> None:
    out = tmp_path / "syn"
    args = ["data", "synth", str(out), "--n", "14", "--seed", "3", "--size", "40x30", "--no-progress"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "SYNTHETIC" in result.output
    assert len(list((out / "images").iterdir())) == 14
    result = runner.invoke(app, args)
    assert result.exit_code == 1 and "--force" in result.output
    assert runner.invoke(app, [*args, "--force"]).exit_code == 0


def test_synth_rejects_a_bad_size(tmp_path: Path) -> None:
    result = runner.invoke(app, ["data", "synth", str(tmp_path / "s"), "--size", "big"])
    assert result.exit_code == 1 and "200x150" in result.output


def test_split_writes_csv_and_prints_counts(synth_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "splits.csv"
    result = runner.invoke(app, ["data", "split", str(synth_dir), "--out", str(out), "--seed", "1"])
    assert result.exit_code == 0, result.output
    splits = load_splits(out)
    assert len(splits) == 42
    for word in ("train", "val", "test", "lesions", "nv"):
        assert word in result.output
    result = runner.invoke(app, ["data", "split", str(synth_dir), "--out", str(out)])
    assert result.exit_code == 1 and "already exists" in result.output
    result = runner.invoke(app, ["data", "split", str(synth_dir), "--out", str(out), "--force", "--ratios", "1,1"])
    assert result.exit_code == 1 and "ratios" in result.output
