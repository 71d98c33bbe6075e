"""The API document's version is the package's, also where only the sources are installed (a bento)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import skin_models
from serving.openapi import ERROR_STATUSES, document, package_version

PYPROJECT = Path(__file__).resolve().parents[3] / "pyproject.toml"


def test_the_version_is_the_packages_wherever_it_is_read() -> None:
    version = tomllib.loads(PYPROJECT.read_text())["project"]["version"]
    assert package_version() == version
    assert skin_models.__version__ == version  # what a bento, which packs the sources only, reports


def test_every_public_route_lists_every_status_it_answers() -> None:
    spec: dict[str, Any] = {"info": {"title": "DrSkin", "version": "None"}, "paths": {
        "/diagnose": {"post": {"responses": {"200": {"description": "ok"}, "404": {}, "500": {}}}},
        "/livez": {"get": {"responses": {"200": {}}}}}}
    told = document(spec)
    assert set(told["paths"]["/diagnose"]["post"]["responses"]) == {"200", *map(str, ERROR_STATUSES)}
    assert told["paths"]["/livez"] == spec["paths"]["/livez"]  # only the public routes are rewritten
    assert {413, 415, 422, 503} <= set(ERROR_STATUSES)
