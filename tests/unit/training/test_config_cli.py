"""The training CLI's options and ``TrainConfig`` cannot drift apart: every option of ``drskin train classifier``
and ``drskin train segmenter`` is a config field (or one of the few that are about the run, not the recipe), and
every override the CLI passes is validated by the config."""

from __future__ import annotations

from typing import Any

import pytest
import typer

from training.cli_train import train_app
from training.config import TrainConfig, load_config

# Options that say where the data, the split and the outputs are, or what to do after the run: not the recipe.
RUN_OPTIONS = {"data", "config", "split_file", "resume", "register", "run_name", "work_dir", "lesion_segmenter",
               "phone_data", "extra_data"}
# Option names that differ from the field they set.
RENAMED = {"loss": "seg_loss"}


def _command(name: str) -> Any:
    return typer.main.get_command(train_app).commands[name]  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", ["classifier", "segmenter"])
def test_every_recipe_option_is_a_config_field(name: str) -> None:
    options = {param.name for param in _command(name).params if param.name} - RUN_OPTIONS
    fields = {RENAMED.get(option, option) for option in options}
    assert fields <= set(TrainConfig.model_fields), sorted(fields - set(TrainConfig.model_fields))
    assert len(fields) >= 10  # the recipe is really exposed, not an empty set passing trivially


@pytest.mark.parametrize(("override", "words"), [
    ({"phone_share": 1.5}, "phone_share must be a number from 0.0 to 1.0, not 1.5"),
    ({"augmentation": "extreme"}, "unknown augmentation 'extreme'; valid: none, light, standard, strong"),
    ({"batch_size": True}, "batch_size must be a number"),
    ({"epochs": "many"}, "epochs must be a number"),
    ({"extra_folder_shares": {"isic2019_84px": 1.5}}, "extra_folder_shares must map folder names to shares"),
    ({"extra_share": 0.6, "extra_folder_shares": {"isic2019_84px": 0.5}}, "add up to 1.1"),
])
def test_a_bad_override_names_the_setting(override: dict[str, object], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        load_config(None, "classification", **override)
    config = load_config(None, "classification", epochs=3)
    assert config.epochs == 3 and config.model_dump()["epochs"] == 3
    with pytest.raises(ValueError):  # frozen: a resolved config is what the run used
        config.epochs = 4  # type: ignore[misc]
