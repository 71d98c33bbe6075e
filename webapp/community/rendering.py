"""User text to HTML, safely: plain text (escaped, line breaks kept) or a restricted Markdown.

Markdown goes through markdown-it-py with raw HTML disabled, then through nh3 (ammonia) with an allow-list:
p, br, strong, em, ul, ol, li, blockquote, code, pre and a[href] with http/https/mailto or a relative URL (a link
to a page of this site, like ``/diseases/mel``; every other scheme is dropped), ``rel="nofollow noopener"`` on
every link. A link whose address was dropped becomes plain text, not a dead link-styled word. nh3 is the last word:
whatever markdown-it lets through (or a future bug in it) is sanitised again on output.
"""

from __future__ import annotations

import re

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

FORMATS: tuple[str, ...] = ("plain", "markdown")
ALLOWED_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "blockquote", "code", "pre", "a"}
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {"a": {"href"}}
ALLOWED_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "nofollow noopener"

# "commonmark" with html=False: raw HTML in the source is shown as text; no tables, images or linkify.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).disable("image")


# An anchor left without an address (javascript:, data:, …): nh3 keeps the tag, so unwrap it to its text.
_DEAD_LINK = re.compile(rf'<a rel="{LINK_REL}">(.*?)</a>', re.DOTALL)


def sanitise(html: str) -> str:
    """nh3 with the site's allow-list."""
    clean = nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes=ALLOWED_SCHEMES,
                      link_rel=LINK_REL, url_relative="pass_through", strip_comments=True,
                      clean_content_tags={"script", "style"})
    return _DEAD_LINK.sub(r"\1", clean)


def render_plain(text: str) -> Markup:
    """Escaped text; blank lines separate paragraphs, single line breaks are kept."""
    paragraphs = [part.strip("\n") for part in text.replace("\r\n", "\n").split("\n\n")]
    html = "".join(f"<p>{'<br>'.join(str(escape(line)) for line in part.split(chr(10)))}</p>"
                   for part in paragraphs if part.strip())
    return Markup(html)


def render_markdown(text: str) -> Markup:
    return Markup(sanitise(_markdown.render(text)))


def render(text: str, fmt: str) -> Markup:
    """The HTML for a post or comment body stored with ``fmt`` (unknown formats are treated as plain text)."""
    return render_markdown(text) if fmt == "markdown" else render_plain(text)
