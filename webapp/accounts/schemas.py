"""Forms in and views out. Every field has a default so that a half-filled form re-renders with a message
instead of failing validation with a bare 400."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

from skin_models.context import MAX_AGE, SEXES
from webapp.core.i18n import _
from webapp.core.passwords import MIN_PASSWORD_LENGTH

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def password_problems(password: str, confirm: str) -> list[str]:
    """The rules every new password follows (sign-up, reset)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return [_("Choose a password of at least %(num)d characters.", num=MIN_PASSWORD_LENGTH)]
    if password != confirm:
        return [_("The two passwords differ; type the same password twice.")]
    return []


@dataclass
class RegisterForm:
    email: str = ""
    password: str = ""
    password_confirm: str = ""
    time_zone: str = ""  # the browser's IANA zone (static/js/timezone.js fills it); empty without JavaScript

    def errors(self) -> list[str]:
        problems = []
        if not _EMAIL.match(self.email.strip()) or len(self.email) > 320:
            problems.append(_("Enter a valid email address, like name@example.org."))
        return problems + password_problems(self.password, self.password_confirm)


@dataclass
class LoginForm:
    email: str = ""
    password: str = ""
    next: str = "/"
    time_zone: str = ""  # the browser's zone: saved to an account that has none yet


@dataclass
class PasswordForm:
    current_password: str = ""
    new_password: str = ""
    new_password_confirm: str = ""

    def errors(self) -> list[str]:
        if len(self.new_password) < MIN_PASSWORD_LENGTH:
            return [_("Choose a new password of at least %(num)d characters.", num=MIN_PASSWORD_LENGTH)]
        if self.new_password != self.new_password_confirm:
            return [_("The two new passwords differ; type the same password twice.")]
        return []


@dataclass
class DeleteAccountForm:
    password: str = ""
    confirm: str = ""


@dataclass
class LanguageForm:
    language: str = ""


@dataclass
class TimeZoneForm:
    time_zone: str = ""


@dataclass
class AboutForm:
    """The account's optional context for the classifier: a birth year and a sex, each may be left empty."""

    birth_year: str = ""
    sex: str = ""

    def parsed(self, this_year: int) -> tuple[int | None, str | None, list[str]]:
        """(birth year, sex, problems); an empty field is None."""
        problems: list[str] = []
        year: int | None = None
        text = self.birth_year.strip()
        if text:
            try:
                year = int(text)
            except ValueError:
                year = None
            if year is None or not this_year - MAX_AGE <= year <= this_year:
                problems.append(_("Enter the year you were born as four digits (for example 1980), or leave it "
                                  "empty."))
                year = None
        sex = self.sex.strip().lower() or None
        if sex is not None and sex not in SEXES:
            problems.append(_("Choose female or male, or leave it empty."))
            sex = None
        return year, sex, problems


@dataclass(frozen=True)
class AccountView:
    id: uuid.UUID
    email: str
    is_moderator: bool
    diagnosis_count: int
    lesion_count: int
    language: str | None = None
    birth_year: int | None = None
    sex: str | None = None
    time_zone: str | None = None


def normalise_email(email: str) -> str:
    return email.strip().lower()


def safe_next(target: str | None) -> str:
    """Only same-site relative paths; anything else falls back to the home page: ``//evil.example``,
    ``https://…``, backslashes, and any control character or whitespace — browsers and ``urlsplit`` drop tabs and
    newlines, so "/<TAB>/evil.example" would become ``//evil.example``."""
    if not target or any(ord(c) <= 0x20 or ord(c) == 0x7F for c in target) or "\\" in target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@dataclass
class ForgotForm:
    email: str = ""

    def errors(self) -> list[str]:
        if not _EMAIL.match(self.email.strip()) or len(self.email) > 320:
            return [_("Enter a valid email address, like name@example.org.")]
        return []


@dataclass
class ResetForm:
    """A new password through a reset link (its token comes in a cookie): the sign-up rules, one place for them."""

    password: str = ""
    password_confirm: str = ""

    def errors(self) -> list[str]:
        return password_problems(self.password, self.password_confirm)
