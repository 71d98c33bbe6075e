"""Finding and ending every process of one ``bentoml serve``, its workers included.

BentoML starts each worker (``python -m _bentoml_impl.worker.service``) in a session and process group of its own,
so neither signalling the server's process group nor, once the server itself has died, its list of children
reaches them: a killed ``bentoml serve`` leaves its workers running, their models in memory. Whoever
starts a server marks its environment with a unique ``DRSKIN_SERVE_ID``; the workers inherit the environment, so
the mark finds every one of them, orphaned or not, and nothing else (other servers on the machine carry another
mark or none).
"""

from __future__ import annotations

import os
import uuid

import psutil

SERVE_MARK = "DRSKIN_SERVE_ID"


def marked_env(env: dict[str, str] | None = None) -> tuple[dict[str, str], str]:
    """``env`` (default: this process's environment) plus a new ``DRSKIN_SERVE_ID``; returns (env, mark)."""
    mark = uuid.uuid4().hex
    return {**(os.environ if env is None else env), SERVE_MARK: mark}, mark


def marked_processes(mark: str) -> list[psutil.Process]:
    """Every live process whose environment carries ``DRSKIN_SERVE_ID=mark`` (processes this user may not read
    are skipped: they cannot be ours)."""
    found = []
    for process in psutil.process_iter():
        if process.pid == os.getpid():
            continue
        try:
            if process.status() != psutil.STATUS_ZOMBIE and process.environ().get(SERVE_MARK) == mark:
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def end_marked_processes(mark: str, grace_s: float = 10.0) -> list[psutil.Process]:
    """SIGTERM every process carrying ``mark``, SIGKILL what is left after ``grace_s``; returns the processes that
    were ended (empty when there were none)."""
    processes = marked_processes(mark)
    for process in processes:
        try:
            process.terminate()
        except psutil.NoSuchProcess:
            continue
    _, alive = psutil.wait_procs(processes, timeout=grace_s)
    for process in alive:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            continue
    psutil.wait_procs(alive, timeout=5.0)
    return processes
