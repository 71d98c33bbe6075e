"""The service's HTTP edge: what BentoML 1.4 does not do for it, or does in a way it must not.

* ``install_upload_only_multipart_parser``: BentoML's multipart parser, replaced by one that takes uploaded files
  only (it would fetch a URL given as text in a file field) and ignores undeclared fields;
* ``UploadGuard``: ASGI middleware on the public routes (request size 413, multipart only 415, ``/metrics`` only to
  ``DRSKIN_METRICS_ALLOW``) that rewrites BentoML's error bodies to ``{"error": message}`` (``rewrite_error``);
* ``client_errors``: the one place where a client's mistake, raised anywhere below an API (``ImageError``,
  ``ContextError``, ``ClientError``), becomes its 4xx with such a body (``error_response``).

It replaces BentoML's multipart parser in ``_bentoml_impl.serde`` (private: the public API has no hook for request
parsing), so ``pyproject.toml`` pins BentoML to the minor version it was written against, and
``tests/service/test_bentoml_seams.py`` fails with a message naming this file when BentoML changes underneath.
"""

from __future__ import annotations

import functools
import ipaddress
import json
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any, ParamSpec, TypeVar

from bentoml.exceptions import BentoMLException

from serving.settings import (
    MAX_IMAGE_BYTES,
    MAX_REQUEST_BYTES,
    METRICS_ALLOW,
    MISSING_IMAGE_MESSAGE,
    PUBLIC_ROUTES,
    STATUS_BY_IMAGE_ERROR,
)


class UploadRefused(BentoMLException):
    """A form field ``image`` that is not a file (e.g. a URL): this service never fetches anything."""

    error_code = HTTPStatus.BAD_REQUEST


class ClientError(Exception):
    """A client's mistake found by the service itself: the HTTP status and a message that says what was wrong and
    what to do."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error_response(status: int, message: str) -> Any:
    from starlette.responses import JSONResponse

    return JSONResponse({"error": message}, status_code=status)


def client_error_response(exc: Exception) -> Any:
    """The 4xx response for a client's mistake, or None when ``exc`` is not one (then it is the service's: 500)."""
    from skin_models.context import ContextError
    from skin_models.imaging import ImageError

    if isinstance(exc, ClientError):
        return error_response(exc.status, exc.message)
    if isinstance(exc, ImageError):
        return error_response(STATUS_BY_IMAGE_ERROR.get(exc.code, 400), str(exc))
    if isinstance(exc, ContextError):
        return error_response(422, f"{exc}. These fields are optional: leave out what you do not know.")
    return None


P = ParamSpec("P")
R = TypeVar("R")


def client_errors(api: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Decorates a public API: a client's mistake raised below it is answered with its 4xx (``client_error_response``);
    anything else propagates (a 500, logged by BentoML)."""

    @functools.wraps(api)
    async def answering(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await api(*args, **kwargs)
        except Exception as exc:
            response = client_error_response(exc)
            if response is None:
                raise
            return response  # type: ignore[no-any-return]

    return answering


def install_upload_only_multipart_parser() -> None:
    """Replace BentoML's multipart parser for this server with one that takes uploaded files only.

    BentoML 1.4's parser downloads any *text* value of a file field as a URL, and JSON-decodes every other field,
    so a stray binary field is a 500. This one refuses text in a file field (400, nothing is fetched), ignores
    fields the API does not declare, and leaves validation (a missing ``image`` → 422) to pydantic.
    """
    from _bentoml_impl import serde
    from starlette.datastructures import UploadFile

    class UploadOnlyMultipartSerde(serde.MultipartSerde):
        async def parse_request(self, request: Any, cls: Any) -> Any:
            try:
                form = await request.form()
            except Exception as exc:  # any failure to parse the client's body is the client's mistake, not a 500
                raise UploadRefused("The request body is not valid multipart/form-data (" + (
                    str(exc) or type(exc).__name__) + "). Send the photo as the file field 'image', for example: "
                    "curl -F image=@photo.jpg ...") from exc
            data: dict[str, Any] = {}
            for name in form:
                if name not in cls.model_fields:
                    continue
                values = form.getlist(name)
                if name in cls.multipart_fields:
                    files = [v for v in values if isinstance(v, UploadFile)]
                    if len(files) != len(values):
                        raise UploadRefused(f"The field {name!r} must be an uploaded file (multipart/form-data); "
                                            "this service does not fetch URLs or read paths.")
                    if len(files) > 1:
                        raise UploadRefused(f"The request has {len(files)} files in the field {name!r}; send one "
                                            "photo per request.")
                    data[name] = files[0]
                else:
                    value = values[0]
                    if isinstance(value, UploadFile):
                        value = await value.read()
                    if value in ("", b""):
                        continue  # a form input left empty: not given
                    try:
                        data[name] = json.loads(value)
                    except ValueError:
                        data[name] = value
            return cls.model_validate(data)

    serde.ALL_SERDE[serde.MultipartSerde.media_type] = UploadOnlyMultipartSerde



class UploadGuard:
    """ASGI middleware for the public routes: request size and type limits, and ``{"error": ...}`` bodies.

    * a body over ``MAX_REQUEST_BYTES`` is refused with 413 before it is read (Content-Length) or as soon as it
      exceeds the limit (chunked);
    * anything but multipart/form-data is refused with 415 (so a JSON body can never name a server-side path);
    * BentoML's own 4xx bodies are rewritten to ``{"error": message}``: its validation error for a missing field
      becomes 422 with a plain message, and its ``[{"error": ...}]`` (a list) for exceptions becomes an object.
    """

    def __init__(self, app: Any, max_request_bytes: int = MAX_REQUEST_BYTES) -> None:
        self.app = app
        self.max_request_bytes = max_request_bytes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope.get("path") == "/metrics" and not metrics_allowed(scope):
            await _send_json(send, 403, {"error": "Metrics are served only to the addresses in DRSKIN_METRICS_ALLOW."})
            return
        if scope["type"] != "http" or scope.get("method") != "POST" or scope.get("path") not in PUBLIC_ROUTES:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        limit_message = (f"The upload is larger than the limit of {MAX_IMAGE_BYTES / 1024 / 1024:.0f} MB; "
                         "please send a smaller photo (for example, export it as a JPEG).")
        try:
            declared = int(headers.get("content-length", "0"))
        except ValueError:
            declared = 0
        if declared > self.max_request_bytes:
            await _send_json(send, 413, {"error": limit_message})
            return
        if headers.get("content-type", "").split(";")[0].strip().lower() != "multipart/form-data":
            await _send_json(send, 415, {"error": "Send the photo as multipart/form-data with the file field 'image' "
                                                  "(for example: curl -F image=@photo.jpg ...)."})
            return

        received = 0
        refused = False
        started: dict[str, Any] | None = None
        buffered: list[bytes] = []

        async def limited_receive() -> dict[str, Any]:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_request_bytes and not refused:
                    refused = True
                    await _send_json(send, 413, {"error": limit_message})
                    return {"type": "http.disconnect"}
            return message

        async def rewriting_send(message: dict[str, Any]) -> None:
            nonlocal started
            if refused:
                return  # our 413 has been sent; drop whatever the app answers
            if message["type"] == "http.response.start":
                if message["status"] < 400:
                    await send(message)
                else:
                    started = message
                return
            if message["type"] == "http.response.body" and started is not None:
                buffered.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                status, body = rewrite_error(started["status"], b"".join(buffered))
                kept = [(k, v) for k, v in started.get("headers", []) if k.lower() not in (b"content-length",
                                                                                           b"content-type")]
                await send({"type": "http.response.start", "status": status,
                            "headers": [*kept, (b"content-type", b"application/json"),
                                        (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
            await send(message)

        await self.app(scope, limited_receive, rewriting_send)


def metrics_allowed(scope: dict[str, Any]) -> bool:
    """Whether the peer may read ``/metrics``: loopback and private networks by default (a cluster's Prometheus),
    never the open internet; ``DRSKIN_METRICS_ALLOW`` (comma-separated CIDRs) sets the list."""
    client = scope.get("client")
    try:
        address = ipaddress.ip_address(client[0]) if client else None
    except ValueError:
        return False
    return address is not None and any(address in network for network in METRICS_ALLOW)


async def _send_json(send: Any, status: int, payload: dict[str, Any]) -> None:
    body = json.dumps(payload).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def rewrite_error(status: int, body: bytes) -> tuple[int, bytes]:
    """BentoML's error bodies in the service's ``{"error": message}`` shape (see ``UploadGuard``)."""
    try:
        payload = json.loads(body or b"null")
    except ValueError:
        payload = None
    if isinstance(payload, list) and len(payload) == 1 and isinstance(payload[0], dict):
        payload = payload[0]  # BentoML 1.4 wraps an exception's 4xx body in a one-element list
    if not isinstance(payload, dict):
        text = body.decode("utf-8", "replace").strip() or "The request could not be processed."
        return status, json.dumps({"error": text}).encode()
    details = payload.get("detail")
    if status == 400 and isinstance(details, list):
        missing = [d for d in details if isinstance(d, dict) and d.get("type") == "missing"]
        if any(list(d.get("loc", []))[:1] == ["image"] for d in missing):
            return 422, json.dumps({"error": MISSING_IMAGE_MESSAGE}).encode()
        problems = "; ".join(f"{'.'.join(map(str, d.get('loc', [])))}: {d.get('msg', '')}" for d in details
                             if isinstance(d, dict))
        about_image = any(list(d.get("loc", []))[:1] == ["image"] for d in details if isinstance(d, dict))
        advice = MISSING_IMAGE_MESSAGE if about_image else (
            "The photo goes in the file field 'image'; age (years), sex, site and the answers about the spot (changed, "
            "grew, bled, itched, hurt, raised: true or false) are optional: leave out what you do "
            "not know.")
        return 422, json.dumps({"error": f"The request is not valid ({problems}). {advice}"}).encode()
    if "error" not in payload:
        payload = {"error": str(payload.get("detail") or payload)}
    return status, json.dumps({"error": str(payload["error"])}).encode()
