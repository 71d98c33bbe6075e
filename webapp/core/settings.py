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
    reset_per_minute: int = 5  # "forgot your password" requests per client IP
    login_max_failures: int = 10  # wrong passwords per account before it is locked for login_lock_minutes
    login_lock_minutes: int = 15


@dataclass(frozen=True, slots=True)
class MailSettings:
    """The SMTP server the site sends its mail through (``webapp.core.mail``); no host: no mail leaves the site (in
    development a server inside the site's process receives it, ``webapp.core.devmail``)."""

    host: str | None
    port: int
    security: str  # "starttls" (submission, 587), "tls" (implicit TLS, 465) or "none" (a relay on a trusted network)
    username: str | None
    password: str | None
    from_address: str
    public_url: str | None  # the site's address as people reach it, for links in mails (never the request's Host)
    queue_size: int = 200  # mails waiting to be sent; more are refused (and logged) instead of growing memory
    attempts: int = 4  # tries per mail, 2 s, 4 s, 8 s apart
    retry_base_s: float = 2.0
    timeout_s: float = 20.0
    reset_token_minutes: int = 30  # how long a password-reset link works (15-60)
    reset_per_address_per_hour: int = 3  # reset mails to one address per hour; more requests send nothing

    @property
    def development_server(self) -> bool:
        """True when the site should receive its own mail (development without a configured server)."""
        return self.host is None and get_app_settings().env == "development"


SMTP_SECURITY = ("starttls", "tls", "none")


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
                             reset_per_minute=_int("DRSKIN_RATE_LIMIT_RESET", 5),
                             login_max_failures=_int("DRSKIN_LOGIN_MAX_FAILURES", 10),
                             login_lock_minutes=max(1, _int("DRSKIN_LOGIN_LOCK_MINUTES", 15)))


@lru_cache
def get_mail_settings() -> MailSettings:
    security = os.environ.get("DRSKIN_SMTP_SECURITY", "starttls").strip().lower() or "starttls"
    if security not in SMTP_SECURITY:
        raise RuntimeError(f"DRSKIN_SMTP_SECURITY must be one of {', '.join(SMTP_SECURITY)}, not {security!r}")
    default_port = {"starttls": 587, "tls": 465, "none": 25}[security]
    settings = MailSettings(
        host=os.environ.get("DRSKIN_SMTP_HOST", "").strip() or None,
        port=_int("DRSKIN_SMTP_PORT", default_port), security=security,
        username=os.environ.get("DRSKIN_SMTP_USER", "").strip() or None,
        password=os.environ.get("DRSKIN_SMTP_PASSWORD") or None,
        from_address=os.environ.get("DRSKIN_MAIL_FROM", "").strip() or "Dr. Skin <no-reply@localhost>",
        public_url=(os.environ.get("DRSKIN_PUBLIC_URL", "").strip().rstrip("/") or None),
        queue_size=max(1, _int("DRSKIN_MAIL_QUEUE", 200)), attempts=max(1, _int("DRSKIN_MAIL_ATTEMPTS", 4)),
        retry_base_s=_float("DRSKIN_MAIL_RETRY_SECONDS", 2.0), timeout_s=_float("DRSKIN_SMTP_TIMEOUT", 20.0),
        reset_token_minutes=min(60, max(15, _int("DRSKIN_RESET_TOKEN_MINUTES", 30))),
        reset_per_address_per_hour=_int("DRSKIN_RESET_PER_ADDRESS_HOUR", 3))
    if settings.host and get_app_settings().is_production and not settings.public_url:
        # Without it a reset link would be built from the request's Host header, which a client chooses.
        raise RuntimeError("DRSKIN_PUBLIC_URL must be set when DRSKIN_ENV=production and mail is configured")
    return settings


@lru_cache
def get_report_settings() -> ReportSettings:
    return ReportSettings(font_path=os.environ.get("DRSKIN_REPORT_FONT", "").strip() or None)


def clear_settings_cache() -> None:
    for getter in (get_app_settings, get_database_settings, get_service_settings, get_security_settings,
                   get_upload_settings, get_rate_limit_settings, get_report_settings, get_mail_settings):
        getter.cache_clear()
