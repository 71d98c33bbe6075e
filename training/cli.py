"""The ``drskin`` command line. Each command group lives in its own ``training/cli_<group>.py`` module."""

from __future__ import annotations

import typer

from training.cli_data import data_app

app = typer.Typer(
    name="drskin",
    help="Dr. Skin: data sets, training, evaluation and model registration for the skin-lesion models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals may hold whole images or data-set listings
)

app.add_typer(data_app, name="data")

# Further command groups register here, one module each, in this order:
#   train     (training/cli_train.py    → train_app)
#   evaluate  (training/cli_evaluate.py → evaluate_app)
#   register  (training/cli_register.py → register_app)
#   models    (training/cli_models.py   → models_app)
# e.g. `from training.cli_train import train_app` and `app.add_typer(train_app, name="train")` (a group with a
# single command can be `app.command("train")(train)` instead). Import torch and other heavy libraries inside the
# command functions, so `drskin --help` and `drskin data ...` stay fast.


if __name__ == "__main__":
    app()
