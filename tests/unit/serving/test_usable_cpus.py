"""The model threads follow the CPUs a container may use (its cgroup's quota), not the node's core count."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from serving.settings import usable_cpus

AFFINITY = len(os.sched_getaffinity(0))


def write(root: Path, relative: str, text: str) -> None:
    (root / relative).parent.mkdir(parents=True, exist_ok=True)
    (root / relative).write_text(text)


@pytest.mark.parametrize(("files", "expected"), [
    ({"cpu.max": "100000 100000\n"}, 1),                     # cgroup v2, limits.cpu: 1
    ({"cpu.max": "150000 100000\n"}, 2),                     # 1.5 CPUs: rounded up
    ({"cpu.max": "50000 100000\n"}, 1),                      # 500m: at least one
    ({"cpu.max": "max 100000\n"}, AFFINITY),                 # no limit
    ({"cpu/cpu.cfs_quota_us": "100000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 1),            # cgroup v1
    ({"cpu,cpuacct/cpu.cfs_quota_us": "-1\n", "cpu,cpuacct/cpu.cfs_period_us": "100000\n"}, AFFINITY),
    ({}, AFFINITY),                                          # no cgroup file system at all
])
def test_usable_cpus_reads_the_cgroup_quota(tmp_path: Path, files: dict[str, str], expected: int) -> None:
    for relative, text in files.items():
        write(tmp_path, relative, text)
    assert usable_cpus(tmp_path) == min(expected, AFFINITY)


def test_a_quota_above_the_cores_is_capped_by_them(tmp_path: Path) -> None:
    write(tmp_path, "cpu.max", f"{(AFFINITY + 8) * 100000} 100000\n")
    assert usable_cpus(tmp_path) == AFFINITY
