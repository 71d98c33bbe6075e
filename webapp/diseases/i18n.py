"""The language of a disease page.

The language comes from the site (``webapp.core.i18n``: ``?lang=``, the ``lang`` cookie, Accept-Language, English);
``request_language`` here only narrows it to the languages the library is written in, so the controller never
depends on the site's mechanism directly. The long medical text lives in the page files (``content``); the short
page furniture is in the site's catalogues like every other short text (docs/site.md, "Languages").
"""

from __future__ import annotations

from typing import Any

from litestar import Request

from webapp.core.i18n import request_language as site_language
from webapp.diseases.schemas import LANGUAGES, Language


def request_language(request: Request[Any, Any, Any]) -> Language:
    """The site's language for this request, as one the library has ("en" or "ko")."""
    lang = site_language(request)
    return lang if lang in LANGUAGES else "en"  # type: ignore[return-value]
