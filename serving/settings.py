"""The service's settings: every ``DRSKIN_*`` environment variable, typed and validated once at import
(``ServiceSettings``, pydantic-settings: from the environment, else a ``.env`` file in the working folder), and the
service's fixed texts. The module-level names below are what the rest of ``serving`` reads.

``docs/service.md`` ("Environment") documents each variable. A value that does not parse stops the service at start
with pydantic's message naming the variable.
"""

from __future__ import annotations

import ipaddress
import math
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from skin_models.contract import DEFAULT_MAX_SIDE
from skin_models.imaging import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS
from skin_models.served import CLASSIFIER_NAME, SEGMENTER_NAME, served_tag

Backend = Literal["auto", "torch", "onnx"]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

DEFAULT_METRICS_ALLOW = "127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7"


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


class ServiceSettings(BaseSettings):
    """The service's ``DRSKIN_*`` variables (an empty value counts as not set)."""

    model_config = SettingsConfigDict(env_prefix="DRSKIN_", env_file=".env", env_ignore_empty=True, extra="ignore")

    classifier: str | None = Field(default=None, description="the classifier's tag (default skin-classifier:latest)")
    segmenter: str | None = Field(default=None, description="the segmenter's tag (default skin-segmenter:latest)")
    batching: bool = Field(default=True, description="adaptive batching of the model services (on/off)")
    # Chosen by measurement (docs/performance.md, "forward pass by batch size"): on 2 cores the classifier's time
    # per image stops falling at a batch of 4-8 and the segmenter's at 2, so bigger batches only add waiting. With
    # batching off, the internal APIs are plain (not batchable): each request is its own forward pass, one at a time
    # per service, i.e. a max batch size of 1 (BentoML itself refuses max_batch_size=1).
    max_batch_size: int = Field(default=8, ge=2)
    # BentoML's dispatcher waits adaptively (far less than this) to fill a batch; max_latency_ms is the point past
    # which it sheds a queued request with 503, so it is a queue timeout, sized for a burst of ~64 requests on 2 cores.
    max_latency_ms: int = Field(default=20000, gt=0)
    max_image_bytes: int = Field(default=DEFAULT_MAX_BYTES, gt=0)
    max_image_pixels: int = Field(default=DEFAULT_MAX_PIXELS, gt=0)
    # The networks see 64-96 px; the mask, overlay and measurements at a phone camera's 12 MP cost seconds
    # (docs/performance.md), at 1024 px a few hundred milliseconds, and nobody reads an outline finer than that.
    max_side: int = Field(default=DEFAULT_MAX_SIDE, ge=64)
    device: str = Field(default="auto", pattern=r"^(auto|cpu|cuda(:\d+)?)$")
    backend: Backend = "auto"
    int8: bool = Field(default=True, description="off: serve the fp32 network even where an int8 one was kept")
    # The two model services run side by side: each gets half the CPUs, so their thread pools do not fight (on a
    # busy 2-core machine one ONNX Runtime thread per model was twice as fast as its default; docs/performance.md).
    cpus: int | None = Field(default=None, ge=1, description="the CPUs the service may use (the chart sets it from "
                             "the pod's CPU limit, else its request); default: the cgroup's quota")
    model_threads: int | None = Field(default=None, ge=1, description="threads per model service; default: half")
    metrics_allow: str = Field(default=DEFAULT_METRICS_ALLOW, description="comma-separated networks for /metrics")
    lesion_likeness: str = Field(default="", description="the not-a-lesion calibration file, or 'off'")

    @field_validator("metrics_allow")
    @classmethod
    def _networks_parse(cls, value: str) -> str:
        parse_networks(value)
        return value

    @property
    def threads(self) -> int:
        return self.model_threads or max(1, (self.cpus or available_cpus()) // 2)


def parse_networks(value: str) -> tuple[Network, ...]:
    """Comma-separated CIDRs → networks (a bad one raises ValueError naming it)."""
    return tuple(ipaddress.ip_network(cidr.strip(), strict=False) for cidr in value.split(",") if cidr.strip())


SETTINGS = ServiceSettings()

CLASSIFIER_TAG = served_tag(CLASSIFIER_NAME, SETTINGS.classifier)
SEGMENTER_TAG = served_tag(SEGMENTER_NAME, SETTINGS.segmenter)
BATCHING = SETTINGS.batching
MAX_BATCH_SIZE = SETTINGS.max_batch_size
MAX_LATENCY_MS = SETTINGS.max_latency_ms
MAX_IMAGE_BYTES = SETTINGS.max_image_bytes
MAX_IMAGE_PIXELS = SETTINGS.max_image_pixels
MAX_SIDE = SETTINGS.max_side
# A multipart body carries the file plus boundaries and part headers.
MAX_REQUEST_BYTES = MAX_IMAGE_BYTES + 64 * 1024
DEVICE = SETTINGS.device
MODEL_THREADS = SETTINGS.threads
BACKEND: Backend = SETTINGS.backend
INT8 = SETTINGS.int8
# Who may read /metrics (the entry port is the public one): loopback and private networks unless set.
METRICS_ALLOW = parse_networks(SETTINGS.metrics_allow)
# The not-a-lesion calibration to use (default: the one shipped in skin_models), or "off" to judge every photo that
# passes the quality checks.
LESION_LIKENESS = SETTINGS.lesion_likeness.strip()
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
