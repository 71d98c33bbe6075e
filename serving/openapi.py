"""The API's own document: BentoML's generated OpenAPI document (``Service.openapi_spec``), told the truth, and
``GET /docs``, a page that reads it to a person.

BentoML writes its service's name as the title, "None" as the version outside a built bento, its boilerplate README
as the description, and 400/404/500 as the responses of every API. The public routes answer 400 (an upload that is
not an image, not multipart, or two photos), 413 (too large), 415 (not multipart/form-data, or an image format it
does not read), 422 (no photo, or a context value it does not understand), 503 (the queue is full or the service is
starting) and 500 (the service's own fault), always with ``{"error": message}``; this module says so.
"""

from __future__ import annotations

import html
import importlib.metadata
from typing import Any

from serving.settings import PUBLIC_ROUTES

TITLE = "Dr. Skin analysis service"
DESCRIPTION = (
    "Skin-lesion classification, segmentation and triage from one photo, for the Dr. Skin web site and for "
    "developers. **It is not a diagnosis**: an automated estimate from a single photo that can be wrong.\n\n"
    "Send the photo as the multipart/form-data file field `image` (for example `curl -F image=@photo.jpg "
    "http://HOST:PORT/diagnose`); `age`, `sex` and `site` are optional. Every error is `{\"error\": message}`: the "
    "message says what was wrong and what to do. `GET /info` describes the models served; `/livez` and `/readyz` "
    "are the health probes."
)
ERROR_SCHEMA = "ErrorResponse"  # skin_models.contract.ErrorResponse
# Status → when a public route answers it.
ERROR_STATUSES = {
    400: "The upload is not an image this service can read (empty, damaged), the body is not valid "
         "multipart/form-data, the field 'image' is not a file, or it holds more than one photo.",
    413: "The upload is larger than the size limit, or the image has more pixels than the limit.",
    415: "The body is not multipart/form-data, or the image is in a format the service does not read.",
    422: "The photo is missing, or a field (age, sex, site, explain, images) holds a value the service does not "
         "understand (an age of NaN or infinity included).",
    500: "The service failed on its own (not the request's fault); the log has the details.",
    503: "The service is busy (its queue is full) or still starting; try again in a moment.",
}


def package_version() -> str:
    """The installed drskin distribution's version, else the source tree's (a bento packs the sources only)."""
    try:
        return importlib.metadata.version("drskin")
    except importlib.metadata.PackageNotFoundError:
        from skin_models import __version__

        return __version__


def document(spec: dict[str, Any]) -> dict[str, Any]:
    """BentoML's OpenAPI document (``Service.openapi_spec.asdict()``) with the service's title, version and
    description, and each public route's responses as they are: 200 and every error status it answers."""
    spec = {**spec, "info": {"title": TITLE, "version": package_version(), "description": DESCRIPTION}}
    components = dict(spec.get("components") or {})
    schemas = dict(components.get("schemas") or {})
    from skin_models.contract import ErrorResponse

    schemas[ERROR_SCHEMA] = ErrorResponse.model_json_schema()
    components["schemas"] = schemas
    spec["components"] = components
    paths = dict(spec.get("paths") or {})
    for route in PUBLIC_ROUTES:
        if route not in paths or "post" not in paths[route]:
            continue
        operation = dict(paths[route]["post"])
        responses = {str(k): v for k, v in (operation.get("responses") or {}).items() if str(k).startswith("2")}
        for status, when in ERROR_STATUSES.items():
            responses[str(status)] = {"description": when, "content": {"application/json": {
                "schema": {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}}}}
        operation["responses"] = responses
        paths[route] = {**paths[route], "post": operation}
    spec["paths"] = paths
    return spec


def docs_page(spec: dict[str, Any]) -> str:
    """``GET /docs``: the document read to a person, as plain HTML with no scripts: each public route, its form
    fields and every status it answers."""
    e = html.escape
    schemas = (spec.get("components") or {}).get("schemas") or {}
    parts = [f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{e(spec['info']['title'])} "
             f"API</title></head><body><h1>{e(spec['info']['title'])} <small>{e(spec['info']['version'])}</small>"
             f"</h1><p>{e(spec['info']['description'])}</p><p>The machine-readable document: "
             "<a href=\"/docs.json\">/docs.json</a> (OpenAPI).</p>"]
    for route in PUBLIC_ROUTES:
        operation = ((spec.get("paths") or {}).get(route) or {}).get("post")
        if operation is None:
            continue
        parts.append(f"<h2>POST {e(route)}</h2><p>{e(operation.get('description') or '')}</p><h3>Form fields</h3>"
                     "<ul>")
        body = (operation.get("requestBody") or {}).get("content") or {}
        schema = (body.get("multipart/form-data") or {}).get("schema") or {}
        if "$ref" in schema:
            schema = schemas.get(schema["$ref"].rsplit("/", 1)[-1], {})
        required = set(schema.get("required") or [])
        for name, field in (schema.get("properties") or {}).items():
            need = "required" if name in required else "optional"
            parts.append(f"<li><code>{e(name)}</code> ({need}): {e(field.get('description') or '')}</li>")
        parts.append("</ul><h3>Answers</h3><ul>")
        for status, response in (operation.get("responses") or {}).items():
            parts.append(f"<li><strong>{e(str(status))}</strong>: {e(response.get('description') or '')}</li>")
        parts.append("</ul>")
    parts.append("</body></html>")
    return "".join(parts)
