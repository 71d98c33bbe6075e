"""The site's languages: English and Korean through gettext message catalogues (Babel).

One place decides a request's language (``request_language``): ``?lang=`` (then remembered in a cookie), the
``lang`` cookie, the Accept-Language header (Babel's ``negotiate_locale``), English otherwise.

Catalogues: ``webapp/locales/<lang>/LC_MESSAGES/messages.po`` (English msgids). They are read straight from the
``.po`` with Babel at start-up and compiled in memory, so there is no build step. English is the source language:
its "catalogue" is the identity.

Python code: ``gettext(request, "Text")`` / ``gettext("ko", "Hello %(name)s", name=...)`` and ``ngettext``;
``lazy_gettext`` marks module-level texts (translated when rendered). Templates: ``{{ _("Text") }}``,
``{{ _("Hello %(name)s", name=user.name) }}``, ``{{ ngettext("%(num)d photo", "%(num)d photos", n) }}`` and
``{{ lang }}`` follow the current request's language. Extraction (see docs/site.md)::

    pybabel extract -F webapp/babel.cfg -o webapp/locales/messages.pot webapp
    pybabel update -i webapp/locales/messages.pot -d webapp/locales
"""

from __future__ import annotations

import gettext as _gettext
import io
from collections.abc import Callable, Mapping
from contextlib import suppress
from contextvars import ContextVar
from functools import cache
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from babel.core import negotiate_locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from markupsafe import Markup, escape

SUPPORTED: tuple[str, ...] = ("en", "ko")
DEFAULT = "en"
LANG_PARAM = "lang"
LANG_COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600
LANGUAGE_NAMES = {"en": "EN", "ko": "한국어"}  # the header's switcher
LANGUAGE_FULL_NAMES = {"en": "English", "ko": "한국어"}  # each in its own language (the account page)
LOCALES_DIR = Path(__file__).resolve().parents[1] / "locales"
DOMAIN = "messages"

_STATE_KEY = "drskin_lang"
_current: ContextVar[str | None] = ContextVar("drskin_language", default=None)


# --------------------------------------------------------------------------------------------------- catalogues
@cache
def translations(lang: str) -> _gettext.NullTranslations:
    """The catalogue for ``lang``, compiled in memory from its ``.po`` (English and unknown: the identity)."""
    if lang == DEFAULT or lang not in SUPPORTED:
        return _gettext.NullTranslations()
    po_path = LOCALES_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po_path.exists():
        return _gettext.NullTranslations()
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=lang, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer, domain=DOMAIN)


def reload_catalogues() -> None:
    """Forget the compiled catalogues (tests, or after editing a ``.po`` in development)."""
    translations.cache_clear()


# ------------------------------------------------------------------------------------------------- the language
def normalize(value: str | None) -> str | None:
    """``"ko-KR"``, ``"ko_kr"``, ``"KO"`` → ``"ko"``; unsupported or empty → None."""
    if not value:
        return None
    primary = value.strip().lower().replace("_", "-").split("-")[0]
    return primary if primary in SUPPORTED else None


def parse_accept_language(header: str | None) -> list[str]:
    """Language tags of an Accept-Language header, best first (q-value, then position); q=0 dropped."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip()
        if not tag or tag == "*":
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            ranked.append((-quality, position, tag.replace("-", "_")))
    return [tag for _, _, tag in sorted(ranked)]


def negotiate(header: str | None) -> str | None:
    """The supported language that best matches an Accept-Language header, or None."""
    preferred = parse_accept_language(header)
    if not preferred:
        return None
    # Babel tries each preferred tag exactly, then its language part ("ko_KR" -> "ko").
    return normalize(negotiate_locale(preferred, list(SUPPORTED), sep="_"))


def _query_lang(request: Any) -> str | None:
    try:
        return normalize(request.query_params.get(LANG_PARAM))
    except Exception:
        return None


def request_language(request: Any) -> str:
    """The language of this request: ``?lang=``, the ``lang`` cookie, Accept-Language, then English.

    The answer is cached on the request's scope and also becomes the current language of this context (so Python
    code without the request — and templates — follow it). A ``?lang=`` is remembered by ``remember_language``.
    """
    if request is None:
        return current_language()
    state = request.scope.setdefault("state", {})
    lang = state.get(_STATE_KEY)
    if lang is None:
        lang = (_query_lang(request)
                or normalize(request.cookies.get(LANG_COOKIE))
                or negotiate(request.headers.get("accept-language"))
                or DEFAULT)
        state[_STATE_KEY] = lang
    _current.set(lang)
    return str(lang)


def current_language() -> str:
    """The language of the request being served in this context (English outside a request)."""
    return _current.get() or DEFAULT


def set_current_language(lang: str) -> None:
    _current.set(normalize(lang) or DEFAULT)


def _resolve(request_or_lang: Any) -> str:
    if request_or_lang is None:
        return current_language()
    if isinstance(request_or_lang, str):
        return normalize(request_or_lang) or DEFAULT
    return request_language(request_or_lang)


# ------------------------------------------------------------------------------------------------- translating
def gettext(request_or_lang: Any, msgid: str, **kwargs: Any) -> str:
    """``msgid`` in the request's (or the given) language, ``%(name)s`` placeholders filled from ``kwargs``."""
    text = translations(_resolve(request_or_lang)).gettext(msgid)
    return text % kwargs if kwargs else text


def ngettext(request_or_lang: Any, singular: str, plural: str, n: int, **kwargs: Any) -> str:
    """Singular or plural by ``n``; ``%(num)d`` is ``n`` unless given."""
    text = translations(_resolve(request_or_lang)).ngettext(singular, plural, n)
    kwargs.setdefault("num", n)
    return text % kwargs


def _(msgid: str, **kwargs: Any) -> str:
    """The current context's language: for code that has no request at hand."""
    return gettext(None, msgid, **kwargs)


def N_(msgid: str) -> str:
    """Mark a text for extraction without translating it (module-level constants; translate with ``_()`` later)."""
    return msgid


class LazyText:
    """A text translated when it is turned into a string (module-level constants, e.g. error page titles)."""

    __slots__ = ("kwargs", "msgid")

    def __init__(self, msgid: str, **kwargs: Any) -> None:
        self.msgid = msgid
        self.kwargs = kwargs

    def __str__(self) -> str:
        return gettext(None, self.msgid, **self.kwargs)

    def translate(self, request_or_lang: Any) -> str:
        return gettext(request_or_lang, self.msgid, **self.kwargs)

    def __eq__(self, other: object) -> bool:
        return str(self) == str(other)

    def __hash__(self) -> int:
        return hash(self.msgid)

    def __repr__(self) -> str:
        return f"LazyText({self.msgid!r})"


def lazy_gettext(msgid: str, **kwargs: Any) -> LazyText:
    return LazyText(msgid, **kwargs)


def with_language(url: str, lang: str) -> str:
    """``url`` (a path with an optional query) with ``?lang=`` set to ``lang``, other query parameters kept: the
    page it leads to switches to that language and remembers it (``remember_language_hook``)."""
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    parts = urlsplit(url)
    params = [(key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True) if key != LANG_PARAM]
    params.append((LANG_PARAM, lang))
    return urlunsplit(parts._replace(query=urlencode(params)))


# ------------------------------------------------------------------------------------------------------ Jinja
class _CurrentLang:
    """``{{ lang }}`` in templates: the current request's language, compared like a string."""

    def __str__(self) -> str:
        return current_language()

    def __html__(self) -> str:
        return current_language()

    def __eq__(self, other: object) -> bool:
        return current_language() == str(other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(current_language())

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        return repr(current_language())


def _context_lang(context: Any) -> str:
    request = context.get("request") if context is not None else None
    if request is not None:
        try:
            return request_language(request)
        except Exception:
            pass
    return current_language()


def _format(context: Any, text: str, kwargs: Mapping[str, Any]) -> str:
    """Like Jinja's i18n extension: under autoescape the catalogue text is trusted, the values are escaped."""
    if context.eval_ctx.autoescape:
        markup = Markup(text)
        return markup % {key: escape(value) for key, value in kwargs.items()} if kwargs else markup
    return text % kwargs if kwargs else text


def install_jinja(env: Any) -> None:
    """Give a Jinja environment ``_``, ``gettext``, ``ngettext``, ``lang``, ``languages`` and ``lang_url``."""
    from jinja2 import pass_context

    @pass_context
    def jinja_gettext(context: Any, msgid: str, **kwargs: Any) -> str:
        return _format(context, translations(_context_lang(context)).gettext(msgid), kwargs)

    @pass_context
    def jinja_ngettext(context: Any, singular: str, plural: str, n: int, **kwargs: Any) -> str:
        text = translations(_context_lang(context)).ngettext(singular, plural, n)
        kwargs.setdefault("num", n)
        return _format(context, text, kwargs)

    @pass_context
    def lang_url(context: Any, lang: str) -> str:
        """This page's address with ``?lang=`` set (other query parameters kept)."""
        request = context.get("request")
        if request is None:
            return with_language("/", lang)
        return with_language(f"{request.url.path}?{request.url.query}", lang)

    env.globals["_"] = jinja_gettext
    env.globals["gettext"] = jinja_gettext
    env.globals["ngettext"] = jinja_ngettext
    env.globals["lang"] = _CurrentLang()
    env.globals["languages"] = LANGUAGE_NAMES
    env.globals["lang_url"] = lang_url


# ------------------------------------------------------------------------------------------------- middleware
def language_middleware(app: Callable[..., Any]) -> Callable[..., Any]:
    """Sets the current language for each HTTP request (route middleware; errors before routing are covered by
    ``request_language`` calls in the error handlers and by ``remember_language``)."""

    async def middleware(scope: Any, receive: Any, send: Any) -> None:
        if scope.get("type") == "http":
            from litestar import Request

            token = _current.set(request_language(Request(scope)))
            try:
                await app(scope, receive, send)
            finally:
                _current.reset(token)
        else:
            await app(scope, receive, send)

    return middleware


def _cookie_header(lang: str, secure: bool) -> str:
    cookie: SimpleCookie = SimpleCookie()
    cookie[LANG_COOKIE] = lang
    morsel = cookie[LANG_COOKIE]
    morsel["path"] = "/"
    morsel["max-age"] = str(COOKIE_MAX_AGE)
    morsel["samesite"] = "Lax"
    if secure:
        morsel["secure"] = True
    return morsel.OutputString()


def remember_language_hook(secure: bool = False) -> Callable[..., Any]:
    """A ``before_send`` hook (it also sees errors raised before routing): a response to ``?lang=xx`` sets the
    ``lang`` cookie (1 year, SameSite=Lax), and every page says its language in ``Content-Language``."""

    async def remember_language(message: Any, scope: Any) -> None:
        if message.get("type") != "http.response.start" or scope.get("type") != "http":
            return
        from litestar.datastructures import MutableScopeHeaders

        headers = MutableScopeHeaders.from_message(message)
        lang = (scope.get("state") or {}).get(_STATE_KEY)
        if lang and "content-language" not in headers:
            headers["Content-Language"] = lang
        query = scope.get("query_string", b"").decode("latin-1")
        if LANG_PARAM + "=" not in query:
            return
        chosen = normalize((parse_qs(query).get(LANG_PARAM) or [""])[-1])
        if chosen is None:
            return
        existing: SimpleCookie = SimpleCookie()
        for name, value in scope.get("headers", []):
            if name == b"cookie":
                with suppress(Exception):  # a malformed cookie header: set ours anyway
                    existing.load(value.decode("latin-1"))
        if LANG_COOKIE in existing and existing[LANG_COOKIE].value == chosen:
            return
        headers.add("Set-Cookie", _cookie_header(chosen, secure))

    return remember_language


__all__ = [
    "COOKIE_MAX_AGE",
    "LANGUAGE_FULL_NAMES",
    "LANG_COOKIE",
    "LANG_PARAM",
    "N_",
    "SUPPORTED",
    "LazyText",
    "_",
    "current_language",
    "gettext",
    "install_jinja",
    "language_middleware",
    "lazy_gettext",
    "negotiate",
    "ngettext",
    "normalize",
    "remember_language_hook",
    "request_language",
    "set_current_language",
    "translations",
    "with_language",
]
