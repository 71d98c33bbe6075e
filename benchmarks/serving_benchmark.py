"""Serving benchmark for ``diagnose`` (not a test): ``python benchmarks/serving_benchmark.py`` from the repository root.

In one run it measures, at concurrency 1, 4, 16 and 32, throughput and p50/p95/p99 latency of POST /diagnose for

  (a) ``bentoml serve service:DrSkin`` as shipped (adaptive batching on);
  (b) the same with ``DRSKIN_BATCHING=off`` (max batch size 1);
  (c) a naive baseline: a single-threaded HTTP server (like the original Flask API) that loads the same models
      once and handles one request at a time, with the same pre- and post-processing;

plus the bare in-process time of one diagnosis (the models alone, and the whole pipeline without HTTP), and a
compute ceiling: the machine's float32 matmul GFLOP/s divided by the models' FLOPs per image.

Photos come from ``<repo>/../shared/data/ham10000-dev/images`` when present, synthetic otherwise. Models come from
the default BentoML store (``skin-classifier:latest`` / ``skin-segmenter:latest``); when it has none, tiny models
are registered into a temporary BENTOML_HOME and the report says so. Servers run on free 127.0.0.1 ports and are
stopped at the end. Results print as a Markdown table (and JSON with ``--json PATH``).
"""

from __future__ import annotations

import argparse
import asyncio
import email.parser
import email.policy
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

DATA_DIR = REPO_ROOT.parent / "shared" / "data" / "ham10000-dev" / "images"
CONCURRENCY = (1, 4, 16, 32)


# --- the naive baseline: one request at a time, same models, same pre/post-processing --------------------------------


class NaivePipeline:
    """Both models loaded once; ``diagnose(bytes)`` runs the service's own chain (``skin_models.pipeline``) in one
    thread, one photo at a time."""

    def __init__(self, classifier_dir: Path, segmenter_dir: Path) -> None:
        from skin_models.pipeline import Diagnoser
        from skin_models.predict import ClassifierPredictor, SegmenterPredictor
        from skin_models.verdict import LesionLikeness

        self.classifier = ClassifierPredictor(classifier_dir, threads=service_threads())
        self.segmenter = SegmenterPredictor(segmenter_dir, threads=service_threads())
        self.likeness = LesionLikeness.load()
        self.diagnoser = Diagnoser(self.classifier, self.segmenter, self.likeness)

    def model_only(self, image: Any) -> None:
        """Resize + normalise + forward pass of both networks for one decoded photo."""
        pipeline = self.diagnoser.pipeline
        photo = pipeline.prepare(image)
        maps = self.segmenter.network_maps_from_uint8(photo.for_segmenter[None])
        mask = pipeline.mask_from(photo, maps[0]) if pipeline.needs_mask_first else None
        self.classifier.logits_from_uint8(pipeline.classifier_view(photo, mask)[None])

    def diagnose(self, data: bytes, max_side: int | None = 1024, images: bool = False) -> dict[str, Any]:
        """One diagnosis, answered as the service answers (the lean answer: run-length mask and outline polygon;
        PNGs of the mask and the outlined photo with ``images``); a photo whose longer side is over ``max_side``
        is scaled down first (``None``: work at the photo's own size, as the service did before DRSKIN_MAX_SIDE)."""
        import base64

        from skin_models.imaging import decode_image, encode_png
        from skin_models.labels import get_label
        from skin_models.pipeline import Diagnoser
        from skin_models.postprocess import draw_overlay, outline_polygon, rle_encode

        uploaded = decode_image(data)
        diagnoser = self.diagnoser if max_side == self.diagnoser.pipeline.max_side else Diagnoser(
            self.classifier, self.segmenter, self.likeness, max_side=max_side)
        found = diagnoser.diagnose([uploaded])[0]
        assert found.mask is not None and found.measurements is not None
        top3 = [{"label": c, "label_name": get_label(c).name_en, "probability": p} for c, p in found.top(3)]
        pngs = {"mask_png": base64.b64encode(encode_png(found.mask)).decode(),
                "overlay_png": base64.b64encode(encode_png(draw_overlay(found.image, found.mask,
                                                                        fill_alpha=0.0))).decode()} if images else {}
        return {
            "verdict": str(found.verdict.verdict),
            "classification": {"label": found.label, "top3": top3, "probabilities": dict(zip(
                found.labels, map(float, found.probabilities), strict=True))} if found.judged else None,
            "segmentation": {"lesion_found": bool(found.mask.any()), "width": found.image.width,
                             "height": found.image.height, "original_width": uploaded.width,
                             "original_height": uploaded.height, "mask_rle": rle_encode(found.mask),
                             "outline": outline_polygon(found.mask), **pngs,
                             "measurements": found.measurements.as_dict()},
            "triage": found.triage.as_dict() if found.triage else None,
            "quality": {"warnings": [w.as_dict() for w in found.warnings]},
        }


def run_naive_server(port: int, classifier_dir: Path, segmenter_dir: Path) -> None:
    """Serve POST /diagnose (multipart field ``image``) one request at a time until killed."""
    pipeline = NaivePipeline(classifier_dir, segmenter_dir)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:  # readiness
            self._reply(200, b"ok\n", "text/plain")

        def do_POST(self) -> None:
            from skin_models.imaging import ImageError

            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                f"Content-Type: {self.headers['content-type']}\r\n\r\n".encode() + body)
            part = next((p for p in message.iter_parts() if p.get_param("name", header="content-disposition")
                         == "image"), None)
            if part is None:
                self._reply(422, b'{"error": "no image"}')
                return
            try:
                result = pipeline.diagnose(bytes(part.get_payload(decode=True)))
            except ImageError as exc:
                self._reply(400, json.dumps({"error": str(exc)}).encode())
                return
            self._reply(200, json.dumps(result).encode())

        def _reply(self, status: int, payload: bytes, content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    class Server(HTTPServer):
        request_queue_size = 128  # as Werkzeug's dev server (Flask); the default 5 resets bursts of connections

    Server(("127.0.0.1", port), Handler).serve_forever()


class NaiveServer:
    def __init__(self, bentoml_home: Path, classifier_dir: Path, segmenter_dir: Path, log: Path) -> None:
        from tests.fixtures.service import free_port

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = open(log, "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--naive-server", str(self.port), str(classifier_dir), str(segmenter_dir)],
            cwd=REPO_ROOT, env={**os.environ, "BENTOML_HOME": str(bentoml_home)}, stdout=self._log,
            stderr=subprocess.STDOUT, start_new_session=True)
        import httpx

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the naive server exited: {log.read_text()}")
            try:
                if httpx.get(self.url, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.25)
        raise RuntimeError("the naive server did not start")

    def stop(self) -> None:
        import signal

        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)
        self._log.close()


# --- load generation --------------------------------------------------------------------------------------------------


@dataclass
class LevelResult:
    server: str
    concurrency: int
    requests: int
    errors: int
    seconds: float
    throughput: float
    p50_ms: float
    p95_ms: float
    p99_ms: float


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[rank]


async def _drive(url: str, photos: list[bytes], concurrency: int, total: int) -> tuple[list[float], int, float]:
    import httpx

    latencies: list[float] = []
    errors = 0
    counter = iter(range(total))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async with httpx.AsyncClient(base_url=url, timeout=300.0, limits=limits) as client:
        async def worker() -> None:
            nonlocal errors
            for i in counter:
                start = time.perf_counter()
                try:
                    response = await client.post("/diagnose", files={"image": ("p.jpg", photos[i % len(photos)],
                                                                                 "image/jpeg")})
                except httpx.HTTPError:
                    errors += 1
                    continue
                latencies.append(time.perf_counter() - start)
                if response.status_code != 200:
                    errors += 1

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - began
    return latencies, errors, wall


def measure(servers: dict[str, str], photos: list[bytes], requests_for: Callable[[int], int]) -> list[LevelResult]:
    """Drive every server at each concurrency level in turn: the servers are measured side by side, level by
    level, so a change in the machine's background load hits all of them alike."""
    for url in servers.values():
        asyncio.run(_drive(url, photos, 4, 16))  # warm-up (and BentoML's dispatcher learns its timings)
    results = []
    for concurrency in CONCURRENCY:
        for server, url in servers.items():
            total = requests_for(concurrency)
            latencies, errors, wall = asyncio.run(_drive(url, photos, concurrency, total))
            ms = [x * 1000 for x in latencies]
            result = LevelResult(server, concurrency, total, errors, wall, total / wall, _percentile(ms, 50),
                                 _percentile(ms, 95), _percentile(ms, 99))
            print(f"  {server:<26} c={concurrency:<3} {result.throughput:6.2f} req/s  p50 {result.p50_ms:7.1f} ms  "
                  f"p95 {result.p95_ms:7.1f} ms  p99 {result.p99_ms:7.1f} ms  errors {errors}", flush=True)
            results.append(result)
    return results


# --- in-process measurements ------------------------------------------------------------------------------------------


def matmul_gflops(size: int = 1024, seconds: float = 3.0) -> float:
    import torch

    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.mm(a, b)
    runs, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        torch.mm(a, b)
        runs += 1
    return 2 * size**3 * runs / (time.perf_counter() - start) / 1e9


def model_flops(bundle: Path) -> float:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from skin_models.bundle import load_bundle

    model, config = load_bundle(bundle, "cpu")
    height, width = config.input_size
    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, 3, height, width))
    return float(counter.get_total_flops())


def batch_scaling(pipeline: NaivePipeline, sizes: tuple[int, ...] = (1, 2, 4, 8, 16, 32), repeats: int = 5
                  ) -> dict[str, dict[int, float]]:
    """Per model, ms per image (median over ``repeats``) of normalise + forward at each batch size: the curve that
    chose ``max_batch_size``."""
    import numpy as np

    out: dict[str, dict[int, float]] = {}
    for name, predictor, run in (("classifier", pipeline.classifier, pipeline.classifier.logits_from_uint8),
                                 ("segmenter", pipeline.segmenter, pipeline.segmenter.network_maps_from_uint8)):
        height, width = predictor.config.input_size
        out[name] = {}
        for size in sizes:
            batch = np.random.default_rng(0).integers(0, 256, (size, height, width, 3), dtype=np.uint8)
            run(batch)
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                run(batch)
                times.append((time.perf_counter() - start) * 1000 / size)
            out[name][size] = statistics.median(times)
    return out


def bare_times(pipeline: NaivePipeline, photos: list[bytes], repeats: int = 30) -> dict[str, float]:
    """Median ms per photo: decode only, both models only (resize + forward), the whole in-process diagnosis."""
    from skin_models.imaging import decode_image

    decoded = [decode_image(p) for p in photos[:10]]
    for image in decoded[:3]:
        pipeline.model_only(image)
    decode_ms, model_ms, full_ms = [], [], []
    for i in range(repeats):
        data = photos[i % len(photos)]
        t0 = time.perf_counter()
        image = decode_image(data)
        t1 = time.perf_counter()
        pipeline.model_only(image)
        t2 = time.perf_counter()
        pipeline.diagnose(data)
        t3 = time.perf_counter()
        decode_ms.append((t1 - t0) * 1000)
        model_ms.append((t2 - t1) * 1000)
        full_ms.append((t3 - t2) * 1000)
    return {"decode_ms": statistics.median(decode_ms), "models_ms": statistics.median(model_ms),
            "pipeline_ms": statistics.median(full_ms)}


# --- set-up -----------------------------------------------------------------------------------------------------------


def load_photos(limit: int) -> tuple[list[bytes], str]:
    if DATA_DIR.is_dir():
        files = sorted(DATA_DIR.glob("*.jpg"))[:limit]
        if files:
            return [f.read_bytes() for f in files], f"{len(files)} HAM10000 photos from {DATA_DIR}"
    from tests.fixtures.service import synthetic_lesion_photo

    return ([synthetic_lesion_photo(600, 450, seed=i) for i in range(limit)],
            f"{limit} synthetic 600x450 photos (no {DATA_DIR})")


def store_models(home: Path) -> dict[str, dict[str, Any]] | None:
    """{name: {tag, path, synthetic}} of the served models in the store at ``home``, or None if one is missing."""
    code = """
import json, os, bentoml
from bentoml.exceptions import NotFound
out = {}
for name, env in (("skin-classifier", "DRSKIN_CLASSIFIER"), ("skin-segmenter", "DRSKIN_SEGMENTER")):
    try:
        m = bentoml.models.get(os.environ.get(env) or f"{name}:latest")
    except NotFound:
        out = None
        break
    out[name] = {"tag": str(m.tag), "path": m.path, "synthetic": m.info.metadata.get("synthetic")}
print(json.dumps(out))
"""
    result = subprocess.run([sys.executable, "-c", code], env={**os.environ, "BENTOML_HOME": str(home)},
                            capture_output=True, text=True, check=True, cwd=REPO_ROOT)
    return json.loads(result.stdout.strip().splitlines()[-1])


def service_threads() -> int:
    """The service's per-model thread count (``DRSKIN_MODEL_THREADS``, default half the CPUs: serving.settings)."""
    from serving.settings import MODEL_THREADS

    return MODEL_THREADS


def use_service_threads() -> None:
    """The same per-model thread count as the service's default (half the cores each), for in-process numbers and
    the naive server alike, so every setting measured sees equally tuned models (the predictors take it as
    ``threads``; this sets torch's for what runs in PyTorch)."""
    import torch

    torch.set_num_threads(service_threads())


def served_or_tiny_models() -> tuple[Path, dict[str, dict[str, Any]], str, Path | None]:
    """(BentoML home, {name: {tag, path, synthetic}}, a note for the report, the temporary home or None): the
    default store's served models, or the tests' tiny models registered into a temporary home when it has none."""
    from tests.fixtures.service import register_tiny_models

    default_home = Path(os.environ.get("BENTOML_HOME", Path.home() / "bentoml"))
    models = store_models(default_home) if (default_home / "models").is_dir() else None
    temp_home = None
    if models is None:
        temp_home = Path(tempfile.mkdtemp(prefix="drskin-bench-"))
        print(f"The BentoML store at {default_home} has no skin-classifier/skin-segmenter: registering the tests' "
              f"tiny models into {temp_home} for this run.", flush=True)
        register_tiny_models(temp_home)
        home = temp_home
        models = store_models(home)
        assert models is not None
        note = (f"tiny test models registered into a temporary BENTOML_HOME (the default store at {default_home} was "
                "empty): classifier resnet18 at 32x40, segmenter unet-resnet18 (depth 3) at 64x64")
    else:
        home = default_home
        note = f"from the BentoML store at {home}"
    note += "; " + ", ".join(f"{v['tag']} (synthetic={v['synthetic']})" for v in models.values())
    return home, models, note, temp_home


@dataclass
class Report:
    command: str
    machine: dict[str, Any]
    models: dict[str, Any]
    models_note: str
    photos: str
    bare: dict[str, float] = field(default_factory=dict)
    batch_ms_per_image: dict[str, dict[int, float]] = field(default_factory=dict)
    flops: dict[str, float] = field(default_factory=dict)
    matmul_gflops: float = 0.0
    ceiling_images_per_s: float = 0.0
    results: list[LevelResult] = field(default_factory=list)

    def markdown(self) -> str:
        lines = [f"Command: `{self.command}`", "",
                 f"Machine: {self.machine['cpus']} CPUs ({self.machine['processor']}), Python "
                 f"{self.machine['python']}, load average at start {self.machine['loadavg']}", "",
                 f"Models: {self.models_note}", "", f"Photos: {self.photos}", "",
                 "| server | concurrency | requests | errors | throughput (req/s) | p50 (ms) | p95 (ms) | p99 (ms) |",
                 "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for r in self.results:
            lines.append(f"| {r.server} | {r.concurrency} | {r.requests} | {r.errors} | {r.throughput:.2f} | "
                         f"{r.p50_ms:.1f} | {r.p95_ms:.1f} | {r.p99_ms:.1f} |")
        lines += ["", f"Bare in-process, per photo (median): decode {self.bare['decode_ms']:.1f} ms; both models "
                      f"(resize + forward) {self.bare['models_ms']:.1f} ms; whole diagnosis without HTTP "
                      f"{self.bare['pipeline_ms']:.1f} ms.",
                  f"Compute ceiling: matmul {self.matmul_gflops:.1f} GFLOP/s ÷ "
                  f"{(self.flops['classifier'] + self.flops['segmenter']) / 1e9:.3f} GFLOP per photo "
                  f"(classifier {self.flops['classifier'] / 1e9:.3f} + segmenter {self.flops['segmenter'] / 1e9:.3f})"
                  f" = {self.ceiling_images_per_s:.0f} photos/s.", "",
                  "Forward pass, ms per image by batch size (in-process, median of 5):", "",
                  "| model | " + " | ".join(str(b) for b in next(iter(self.batch_ms_per_image.values()))) + " |",
                  "|---|" + "---:|" * len(next(iter(self.batch_ms_per_image.values())))]
        for name, row in self.batch_ms_per_image.items():
            lines.append(f"| {name} | " + " | ".join(f"{v:.2f}" for v in row.values()) + " |")
        return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=48, help="distinct photos to cycle through")
    parser.add_argument("--requests-per-worker", type=int, default=6,
                        help="requests per concurrent client at each level (at least 24 per level)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--skip", action="append", default=[], choices=["shipped", "no-batching", "naive"])
    args = parser.parse_args()

    from tests.fixtures.service import BentoServer

    use_service_threads()
    home, models, note, temp_home = served_or_tiny_models()

    photos, photos_note = load_photos(args.photos)
    load = os.getloadavg()
    report = Report(command="python " + " ".join([os.path.relpath(__file__, REPO_ROOT), *sys.argv[1:]]),
                    machine={"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine(),
                             "python": platform.python_version(),
                             "loadavg": f"{load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f}"},
                    models=models, models_note=note, photos=photos_note)
    classifier_dir = Path(models["skin-classifier"]["path"])
    segmenter_dir = Path(models["skin-segmenter"]["path"])

    print("In-process measurements ...", flush=True)
    pipeline = NaivePipeline(classifier_dir, segmenter_dir)
    report.bare = bare_times(pipeline, photos)
    report.batch_ms_per_image = batch_scaling(pipeline)
    report.flops = {"classifier": model_flops(classifier_dir), "segmenter": model_flops(segmenter_dir)}
    report.matmul_gflops = matmul_gflops()
    report.ceiling_images_per_s = report.matmul_gflops * 1e9 / (report.flops["classifier"] + report.flops["segmenter"])
    del pipeline
    print(f"  {report.bare}", flush=True)

    def requests_for(concurrency: int) -> int:
        return max(24, concurrency * args.requests_per_worker)

    logs = Path(tempfile.mkdtemp(prefix="drskin-bench-logs-"))
    running: list[Any] = []
    servers: dict[str, str] = {}
    try:
        if "shipped" not in args.skip:
            running.append(BentoServer(home, log_path=logs / "shipped.log"))
            servers["(a) BentoML, batching"] = running[-1].start()
        if "no-batching" not in args.skip:
            running.append(BentoServer(home, env={"DRSKIN_BATCHING": "off"}, log_path=logs / "no-batching.log"))
            servers["(b) BentoML, no batching"] = running[-1].start()
        if "naive" not in args.skip:
            running.append(NaiveServer(home, classifier_dir, segmenter_dir, logs / "naive.log"))
            servers["(c) naive, one at a time"] = running[-1].url
        results = measure(servers, photos, requests_for)
        report.results = sorted(results, key=lambda r: (r.server, r.concurrency))
    finally:
        for server in running:
            server.stop()
        if temp_home is not None:
            shutil.rmtree(temp_home, ignore_errors=True)
    print()
    print(report.markdown())
    if args.json:
        args.json.write_text(json.dumps(asdict(report), indent=2))
    shutil.rmtree(logs, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--naive-server":
        run_naive_server(int(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]))
    else:
        main()
