"""Settings from the environment: one small cached dataclass per concern.

Nothing here connects to anything; reading a setting never touches the database or the network.
Call ``clear_settings_cache()`` after changing the environment (tests do).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent.parent


def project_root() -> Path:
    """The repository when running from a checkout, otherwise the current directory (installed package)."""
    repo = _PACKAGE_DIR.parent
    return repo if (repo / "pyproject.toml").exists() else Path.cwd()


def var_dir() -> Path:
    return project_root() / "var"


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    return float(raw) if raw else default


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


def normalise_database_url(url: str) -> str:
    """Map plain/sync PostgreSQL and SQLite URLs onto the async drivers the site uses."""
    url = url.strip()
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix):]
    if url.startswith("sqlite://") and not url.startswith("sqlite+aiosqlite://"):
        return "sqlite+aiosqlite://" + url[len("sqlite://"):]
    # postgresql+asyncpg:// and postgresql+psycopg:// (psycopg 3 is async-capable) pass through.
    return url


@dataclass(frozen=True, slots=True)
class AppSettings:
    env: str

    @property
    def is_production(self) -> bool:
        return self.env == "production"


@dataclass(frozen=True, slots=True)
class DatabaseSettings:
    url: str
    echo: bool = False

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")


@dataclass(frozen=True, slots=True)
class ServiceSettings:
    url: str
    timeout_s: float


@dataclass(frozen=True, slots=True)
class SecuritySettings:
    secret_key: str
    secure_cookies: bool
    session_max_age_s: int = 14 * 24 * 3600


@dataclass(frozen=True, slots=True)
class UploadSettings:
    max_upload_mb: float
    max_pixels: int = 50_000_000
    stored_max_side: int = 1024

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)


@dataclass(frozen=True, slots=True)
class RateLimitSettings:
    """Requests per minute per client IP and route (POST only). 0 disables a limit."""

    login_per_minute: int
    register_per_minute: int
    diagnose_per_minute: int
    login_max_failures: int = 10  # wrong passwords per account before it is locked for login_lock_minutes
    login_lock_minutes: int = 15


@dataclass(frozen=True, slots=True)
class ReportSettings:
    """The PDF report for a doctor (``webapp.reports``): the TrueType font with Hangul it embeds; None: look it up."""

    font_path: str | None = None


@lru_cache
def get_app_settings() -> AppSettings:
    return AppSettings(env=os.environ.get("DRSKIN_ENV", "development").strip().lower() or "development")


@lru_cache
def get_database_settings() -> DatabaseSettings:
    default = f"sqlite+aiosqlite:///{var_dir() / 'drskin.db'}"
    return DatabaseSettings(url=normalise_database_url(os.environ.get("DATABASE_URL") or default),
                            echo=_bool("DRSKIN_DB_ECHO", False))


@lru_cache
def get_service_settings() -> ServiceSettings:
    url = (os.environ.get("DRSKIN_SERVICE_URL") or "http://127.0.0.1:3000").rstrip("/")
    return ServiceSettings(url=url, timeout_s=_float("DRSKIN_SERVICE_TIMEOUT", 20.0))


def _development_secret() -> str:
    """A secret kept in var/secret_key so that sessions survive restarts of a local site."""
    path = var_dir() / "secret_key"
    try:
        if path.exists():
            key = path.read_text().strip()
            if key:
                return key
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key
    except OSError:
        # A read-only checkout still runs; sessions just do not survive a restart.
        return secrets.token_urlsafe(48)


@lru_cache
def get_security_settings() -> SecuritySettings:
    key = os.environ.get("DRSKIN_SECRET_KEY", "").strip()
    if not key:
        if get_app_settings().is_production:
            raise RuntimeError("DRSKIN_SECRET_KEY must be set when DRSKIN_ENV=production")
        key = secrets.token_urlsafe(48) if get_app_settings().env == "test" else _development_secret()
    return SecuritySettings(secret_key=key, secure_cookies=_bool("DRSKIN_SECURE_COOKIES", False),
                            session_max_age_s=_int("DRSKIN_SESSION_MAX_AGE", 14 * 24 * 3600))


@lru_cache
def get_upload_settings() -> UploadSettings:
    return UploadSettings(max_upload_mb=_float("DRSKIN_MAX_UPLOAD_MB", 15.0))


@lru_cache
def get_rate_limit_settings() -> RateLimitSettings:
    return RateLimitSettings(login_per_minute=_int("DRSKIN_RATE_LIMIT_LOGIN", 10),
                             register_per_minute=_int("DRSKIN_RATE_LIMIT_REGISTER", 5),
                             diagnose_per_minute=_int("DRSKIN_RATE_LIMIT_DIAGNOSE", 20),
                             login_max_failures=_int("DRSKIN_LOGIN_MAX_FAILURES", 10),
                             login_lock_minutes=max(1, _int("DRSKIN_LOGIN_LOCK_MINUTES", 15)))


@lru_cache
def get_report_settings() -> ReportSettings:
    return ReportSettings(font_path=os.environ.get("DRSKIN_REPORT_FONT", "").strip() or None)


def clear_settings_cache() -> None:
    for getter in (get_app_settings, get_database_settings, get_service_settings, get_security_settings,
                   get_upload_settings, get_rate_limit_settings, get_report_settings):
        getter.cache_clear()
