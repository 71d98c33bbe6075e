"""``bentoml build`` packs the service with its models; the generated Dockerfile is sane. Start-up without models
fails with a message naming the command that creates them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.fixtures.service import REPO_ROOT

pytestmark = pytest.mark.slow

BENTOML = str(Path(sys.executable).with_name("bentoml"))


def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "BENTOML_HOME": str(home), "BENTOML_DO_NOT_TRACK": "true"}


def test_bentoml_build(tiny_bentoml_home: Path) -> None:
    result = subprocess.run([BENTOML, "build", "--output", "tag"], cwd=REPO_ROOT, env=_env(tiny_bentoml_home),
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    tag = next(line for line in result.stdout.splitlines() if line.startswith("__tag__:")).removeprefix("__tag__:")
    name, version = tag.split(":")
    bento = tiny_bentoml_home / "bentos" / name / version
    info = yaml.safe_load((bento / "bento.yaml").read_text())
    assert info["entry_service"] == "DrSkin"
    packed = {m["tag"].split(":")[0] for s in info["services"] for m in s["models"]}
    assert packed == {"skin-classifier", "skin-segmenter"}
    assert (bento / "src" / "service.py").exists()
    assert (bento / "src" / "serving" / "http.py").exists() and (bento / "src" / "serving" / "settings.py").exists()
    assert (bento / "src" / "skin_models" / "contract.py").exists()
    assert (bento / "src" / "skin_models" / "predict.py").exists()
    assert (bento / "src" / "skin_models" / "lesion_likeness.json").exists()  # or the service judges every photo
    assert not (bento / "src" / "tests").exists() and not (bento / "src" / "training").exists()
    assert not (bento / "src" / "webapp").exists()
    dockerfile = (bento / "env" / "docker" / "Dockerfile").read_text()
    assert "EXPOSE 3000" in dockerfile
    users = [line.split()[1] for line in dockerfile.splitlines() if line.startswith("USER ")]
    assert users and users[-1] not in {"root", "0"}
    requirements = (bento / "env" / "python" / "requirements.txt").read_text()
    assert "onnxruntime" in requirements and "torch" not in requirements  # the service runs without torch


def test_startup_without_models_names_the_command(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-c", "import service"], cwd=REPO_ROOT, env=_env(tmp_path / "empty"),
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode != 0
    assert "drskin train quick" in result.stderr and "drskin train all --data" in result.stderr


TRAINING_STACK = {"torch", "torchvision", "timm", "segmentation-models-pytorch", "safetensors"}


def test_bentofile_packs_what_serving_needs_and_no_training_stack() -> None:
    """bentofile.yaml's packages are pyproject.toml's core dependencies and its torch-free `serve` extra (less what
    BentoML brings itself), with the same version bounds: the service image gets no torch."""
    import re
    import tomllib

    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["serve"]]
    brought_by_bentoml = {"bentoml", "prometheus-client", "psutil"}

    def name(requirement: str) -> str:
        return re.split(r"[\[<>=~! ;]", requirement.strip(), maxsplit=1)[0].lower()

    packed = yaml.safe_load((REPO_ROOT / "bentofile.yaml").read_text())["python"]["packages"]
    assert {name(r): r for r in packed} == {name(r): r for r in wanted if name(r) not in brought_by_bentoml}
    assert not {name(r) for r in wanted} & TRAINING_STACK
