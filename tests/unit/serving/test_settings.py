"""The service's settings: its model threads come from the CPUs the container may use, not the node's count."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from serving.settings import available_cpus


def _cores() -> int:
    return len(os.sched_getaffinity(0))


def test_a_cgroup_v2_quota_limits_the_cpus(tmp_path: Path) -> None:
    (tmp_path / "cpu.max").write_text("50000 100000\n")  # a Kubernetes limit of 500m
    assert available_cpus(tmp_path) == 1
    (tmp_path / "cpu.max").write_text("150000 100000\n")  # 1.5 CPUs: rounded up, never past the cores
    assert available_cpus(tmp_path) == min(2, _cores())


def test_a_cgroup_v1_quota_limits_the_cpus(tmp_path: Path) -> None:
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("100000\n")
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert available_cpus(tmp_path) == 1


@pytest.mark.parametrize("cpu_max", ["max 100000\n", None])
def test_without_a_quota_the_cores_this_process_may_use_count(tmp_path: Path, cpu_max: str | None) -> None:
    if cpu_max is not None:
        (tmp_path / "cpu.max").write_text(cpu_max)
    assert available_cpus(tmp_path) == _cores()
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")  # v1's "no limit"
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    if cpu_max is None:
        assert available_cpus(tmp_path) == _cores()


def test_the_model_threads_are_half_of_drskin_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    """DRSKIN_CPUS (the chart's resourceFieldRef) wins over what the process sees; each of the two model workers
    takes half, at least one."""
    import importlib

    import serving.settings

    monkeypatch.delenv("DRSKIN_MODEL_THREADS", raising=False)
    try:
        for cpus, threads in (("1", 1), ("4", 2), ("7", 3)):
            monkeypatch.setenv("DRSKIN_CPUS", cpus)
            reloaded = importlib.reload(serving.settings)
            assert threads == reloaded.MODEL_THREADS
    finally:
        monkeypatch.delenv("DRSKIN_CPUS")
        importlib.reload(serving.settings)


def test_settings_are_typed_validated_and_read_from_a_dot_env_too(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    from serving.settings import ServiceSettings

    for name in ("DRSKIN_BATCHING", "DRSKIN_MAX_SIDE", "DRSKIN_INT8", "DRSKIN_CLASSIFIER", "DRSKIN_MAX_BATCH_SIZE"):
        monkeypatch.delenv(name, raising=False)
    env_file = tmp_path / ".env"
    env_file.write_text("DRSKIN_BATCHING=off\nDRSKIN_MAX_SIDE=512\nDRSKIN_CLASSIFIER=\n")
    settings = ServiceSettings(_env_file=env_file)  # type: ignore[call-arg]
    assert settings.batching is False and settings.max_side == 512
    assert settings.classifier is None  # empty: not set (the served tag is then skin-classifier:latest)
    monkeypatch.setenv("DRSKIN_MAX_SIDE", "2048")  # the environment wins over the file
    monkeypatch.setenv("DRSKIN_INT8", "off")
    settings = ServiceSettings(_env_file=env_file)  # type: ignore[call-arg]
    assert settings.max_side == 2048 and settings.int8 is False
    monkeypatch.setenv("DRSKIN_MAX_BATCH_SIZE", "eight")
    with pytest.raises(ValidationError, match="max_batch_size"):
        ServiceSettings(_env_file=None)  # type: ignore[call-arg]
    monkeypatch.setenv("DRSKIN_MAX_BATCH_SIZE", "8")
    monkeypatch.setenv("DRSKIN_METRICS_ALLOW", "10.0.0.0/8,not-a-network")
    with pytest.raises(ValidationError, match="not-a-network"):
        ServiceSettings(_env_file=None)  # type: ignore[call-arg]
