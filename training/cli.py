"""The ``drskin`` command line. Each command group lives in its own ``training/cli_<group>.py`` module."""

from __future__ import annotations

import os

import typer

# OpenMP threads that spin while waiting burn the CPU that the other thread needs on a busy 2-core machine
# (measured here: a training step ran 10x slower under load with the default policy). Must be set before torch
# is imported, which the commands do lazily.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from training.cli_data import data_app
from training.cli_models import register_commands
from training.cli_train import train_app

app = typer.Typer(
    name="drskin",
    help="Dr. Skin: data sets, training, evaluation and model registration for the skin-lesion models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals may hold whole images or data-set listings
)

app.add_typer(data_app, name="data")

app.add_typer(train_app, name="train")
register_commands(app)  # register, evaluate, predict, models
# Heavy libraries (torch, mlflow, bentoml) are imported inside the commands so that `drskin --help` stays fast.


if __name__ == "__main__":
    app()
