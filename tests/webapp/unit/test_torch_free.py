"""The site never imports the model stack: with torch, timm, smp, BentoML and ONNX Runtime made unimportable, the
whole site imports, starts and serves its pages (the site image installs none of them)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
FORBIDDEN = ("torch", "torchvision", "timm", "segmentation_models_pytorch", "bentoml", "_bentoml_impl",
             "onnxruntime", "mlflow", "albumentations", "scipy")

SCRIPT = f"""
import importlib.abc, sys
FORBIDDEN = {FORBIDDEN!r}

class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in FORBIDDEN:
            raise ImportError(f"the site must not import {{name}}")
        return None

sys.meta_path.insert(0, Refuse())
import pkgutil, webapp
for module in pkgutil.walk_packages(webapp.__path__, "webapp."):
    if not module.name.startswith("webapp.migrations"):
        __import__(module.name)
# the torch-free core of the model layer the site may use (pyproject.toml's main dependencies)
import skin_models.labels, skin_models.context, skin_models.imaging

from litestar.testing import TestClient
from webapp.app import create_app
with TestClient(app=create_app()) as client:
    for path in ("/", "/about", "/diseases", "/diseases/mel", "/login", "/register", "/health/live"):
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
loaded = sorted(name for name in sys.modules if name.split(".")[0] in FORBIDDEN)
assert not loaded, loaded
print("torch-free: ok")
"""


def test_the_site_runs_with_the_model_stack_unimportable(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'site.db'}", "DRSKIN_ENV": "test",
           "DRSKIN_SECRET_KEY": "torch-free-" + "x" * 32, "DRSKIN_SERVICE_URL": "http://127.0.0.1:1"}
    subprocess.run([sys.executable, "-m", "webapp", "migrate"], cwd=REPO_ROOT, env=env, check=True,
                   capture_output=True)
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "torch-free: ok" in result.stdout
