"""The service runs without the training stack (the service image has none): with torch, torchvision, timm and
segmentation-models-pytorch unimportable in every process it starts, ``bentoml serve`` loads the ONNX models,
``/diagnose?explain=true`` answers with the class map from the classifier's own pass, and no process even tried to
import them (each attempt is written down, and the list stays empty)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.fixtures.service import BentoServer, register_tiny_models, synthetic_lesion_photo

pytestmark = pytest.mark.slow

TRAINING_STACK = ("torch", "torchvision", "timm", "segmentation_models_pytorch")

# Installed as ``sitecustomize`` on PYTHONPATH, so it runs first in the server and in every worker it starts.
REFUSE = f"""
import importlib.abc, os, sys

TRAINING_STACK = {TRAINING_STACK!r}


class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in TRAINING_STACK:
            with open(os.environ["DRSKIN_REFUSED_LOG"], "a") as log:
                log.write(f"{{os.getpid()}} {{name}}\\n")
            raise ModuleNotFoundError(f"No module named {{name!r}} (refused: the service image has no {{name}})")
        return None


sys.meta_path.insert(0, Refuse())
"""


def _refusing_env(tmp_path: Path) -> dict[str, str]:
    site = tmp_path / "refuse"
    site.mkdir()
    (site / "sitecustomize.py").write_text(REFUSE)
    log = tmp_path / "refused.log"
    log.touch()
    return {"PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")])),
            "DRSKIN_REFUSED_LOG": str(log)}


def test_the_model_layer_predicts_through_onnx_with_torch_unimportable(tmp_path: Path) -> None:
    """In-process: the serving path of skin_models (bundle config, predictors, preprocessing, test-time views, the
    diagnosis chain, the explanation) imports, predicts and explains with the training stack refused."""
    home = tmp_path / "bentoml"
    register_tiny_models(home)
    code = f"TRAINING_STACK = {TRAINING_STACK!r}\n" + """
import sys
from pathlib import Path
import bentoml
import numpy as np
from skin_models.explain import normalised_map
from skin_models.imaging import decode_image
from skin_models.pipeline import Diagnoser
from skin_models.predict import ClassifierPredictor, SegmenterPredictor
from tests.fixtures.service import synthetic_lesion_photo

classifier = ClassifierPredictor(Path(bentoml.models.get("skin-classifier:latest").path), device="auto")
segmenter = SegmenterPredictor(Path(bentoml.models.get("skin-segmenter:latest").path), device="auto")
assert classifier.backend.startswith("onnx") and segmenter.backend.startswith("onnx"), classifier.backend
[diagnosis] = Diagnoser(classifier, segmenter).diagnose([decode_image(synthetic_lesion_photo(160, 120, 2))])
assert abs(float(diagnosis.probabilities.sum()) - 1.0) < 1e-6 and diagnosis.mask is not None
logits, maps = classifier.logits_and_maps_from_uint8(np.zeros((1, *classifier.config.input_size, 3), np.uint8))
assert maps is not None and normalised_map(maps[0], 0).max() <= 1.0
import service  # the BentoML service module itself
loaded = sorted(name for name in sys.modules if name.split(".")[0] in TRAINING_STACK)
assert not loaded, loaded
print("torch-free: ok")
"""
    env = {**os.environ, **_refusing_env(tmp_path), "BENTOML_HOME": str(home), "BENTOML_DO_NOT_TRACK": "true"}
    result = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2], env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "torch-free: ok" in result.stdout
    refused = (tmp_path / "refused.log").read_text()
    assert refused == "", f"imports of the training stack were attempted:\n{refused}"


def test_bentoml_serve_answers_with_an_explanation_without_torch(tmp_path: Path) -> None:
    home = tmp_path / "bentoml"  # its own home: `bentoml serve` empties the Prometheus folder of the one it uses
    register_tiny_models(home)
    server = BentoServer(home, env=_refusing_env(tmp_path))
    server.start()
    try:
        response = httpx.post(f"{server.url}/diagnose", data={"explain": "true"}, timeout=60,
                              files={"image": ("photo.jpg", synthetic_lesion_photo(320, 240, 4), "image/jpeg")})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["verdict"] == "ok", body["verdict_reasons"]
        assert body["explanation"] is not None and body["explanation"]["label"] == body["classification"]["label"]
        info = httpx.get(f"{server.url}/info", timeout=30).json()
        assert {model["name"] for model in info["models"]} == {"skin-classifier", "skin-segmenter"}
    finally:
        server.stop()
    refused = (tmp_path / "refused.log").read_text()
    assert refused == "", f"imports of the training stack were attempted:\n{refused}\n{server.log()[-3000:]}"
