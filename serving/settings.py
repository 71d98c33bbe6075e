"""The service's settings: every ``DRSKIN_*`` environment variable (read once, at import) and its fixed texts.

``docs/service.md`` ("Environment") documents each variable.
"""

from __future__ import annotations

import ipaddress
import math
import os
from pathlib import Path
from typing import Any, Literal, cast

from skin_models.contract import DEFAULT_MAX_SIDE
from skin_models.imaging import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS
from skin_models.served import CLASSIFIER_NAME, SEGMENTER_NAME, served_tag

Backend = Literal["auto", "torch", "onnx"]

CLASSIFIER_TAG = served_tag(CLASSIFIER_NAME, os.environ)
SEGMENTER_TAG = served_tag(SEGMENTER_NAME, os.environ)

BATCHING = os.environ.get("DRSKIN_BATCHING", "on").strip().lower() not in {"off", "0", "false", "no"}
# Chosen by measurement (docs/performance.md, "forward pass by batch size"): on 2 cores the classifier's time per
# image stops falling at a batch of 4-8 and the segmenter's at 2, so bigger batches only add waiting.
# With batching off, the internal APIs are plain (not batchable):
# each request is its own forward pass, one at a time per service, i.e. a max batch size of 1 (BentoML itself
# refuses max_batch_size=1).
MAX_BATCH_SIZE = int(os.environ.get("DRSKIN_MAX_BATCH_SIZE", "8"))
# BentoML's dispatcher waits adaptively (far less than this) to fill a batch; max_latency_ms is the point past which
# it sheds a queued request with 503, so it is a queue timeout, sized for a burst of ~64 requests on 2 cores.
MAX_LATENCY_MS = int(os.environ.get("DRSKIN_MAX_LATENCY_MS", "20000"))
MAX_IMAGE_BYTES = int(os.environ.get("DRSKIN_MAX_IMAGE_BYTES", str(DEFAULT_MAX_BYTES)))
MAX_IMAGE_PIXELS = int(os.environ.get("DRSKIN_MAX_IMAGE_PIXELS", str(DEFAULT_MAX_PIXELS)))
# The networks see 64-96 px; the mask, overlay and measurements at a phone camera's 12 MP cost seconds
# (docs/performance.md), at 1024 px a few hundred milliseconds, and nobody reads an outline finer than that.
MAX_SIDE = int(os.environ.get("DRSKIN_MAX_SIDE", str(DEFAULT_MAX_SIDE)))
# A multipart body carries the file plus boundaries and part headers.
MAX_REQUEST_BYTES = MAX_IMAGE_BYTES + 64 * 1024
DEVICE = os.environ.get("DRSKIN_DEVICE", "auto")


def available_cpus(cgroup: Path = Path("/sys/fs/cgroup")) -> int:
    """The CPUs this process may use: the cgroup's CPU quota when there is one (a Kubernetes pod's CPU limit; cgroup
    v2 ``cpu.max`` or v1 ``cpu.cfs_quota_us``), rounded up, and never more than the cores it may run on. Not
    ``os.cpu_count()``: in a container that is the node's count."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    quota: float | None = None
    try:
        limit, period = (cgroup / "cpu.max").read_text().split()[:2]
        quota = None if limit == "max" else int(limit) / int(period)
    except (OSError, ValueError):
        try:
            limit_us = int((cgroup / "cpu" / "cpu.cfs_quota_us").read_text())
            period_us = int((cgroup / "cpu" / "cpu.cfs_period_us").read_text())
            quota = limit_us / period_us if limit_us > 0 and period_us > 0 else None
        except (OSError, ValueError):
            quota = None
    return max(1, min(cores, math.ceil(quota))) if quota else max(1, cores)


# The two model services run side by side: each gets half the CPUs, so their thread pools do not fight (on a busy
# 2-core machine one ONNX Runtime thread per model was twice as fast as its default; docs/performance.md). The CPUs
# are ``DRSKIN_CPUS`` (the chart sets it from the pod's CPU limit, else its request), else the cgroup's quota.
CPUS = int(os.environ.get("DRSKIN_CPUS") or available_cpus())
MODEL_THREADS = int(os.environ.get("DRSKIN_MODEL_THREADS") or max(1, CPUS // 2))
BACKEND = cast(Backend, os.environ.get("DRSKIN_BACKEND", "auto"))
# ``DRSKIN_INT8=off``: serve a bundle's fp32 network even when it carries a kept int8 one (``drskin quantize``).
INT8 = os.environ.get("DRSKIN_INT8", "on").strip().lower() not in {"off", "0", "false", "no"}
REQUEST_TIMEOUT_S = 120
# BentoML 1.4 recycles its client session to a dependency every `max_requests` calls (default 100) by closing it,
# which drops the requests still in flight on it (ServerDisconnectedError → 500 under concurrency). The internal
# services are local and long-lived, so the session is kept for the life of the process instead.
INTERNAL_SERVICE_CONFIG: dict[str, Any] = {
    "workers": 1,
    "traffic": {"timeout": REQUEST_TIMEOUT_S},
    "runner_connection": {"max_requests": 2**62, "max_age": 10.0 * 365 * 24 * 3600},
}
PUBLIC_ROUTES = ("/classify", "/segment", "/diagnose")

DISCLAIMER = (
    "Dr. Skin is not a diagnosis. It is an automated estimate from a single photo, made by software that can be "
    "wrong, and it cannot rule out skin cancer. See a doctor or dermatologist if a lesion is new, growing, changing "
    "in shape or colour, bleeding, itching or not healing, if the result is medium or high, or whenever you are "
    "worried, whatever this result says."
)
SYNTHETIC_NOTE = (
    " The models answering now were trained on synthetic images only (a first-run demo): their results mean nothing."
)
# For API users; the site words the verdict itself (EN/KO) from the codes.
VERDICT_MESSAGES = {
    "ok": "The photo can be judged; the result below is an estimate, not a diagnosis.",
    "retake": "This photo cannot be judged ({reasons}); no result is given. Please take another photo: close, "
              "sharp, in even light, with the whole lesion and some skin around it in the frame.",
    "not_a_lesion": "This photo does not look like a close-up of skin with a lesion, so no result is given. Please "
                    "photograph the skin spot itself, close and in focus.",
}
# Who may read /metrics (the entry port is the public one): loopback and private networks unless set.
METRICS_ALLOW = tuple(ipaddress.ip_network(cidr.strip(), strict=False) for cidr in os.environ.get(
    "DRSKIN_METRICS_ALLOW", "127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7").split(",")
    if cidr.strip())
# ``DRSKIN_LESION_LIKENESS``: the not-a-lesion calibration to use (default: the one shipped in skin_models), or
# "off" to judge every photo that passes the quality checks.
LESION_LIKENESS = os.environ.get("DRSKIN_LESION_LIKENESS", "").strip()

# --- client errors ---------------------------------------------------------------------------------------------------

# skin_models.imaging.ImageError codes → HTTP status.
STATUS_BY_IMAGE_ERROR = {
    "empty": 400,
    "not_an_image": 400,
    "corrupt": 400,
    "too_many_bytes": 413,
    "too_many_pixels": 413,
    "unsupported_format": 415,
}
MISSING_IMAGE_MESSAGE = "The request has no photo: send it as the multipart/form-data file field 'image'."
