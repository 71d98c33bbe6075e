"""Community forms and views. ORM objects never reach the templates: controllers build these views."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from litestar.datastructures import UploadFile
from markupsafe import Markup

from webapp.community.rendering import FORMATS
from webapp.diagnoses.views import OutlineView, ProbabilityBar

TITLE_MAX = 200
BODY_MAX = 20_000
COMMENT_MAX = 5_000
REASON_MAX = 500
PER_PAGE = 10
SEARCH_MAX = 100

Translate = Callable[..., str]


def _checked(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "yes", "on", "true"}


@dataclass
class PostForm:
    """New and edited posts. The diagnosis select defaults to "" (nothing shared); only an explicit choice of one
    of the author's own diagnoses shares it, and its photo only with ``include_photo`` ticked as well."""

    title: str = ""
    body: str = ""
    body_format: str = "plain"
    photo: UploadFile | None = None
    remove_photo: str = ""
    diagnosis_id: str = ""
    include_photo: str = ""

    @property
    def wants_photo_removed(self) -> bool:
        return _checked(self.remove_photo)

    @property
    def includes_diagnosis_photo(self) -> bool:
        return _checked(self.include_photo)

    def errors(self, _: Translate) -> list[str]:
        problems = []
        if not self.title.strip() or len(self.title.strip()) > TITLE_MAX:
            problems.append(_("Give the post a title (1–%(max)s characters).", max=TITLE_MAX))
        if not self.body.strip() or len(self.body) > BODY_MAX:
            problems.append(_("Write something in the post (at most %(max)s characters).", max=BODY_MAX))
        if self.body_format not in FORMATS:
            problems.append(_("Choose plain text or Markdown."))
        return problems


@dataclass
class CommentForm:
    body: str = ""
    body_format: str = "plain"

    def errors(self, _: Translate) -> list[str]:
        problems = []
        if not self.body.strip() or len(self.body) > COMMENT_MAX:
            problems.append(_("Write a comment (at most %(max)s characters).", max=COMMENT_MAX))
        if self.body_format not in FORMATS:
            problems.append(_("Choose plain text or Markdown."))
        return problems


@dataclass
class ReportForm:
    reason: str = ""

    def errors(self, _: Translate) -> list[str]:
        if not self.reason.strip() or len(self.reason.strip()) > REASON_MAX:
            return [_("Say briefly why you report this (1–%(max)s characters).", max=REASON_MAX)]
        return []


def pseudonym(user_id: uuid.UUID) -> str:
    """A stable public name: email addresses are never shown to other people."""
    return "member-" + hashlib.sha256(b"drskin-community:" + user_id.bytes).hexdigest()[:8]


@dataclass(frozen=True)
class SharedDiagnosis:
    """What a shared diagnosis shows: the top class, the probabilities, the overlay; the photo only if chosen."""

    label: str
    label_name: str
    rows: list[ProbabilityBar]  # most probable first
    overlay_url: str | None  # diagnoses from before outlines were drawn by the site: a stored outlined copy
    photo_url: str | None
    outline: OutlineView | None  # the lesion's outline (the site draws it: over the photo when shared, else alone)
    synthetic_model: bool
    created_at: datetime


@dataclass(frozen=True)
class DiagnosisChoice:
    """One of the author's own diagnoses in the "attach my diagnosis" select."""

    id: uuid.UUID
    text: str


@dataclass(frozen=True)
class PostSummary:
    id: uuid.UUID
    title: str
    author: str
    is_mine: bool
    is_hidden: bool
    created_at: datetime
    comment_count: int
    has_photo: bool
    has_diagnosis: bool


@dataclass(frozen=True)
class CommentView:
    id: uuid.UUID
    author: str
    body_html: Markup
    is_mine: bool
    is_hidden: bool
    already_reported: bool
    created_at: datetime
    edited: bool


@dataclass(frozen=True)
class PostView:
    id: uuid.UUID
    title: str
    author: str
    body_html: Markup
    body: str
    body_format: str
    is_mine: bool
    is_hidden: bool
    already_reported: bool
    created_at: datetime
    edited: bool
    photo_url: str | None
    diagnosis: SharedDiagnosis | None
    diagnosis_id: uuid.UUID | None = None
    share_diagnosis_photo: bool = False


@dataclass
class QueueItem:
    """A reported (or hidden) post or comment in the moderation queue."""

    kind: str  # "post" | "comment"
    id: uuid.UUID
    post_id: uuid.UUID
    title: str
    excerpt: str
    author: str
    is_hidden: bool
    open_reports: int
    reasons: list[str] = field(default_factory=list)
    last_reported_at: datetime | None = None


def page_count(total: int, per_page: int = PER_PAGE) -> int:
    return max(1, -(-total // per_page))


def excerpt(text: str, length: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[: length - 1] + "…"
