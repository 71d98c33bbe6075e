"""The OCI images: `make images` builds what the chart runs, and `make images-smoke` (scripts/images/smoke.py) starts
them as the chart does and checks their answers. The smoke run is slow and needs root, buildah, podman and the
built images; it skips, saying which is missing, where they are not there."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD_SH = ROOT / "scripts" / "images" / "build.sh"


def smoke_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("images_smoke", ROOT / "scripts" / "images" / "smoke.py")
    assert spec is not None and spec.loader is not None
    module = sys.modules.get(spec.name) or importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_make_images_builds_the_images_the_chart_runs() -> None:
    """build.sh tags drskin-site/drskin-service with the chart's appVersion: the chart's default repositories."""
    images = smoke_module().chart_images()
    script = BUILD_SH.read_text()
    built = dict(re.findall(r"^(SITE_IMAGE|SERVICE_IMAGE)=(\S+):\$TAG$", script, flags=re.MULTILINE))
    assert "helm/drskin/Chart.yaml" in script and "appVersion" in script
    assert images.site.startswith(f"localhost/{built['SITE_IMAGE']}:")
    assert images.service.startswith(f"localhost/{built['SERVICE_IMAGE']}:")
    # The users the smoke run starts the containers as are the pods' (and the images' own).
    assert images.service_user == "1034:1034"
    assert images.site_user == "10001:10001"


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_the_built_images_start_and_answer_as_the_chart_runs_them(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("the image smoke run needs root (buildah/podman storage under /var/lib/containers)")
    for tool in ("buildah", "podman"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (apt-get install -y buildah podman), so no image can be run here")
    smoke = smoke_module()
    images = smoke.chart_images()
    missing = [reference for reference in (images.service, images.site) if not smoke.image_exists(reference)]
    if missing:
        pytest.skip(f"the images are not built ({', '.join(missing)}): run `make images` first")

    report_file = tmp_path / "smoke.json"
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "images" / "smoke.py"), "--json", str(report_file)],
                            capture_output=True, text=True, timeout=1700, cwd=ROOT)
    assert report_file.exists(), result.stderr[-3000:]
    report = json.loads(report_file.read_text())
    assert result.returncode == 0 and report["ok"], report["error"] or result.stderr[-3000:]
    assert report["service"]["imports"]["torch"] is False, "the service image must not hold torch"
    assert report["service"]["imports"]["onnxruntime"] is True
    assert report["service"]["verdict"] in {"ok", "retake", "not_a_lesion"}
    assert report["site"]["sqlite"]["outcome"]
    for facts in report["images"].values():
        assert facts["size_bytes"] > 0


def test_the_service_image_has_the_folders_bentoml_makes_at_start_up(tmp_path: Path) -> None:
    """BentoML creates folders under BENTOML_HOME whenever it starts; the chart's root file system is read-only, so
    the image build makes them (bentofile.yaml's setup_script): BentoML's start-up then finds nothing to create."""
    import yaml

    script = ROOT / yaml.safe_load((ROOT / "bentofile.yaml").read_text())["docker"]["setup_script"]
    assert os.access(script, os.X_OK)
    home = tmp_path / "home"
    env = {**os.environ, "BENTOML_HOME": str(home)}
    subprocess.run([str(script)], env=env, check=True, timeout=30)
    made = sorted(path.relative_to(home) for path in home.rglob("*"))
    started = subprocess.run(
        [sys.executable, "-c", "from bentoml._internal.configuration.containers import BentoMLContainer; "
                               "print(BentoMLContainer.bentoml_home.get())"],
        env=env, capture_output=True, text=True, timeout=120)
    assert started.returncode == 0, started.stderr[-2000:]
    assert sorted(path.relative_to(home) for path in home.rglob("*")) == made, "BentoML created more folders"
