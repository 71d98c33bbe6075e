"""Faults at start-up (issue 18): a damaged model bundle in the store stops ``bentoml serve`` with a message that
names the model and the commands that replace it, instead of a traceback or a service that answers nonsense."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.service import BentoServer, register_tiny_models

pytestmark = pytest.mark.slow


def _start_and_read_log(home: Path) -> str:
    """Start a server on ``home``; it must not become ready. Its log (the error the operator reads)."""
    server = BentoServer(home)
    try:
        server.start(timeout_s=90, give_up_on="cannot be loaded")
    except RuntimeError as exc:  # exited, or never ready: either way it did not serve
        return str(exc)
    server.stop()
    raise AssertionError("bentoml serve became ready on a damaged model")


@pytest.mark.parametrize(("file", "damage"), [
    ("config.json", b'{"task": "classification", "arch": '),   # cut off mid-write
    ("model.safetensors", b"not weights at all"),              # truncated / overwritten weights
])
def test_a_damaged_classifier_bundle_is_a_start_up_error_naming_the_model_and_the_fix(
        tmp_path: Path, file: str, damage: bytes) -> None:
    home = tmp_path / "bentoml"
    tags = register_tiny_models(home)
    bundle = home / "models" / "skin-classifier" / tags["skin-classifier"].split(":")[1]  # the store's own folder
    assert (bundle / file).exists()
    (bundle / file).write_bytes(damage)
    (bundle / "model.onnx").unlink(missing_ok=True)  # the weights file is the one ONNX-less serving reads

    log = _start_and_read_log(home)
    assert "cannot be loaded" in log and str(tags["skin-classifier"]) in log, log[-3000:]
    assert "drskin register" in log and "drskin train all" in log


def test_a_killed_server_leaves_no_worker_behind_once_the_fixture_stops_it(tmp_path: Path) -> None:
    """BentoML starts its workers in sessions of their own: killing ``bentoml serve`` (or its process group) leaves
    them running, orphaned. ``BentoServer.stop()`` must end them too (by the mark in their environment)."""
    import os
    import signal

    import psutil

    from serving.processes import marked_processes

    home = tmp_path / "bentoml"
    register_tiny_models(home)
    server = BentoServer(home)
    server.start()
    try:
        assert server.process is not None
        workers = [p for p in psutil.Process(server.process.pid).children(recursive=True)
                   if "_bentoml_impl" in " ".join(p.cmdline())]
        assert len(workers) >= 3, "expected the entry, classifier and segmenter workers"
        os.killpg(server.process.pid, signal.SIGKILL)  # the server and its group die at once, as on a crash
        server.process.wait(timeout=30)
        assert all(p.is_running() for p in workers), "the workers were expected to outlive their server"
    finally:
        server.stop()
    assert not [p for p in workers if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert not marked_processes(server.mark)
