"""Where the service leans on BentoML internals, checked against the installed BentoML, so that an upgrade that
moves them fails here with a message naming what to revisit, not as a quiet return of what the patch prevents
(BentoML fetching a URL given as the photo, a 500 for a stray field).

The seam: ``serving/http.py`` replaces the multipart parser in ``_bentoml_impl.serde.ALL_SERDE`` (BentoML's public
API has no hook for request parsing: ``bentoml.api(input_spec=...)`` takes a model, its parsing stays BentoML's).
``pyproject.toml`` pins BentoML to the minor version the patch was written against.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
REVISIT = ("BentoML changed under serving/http.py's install_upload_only_multipart_parser; check that it still "
           "replaces BentoML's multipart parser (or that BentoML's public API now can), then move the pin in "
           "pyproject.toml")


def _pinned_range() -> tuple[tuple[int, ...], tuple[int, ...]]:
    text = (REPO_ROOT / "pyproject.toml").read_text()
    match = re.search(r'"bentoml>=([\d.]+),<([\d.]+)"', text)
    assert match, "pyproject.toml must pin bentoml to a range: \"bentoml>=X,<Y\" (serving/http.py patches it)"
    return tuple(map(int, match[1].split("."))), tuple(map(int, match[2].split(".")))


def test_the_installed_bentoml_is_in_the_pinned_range() -> None:
    import bentoml

    low, high = _pinned_range()
    installed = tuple(int(part) for part in re.findall(r"\d+", bentoml.__version__)[:3])
    assert low <= installed < high, f"bentoml {bentoml.__version__} is outside the pinned range: {REVISIT}"


def test_the_multipart_parser_is_still_where_the_patch_puts_it() -> None:
    from _bentoml_impl import serde
    from _bentoml_impl.server import app

    assert isinstance(serde.ALL_SERDE, dict), REVISIT
    assert serde.ALL_SERDE.get("multipart/form-data") is not None, REVISIT
    assert hasattr(serde, "MultipartSerde") and serde.MultipartSerde.media_type == "multipart/form-data", REVISIT
    parse = serde.MultipartSerde.parse_request
    assert inspect.iscoroutinefunction(parse), REVISIT
    assert list(inspect.signature(parse).parameters) == ["self", "request", "cls"], REVISIT
    # The server must look the parser up per request (so a replacement installed at import is the one used).
    assert "ALL_SERDE.get(" in inspect.getsource(app.ServiceAppFactory.api_endpoint), REVISIT
    from _bentoml_sdk.io_models import IOMixin

    assert "multipart_fields" in IOMixin.__annotations__, REVISIT


def test_installing_the_parser_replaces_bentomls() -> None:
    from _bentoml_impl import serde

    from serving.http import install_upload_only_multipart_parser

    original = serde.ALL_SERDE["multipart/form-data"]
    try:
        install_upload_only_multipart_parser()
        installed = serde.ALL_SERDE["multipart/form-data"]
        assert installed is not original and issubclass(installed, serde.MultipartSerde), REVISIT
        assert installed.parse_request is not serde.MultipartSerde.parse_request, REVISIT
    finally:
        serde.ALL_SERDE["multipart/form-data"] = original  # type: ignore[index]


@pytest.mark.parametrize("name", ["bentoml.depends", "bentoml.api", "bentoml.service", "bentoml.get_current_service"])
def test_the_public_names_the_service_uses_exist(name: str) -> None:
    import bentoml

    assert callable(getattr(bentoml, name.split(".", 1)[1], None)), f"bentoml has no {name}: {REVISIT}"
