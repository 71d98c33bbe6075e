"""Fixtures for the site: an app per test on a fresh database (SQLite file and real PostgreSQL), a test client,
CSRF-aware form helpers and logged-in users."""

from __future__ import annotations

import os
import re
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from tests.webapp.images import lesion_photo

_CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')


def closed_port_url() -> str:
    """An address where nothing listens: a real "service down"."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database: a SQLite file, or a new database on the throwaway PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'site.db'}"
    return str(request.getfixturevalue("fresh_postgres_url"))


@pytest.fixture
def service_url(request: pytest.FixtureRequest) -> str:
    """The real BentoML service (``bento_service_url``, tests/fixtures/service.py); ``DRSKIN_TEST_SERVICE_URL``
    points elsewhere by hand."""
    override = os.environ.get("DRSKIN_TEST_SERVICE_URL")
    if override:
        return override
    return str(request.getfixturevalue("bento_service_url"))


@pytest.fixture
def site_env(monkeypatch: pytest.MonkeyPatch, db_url: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    from webapp.core.settings import clear_settings_cache

    env = {"DRSKIN_ENV": "test", "DATABASE_URL": db_url, "DRSKIN_SERVICE_URL": closed_port_url(),
           "DRSKIN_SERVICE_TIMEOUT": "20", "DRSKIN_RATE_LIMIT_LOGIN": "1000", "DRSKIN_RATE_LIMIT_REGISTER": "1000",
           "DRSKIN_RATE_LIMIT_DIAGNOSE": "1000", "DRSKIN_SECRET_KEY": "test-secret-" + "x" * 32}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    clear_settings_cache()
    yield env
    clear_settings_cache()


async def create_schema(database_url: str) -> None:
    """``create_all`` through a private engine: the app's engine belongs to the test client's event loop."""
    from sqlalchemy.ext.asyncio import create_async_engine

    from webapp.db.models import metadata

    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
    finally:
        await engine.dispose()


@dataclass
class SiteFactory:
    """Builds apps with extra environment (e.g. a real service URL) on the same database."""

    monkeypatch: pytest.MonkeyPatch
    schema_ready: bool = False

    async def __call__(self, *, with_schema: bool = True, **env: str) -> Litestar:
        from webapp.app import create_app
        from webapp.core.settings import clear_settings_cache

        for key, value in env.items():
            self.monkeypatch.setenv(key, value)
        clear_settings_cache()
        if with_schema and not self.schema_ready:
            await create_schema(os.environ["DATABASE_URL"])
            self.schema_ready = True
        return create_app()


@pytest.fixture
def make_app(site_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> SiteFactory:
    return SiteFactory(monkeypatch)


@pytest.fixture
async def app(make_app: SiteFactory) -> Litestar:
    return await make_app()


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app) as test_client:
        yield test_client


def csrf_from(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


async def post_form(client: AsyncTestClient[Litestar], page: str, action: str, data: dict[str, Any],
                    files: dict[str, Any] | None = None) -> Any:
    """GET ``page`` for its CSRF token, then POST ``data`` (and files) to ``action`` like the browser would."""
    token = csrf_from((await client.get(page)).text)
    return await client.post(action, data={**data, "_csrf_token": token}, files=files, follow_redirects=False)


async def register(client: AsyncTestClient[Litestar], email: str, password: str = "correct horse 1") -> Any:
    response = await post_form(client, "/register", "/register",
                               {"email": email, "password": password, "password_confirm": password})
    assert response.status_code in (302, 303), response.text[:500]
    return response


@pytest.fixture
def photo() -> bytes:
    return lesion_photo()


@asynccontextmanager
async def database(database_url: str) -> AsyncIterator[AsyncSession]:
    """A session on its own engine, for arranging rows and checking what the site stored."""
    engine = create_async_engine(database_url)
    try:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            yield session
    finally:
        await engine.dispose()


@dataclass
class StoredRows:
    user_id: uuid.UUID
    diagnosis_id: uuid.UUID
    photo_id: uuid.UUID
    overlay_id: uuid.UUID
    lesion_id: uuid.UUID


def fake_result(label: str = "nv", concerning: float = 0.1, area: float = 0.2, level: str = "low") -> dict[str, Any]:
    """A stored-result document of the current shape (``DiagnosisResult.stored()``) with the given numbers, for
    rows arranged directly: the service's answer (``tests.fixtures.contract``) with these probabilities."""
    from skin_models.contract import DiagnoseResponse
    from tests.fixtures.contract import diagnose_answer
    from webapp.core.diagnosis_result import DiagnosisResult

    rest = (1 - concerning) / 4
    probabilities = {"mel": concerning / 3, "bcc": concerning / 3, "akiec": concerning / 3,
                     "nv": rest, "bkl": rest, "df": rest, "vasc": rest}
    answer = diagnose_answer()
    classification, segmentation = answer["classification"], answer["segmentation"]
    classification.update(label=label, label_name=label, probabilities=probabilities, synthetic_model=True,
                          patient_context={"age": None, "sex": None, "site": None, "applied": False})
    segmentation.update(area_fraction=area, outline=[], synthetic_model=True)
    segmentation["measurements"].update(area_fraction=area, asymmetry=0.1, border_irregularity=1.2,
                                        colour_variegation=0.1, diameter_px=100.0)
    code = {"low": "below_threshold", "medium": "above_threshold"}.get(
        level, "melanoma_most_likely" if label == "mel" else "high_concern")
    answer["triage"] = {"level": level, "reason": "r", "reason_code": code, "advice": "a",
                        "concerning_probability": concerning, "threshold": 0.3}
    answer.update(explanation=None, quality={"warnings": []}, disclaimer="Not a diagnosis.",
                  models=[{**model, "tag": f"{model['name']}:t", "version": "t", "synthetic": True}
                          for model in answer["models"]])
    return DiagnosisResult.from_answer(DiagnoseResponse.model_validate(answer)).stored()


async def store_rows(database_url: str, email: str, *, photo: bytes | None = None, result: dict[str, Any] | None = None,
                     lesion_id: uuid.UUID | None = None) -> StoredRows:
    """A user (created if needed) with a lesion, a photo, an overlay and a diagnosis, written straight to the DB."""
    from sqlalchemy import select

    from webapp.core.passwords import hash_password
    from webapp.db.models import Diagnosis, Lesion, Photo, User

    result = result or fake_result()
    async with database(database_url) as session:
        user = await session.scalar(select(User).where(User.email == email))
        if user is None:
            user = User(email=email, password_hash=hash_password("correct horse 1"))
            session.add(user)
            await session.flush()
        if lesion_id is None:
            lesion = Lesion(user_id=user.id, name="arranged", body_site="back")
            session.add(lesion)
            await session.flush()
            lesion_id = lesion.id
        data = photo or lesion_photo(320, 240, with_gps=False)
        picture = Photo(user_id=user.id, content_type="image/jpeg", width=320, height=240, data=data)
        overlay = Photo(user_id=user.id, content_type="image/png", width=320, height=240,
                        data=lesion_photo(320, 240, fmt="PNG"))
        session.add_all([picture, overlay])
        await session.flush()
        diagnosis = Diagnosis(user_id=user.id, lesion_id=lesion_id, photo_id=picture.id, overlay_id=overlay.id,
                              label=result["classification"]["label"], triage_level=result["triage"]["level"],
                              concerning_probability=result["triage"]["concerning_probability"],
                              area_fraction=result["segmentation"]["area_fraction"], synthetic_model=True,
                              model_versions=result["models"], result_document=result)
        session.add(diagnosis)
        await session.commit()
        return StoredRows(user.id, diagnosis.id, picture.id, overlay.id, lesion_id)


async def count_rows(database_url: str) -> dict[str, int]:
    from sqlalchemy import func, select

    from webapp.db.models import Diagnosis, Lesion, Photo, User

    async with database(database_url) as session:
        return {model.__tablename__: int(await session.scalar(select(func.count()).select_from(model)) or 0)
                for model in (User, Photo, Lesion, Diagnosis)}
