"""The site's settings: every variable it reads, typed and validated (pydantic-settings, as the service's
``serving.settings`` and training's ``TrainConfig``): from the environment, else a ``.env`` file in the working
folder; an empty value counts as not set. One small cached model per concern, read through its ``get_*`` function.

A value that does not parse stops the site at start with a message naming the variable (``SettingsError``);
the few numbers the site has always kept within bounds (lock and reset-link minutes, mail queue and tries) are
clamped as before.
Nothing here connects to anything; reading a setting never touches the database or the network.
Call ``clear_settings_cache()`` after changing the environment (tests do). ``docs/site.md`` lists the variables.
"""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from skin_models.contract import DEFAULT_MAX_SIDE
from skin_models.imaging import DEFAULT_MAX_PIXELS

_PACKAGE_DIR = Path(__file__).resolve().parent.parent


def project_root() -> Path:
    """The repository when running from a checkout, otherwise the current directory (installed package)."""
    repo = _PACKAGE_DIR.parent
    return repo if (repo / "pyproject.toml").exists() else Path.cwd()


def var_dir() -> Path:
    return project_root() / "var"


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


_S = TypeVar("_S", bound="_Settings")


class SettingsError(RuntimeError):
    """A setting that does not parse, or settings that do not go together; the message names the variable."""


def _env(name: str, default: Any, **constraints: Any) -> Any:
    """A field read from the variable ``name`` only (never from a variable named like the field: ``PORT`` or
    ``HOST`` of a hosting platform must not leak in)."""
    return Field(default, validation_alias=name, **constraints)


def _clamped(low: int, high: int | None = None) -> Any:
    """A before-validator keeping an integer setting within [low, high], as the site always has (an operator's
    0 lock minutes meant 1), instead of refusing to start."""

    def clamp(value: Any) -> Any:
        try:
            number = int(str(value).strip())
        except ValueError:
            return value  # not a number: the field's own error names the variable
        return max(low, number if high is None else min(high, number))

    return clamp


class _Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_ignore_empty=True, extra="ignore", frozen=True)

    @classmethod
    def given(cls: type[_S], **values: Any) -> _S:
        """Built in code (tests, the development mail server) from field names; the rest from the environment."""
        aliases = {name: field.validation_alias if isinstance(field.validation_alias, str) else name
                   for name, field in cls.model_fields.items()}
        unknown = set(values) - set(aliases)
        if unknown:
            raise TypeError(f"{cls.__name__} has no setting {sorted(unknown)}")
        return cls(**{aliases[name]: value for name, value in values.items()})

    @model_validator(mode="before")
    @classmethod
    def _strip(cls, data: Any) -> Any:
        """Surrounding spaces are dropped (a password's are kept) and a value of spaces counts as not set."""
        if not isinstance(data, dict):
            return data
        kept = {}
        for key, value in data.items():
            if isinstance(value, str) and "password" not in str(key).lower():
                value = value.strip()
                if not value:
                    continue
            kept[key] = value
        return kept


class AppSettings(_Settings):
    env: str = _env("DRSKIN_ENV", "development", description="development, test or production")

    @field_validator("env")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower() or "development"

    @property
    def is_production(self) -> bool:
        return self.env == "production"


class DatabaseSettings(_Settings):
    url: str = _env("DATABASE_URL", "", description="SQLAlchemy URL; default: SQLite in var/drskin.db")
    echo: bool = _env("DRSKIN_DB_ECHO", False)

    @field_validator("url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        return normalise_database_url(value or f"sqlite+aiosqlite:///{var_dir() / 'drskin.db'}")

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")


class ServiceSettings(_Settings):
    url: str = _env("DRSKIN_SERVICE_URL", "http://127.0.0.1:3000", description="the BentoML service")
    timeout_s: float = _env("DRSKIN_SERVICE_TIMEOUT", 20.0, gt=0)

    @field_validator("url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")


class SecuritySettings(_Settings):
    secret_key: str = _env("DRSKIN_SECRET_KEY", "", description="signs session cookies; required in production")
    secure_cookies: bool = _env("DRSKIN_SECURE_COOKIES", False)
    session_max_age_s: int = _env("DRSKIN_SESSION_MAX_AGE", 14 * 24 * 3600, gt=0)


class UploadSettings(_Settings):
    """Photos people upload. The pixel limit and the stored side are the service's (one rule: a photo the site
    keeps is one the service would judge)."""

    max_upload_mb: float = _env("DRSKIN_MAX_UPLOAD_MB", 15.0, gt=0)

    @property
    def max_pixels(self) -> int:
        return DEFAULT_MAX_PIXELS

    @property
    def stored_max_side(self) -> int:
        return DEFAULT_MAX_SIDE

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)


class RateLimitSettings(_Settings):
    """Requests per minute per client IP and route (POST only), and per account for the community. 0 disables a
    limit."""

    login_per_minute: int = _env("DRSKIN_RATE_LIMIT_LOGIN", 10, ge=0)
    register_per_minute: int = _env("DRSKIN_RATE_LIMIT_REGISTER", 5, ge=0)
    diagnose_per_minute: int = _env("DRSKIN_RATE_LIMIT_DIAGNOSE", 20, ge=0)
    reset_per_minute: int = _env("DRSKIN_RATE_LIMIT_RESET", 5, ge=0)  # "forgot your password" requests
    post_per_minute: int = _env("DRSKIN_RATE_LIMIT_POST", 5, ge=0)  # community posts per account
    comment_per_minute: int = _env("DRSKIN_RATE_LIMIT_COMMENT", 20, ge=0)  # community comments per account
    # wrong passwords per account before it is locked for login_lock_minutes
    login_max_failures: int = _env("DRSKIN_LOGIN_MAX_FAILURES", 10, ge=0)  # 0: never locked
    login_lock_minutes: int = _env("DRSKIN_LOGIN_LOCK_MINUTES", 15, ge=1)

    _lock_minutes = field_validator("login_lock_minutes", mode="before")(_clamped(1))


SmtpSecurity = Literal["starttls", "tls", "none"]
_DEFAULT_SMTP_PORTS = {"starttls": 587, "tls": 465, "none": 25}


class MailSettings(_Settings):
    """The SMTP server the site sends its mail through (``webapp.core.mail``); no host: no mail leaves the site (in
    development a server inside the site's process receives it, ``webapp.core.devmail``)."""

    host: str | None = _env("DRSKIN_SMTP_HOST", None)
    # "starttls" (submission, 587), "tls" (implicit TLS, 465) or "none" (a relay on a trusted network)
    security: SmtpSecurity = _env("DRSKIN_SMTP_SECURITY", "starttls")
    port: int = _env("DRSKIN_SMTP_PORT", 0, ge=0, le=65535, description="default: the security's usual port")
    username: str | None = _env("DRSKIN_SMTP_USER", None)
    password: str | None = _env("DRSKIN_SMTP_PASSWORD", None)
    from_address: str = _env("DRSKIN_MAIL_FROM", "Dr. Skin <no-reply@localhost>")
    # the site's address as people reach it, for links in mails (never the request's Host)
    public_url: str | None = _env("DRSKIN_PUBLIC_URL", None)
    queue_size: int = _env("DRSKIN_MAIL_QUEUE", 200, ge=1)  # mails waiting; more are refused (and logged)
    attempts: int = _env("DRSKIN_MAIL_ATTEMPTS", 4, ge=1)  # tries per mail, 2 s, 4 s, 8 s apart
    retry_base_s: float = _env("DRSKIN_MAIL_RETRY_SECONDS", 2.0, ge=0)
    timeout_s: float = _env("DRSKIN_SMTP_TIMEOUT", 20.0, gt=0)
    reset_token_minutes: int = _env("DRSKIN_RESET_TOKEN_MINUTES", 30, ge=15, le=60)  # how long a reset link works
    # reset mails to one address per hour; more requests send nothing
    reset_per_address_per_hour: int = _env("DRSKIN_RESET_PER_ADDRESS_HOUR", 3, ge=0)

    _at_least_one = field_validator("queue_size", "attempts", mode="before")(_clamped(1))
    _reset_minutes = field_validator("reset_token_minutes", mode="before")(_clamped(15, 60))

    @field_validator("security", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("public_url")
    @classmethod
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") or None if value else None

    @model_validator(mode="after")
    def _usual_port(self) -> MailSettings:
        if self.port == 0:
            object.__setattr__(self, "port", _DEFAULT_SMTP_PORTS[self.security])
        return self

    @property
    def development_server(self) -> bool:
        """True when the site should receive its own mail (development without a configured server)."""
        return self.host is None and get_app_settings().env == "development"


class ReportSettings(_Settings):
    """The PDF report for a doctor (``webapp.reports``): the TrueType font with Hangul it embeds; None: look it up."""

    font_path: str | None = _env("DRSKIN_REPORT_FONT", None)


class WebServerSettings(_Settings):
    """``python -m webapp run``: where the site listens, and the proxies whose X-Forwarded-For it believes
    (addresses or CIDR ranges, comma-separated; none: nobody, so a client cannot choose its own address)."""

    host: str = _env("DRSKIN_WEB_HOST", "127.0.0.1")
    port: int = _env("DRSKIN_WEB_PORT", 8000, ge=1, le=65535)
    forwarded_allow_ips: str = _env("FORWARDED_ALLOW_IPS", "")


def _load(model: type[_S]) -> _S:
    try:
        return model()
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
                             for error in exc.errors())
        raise SettingsError(f"invalid site setting — {problems}") from None


@lru_cache
def get_app_settings() -> AppSettings:
    return _load(AppSettings)


@lru_cache
def get_database_settings() -> DatabaseSettings:
    return _load(DatabaseSettings)


@lru_cache
def get_service_settings() -> ServiceSettings:
    return _load(ServiceSettings)


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
    settings = _load(SecuritySettings)
    if not settings.secret_key:
        if get_app_settings().is_production:
            raise SettingsError("DRSKIN_SECRET_KEY must be set when DRSKIN_ENV=production")
        key = secrets.token_urlsafe(48) if get_app_settings().env == "test" else _development_secret()
        settings = settings.model_copy(update={"secret_key": key})
    return settings


@lru_cache
def get_upload_settings() -> UploadSettings:
    return _load(UploadSettings)


@lru_cache
def get_rate_limit_settings() -> RateLimitSettings:
    return _load(RateLimitSettings)


@lru_cache
def get_mail_settings() -> MailSettings:
    settings = _load(MailSettings)
    if settings.host and get_app_settings().is_production and not settings.public_url:
        # Without it a reset link would be built from the request's Host header, which a client chooses.
        raise SettingsError("DRSKIN_PUBLIC_URL must be set when DRSKIN_ENV=production and mail is configured")
    return settings


@lru_cache
def get_report_settings() -> ReportSettings:
    return _load(ReportSettings)


@lru_cache
def get_web_server_settings() -> WebServerSettings:
    return _load(WebServerSettings)


def clear_settings_cache() -> None:
    for getter in (get_app_settings, get_database_settings, get_service_settings, get_security_settings,
                   get_upload_settings, get_rate_limit_settings, get_report_settings, get_mail_settings,
                   get_web_server_settings):
        getter.cache_clear()
