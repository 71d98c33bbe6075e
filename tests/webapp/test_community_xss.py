"""Community text never becomes active content: script tags, event handlers, ``javascript:`` links (Markdown,
mixed case, entity-encoded), HTML in titles, in plain text and Markdown, in posts, comments, the list, the edit
forms and the moderation queue. Plus unit tests of the renderer's allow-list."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from tests.webapp.conftest import post_form
from tests.webapp.test_community import add_comment, app, create_post, login, make_moderator, new_user  # noqa: F401
from webapp.community.rendering import render_markdown, render_plain, sanitise

PAYLOADS = [
    "<script>alert('xss-1')</script>",
    "<img src=x onerror=alert('xss-2')>",
    "<svg onload=alert('xss-3')>",
    "<a href=\"javascript:alert('xss-4')\">click</a>",
    "[click](javascript:alert('xss-5'))",
    "[click](JaVaScRiPt:alert('xss-6'))",
    "[click](&#106;avascript:alert('xss-7'))",
    "[click](&#x6A;&#x61;vascript&#58;alert('xss-8'))",
    "[click](java\tscript:alert('xss-9'))",
    "[click](  javascript:alert('xss-10'))",
    "[click](vbscript:msgbox('xss-11'))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "<javascript:alert('xss-12')>",
    "[ref][x]\n\n[x]: javascript:alert('xss-13')",
    "<iframe src=\"https://evil.example\"></iframe>",
    "<p style=\"background:url(javascript:alert('xss-14'))\">styled</p>",
    "</textarea><script>alert('xss-15')</script>",
    "\"><script>alert('xss-16')</script>",
    "![img](x\" onerror=\"alert('xss-17'))",
    "<details open ontoggle=alert('xss-18')>",
]
BAD_SCHEMES = ("javascript:", "vbscript:", "data:")


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def _normalised_url(value: str) -> str:
    return re.sub(r"[\x00-\x20]+", "", value).lower()


def assert_no_active_content(html: str) -> None:
    collector = _Collector()
    collector.feed(html)
    for tag, attrs in collector.tags:
        assert tag not in {"iframe", "object", "embed", "svg", "math", "style", "base", "details", "frame"} or (
            tag == "svg" and ("class", "bar") in attrs), (tag, attrs)
        if tag == "script":
            src = dict(attrs).get("src") or ""
            assert src.startswith("/static/"), attrs  # the site's own files only, never inline
        for name, value in attrs:
            assert not name.lower().startswith("on"), (tag, name, value)
            assert name.lower() != "style", (tag, name, value)
            if name.lower() in {"href", "src", "action", "formaction", "xlink:href"} and value:
                assert not _normalised_url(value).startswith(BAD_SCHEMES), (tag, name, value)
        if tag == "img":
            assert (dict(attrs).get("src") or "").startswith("/"), attrs
    assert _only_as_text(html)


def _only_as_text(html: str) -> bool:
    """Payload text may appear, escaped, as text or as a form field's value; never elsewhere inside a tag."""
    collector = _Collector()
    collector.feed(html)
    return all("alert(" not in (value or "") for _, attrs in collector.tags for name, value in attrs
               if name != "value")


# ---------------------------------------------------------------------------------------------- unit tests
@pytest.mark.parametrize("payload", PAYLOADS)
def test_markdown_and_plain_rendering_are_inert(payload):
    for html in (str(render_markdown(payload)), str(render_plain(payload))):
        assert_no_active_content(html)
        assert "<script" not in html and "<img" not in html and "<iframe" not in html


def test_allowed_markdown_survives_with_safe_links():
    html = str(render_markdown("**b** *i* `c`\n\n```\npre\n```\n\n> q\n\n1. one\n\n- two\n\n"
                               "[site](https://example.org/a?b=1) [mail](mailto:a@example.org) [rel](/account)"))
    for fragment in ("<strong>b</strong>", "<em>i</em>", "<code>c</code>", "<pre><code>pre", "<blockquote>",
                     "<ol>", "<ul>", "<li>one</li>"):
        assert fragment in html
    assert '<a href="https://example.org/a?b=1" rel="nofollow noopener">site</a>' in html
    assert '<a href="mailto:a@example.org" rel="nofollow noopener">mail</a>' in html
    # a link to a page of this site stays a link (it used to be dropped, leaving dead link-styled text)
    assert '<a href="/account" rel="nofollow noopener">rel</a>' in html
    dead = str(render_markdown("[click](javascript:alert(1)) and [data](data:text/html,x)"))
    assert "<a" not in dead and "click" in dead and "data" in dead  # no address left: plain text


def test_sanitiser_is_the_last_word_even_for_raw_html():
    dirty = ('<p onclick="x()">p</p><a href="JAVASCRIPT:alert(1)" onmouseover="x">a</a><h1>h</h1>'
             '<img src=x onerror=alert(1)><script>alert(1)</script><a href="https://ok.example" rel="opener">ok</a>'
             '<table><tr><td>t</td></tr></table>')
    clean = sanitise(dirty)
    assert clean == '<p>p</p>ah<a href="https://ok.example" rel="nofollow noopener">ok</a>t'


# -------------------------------------------------------------------------------------------- through HTTP
async def test_no_payload_survives_in_any_page(client, db_url):
    await new_user(client, "attacker@example.org")
    post_ids = []
    for index, payload in enumerate(PAYLOADS):
        body_format = "markdown" if index % 2 else "plain"
        post_ids.append(await create_post(client, title=payload[:200], body=payload, body_format=body_format))
    markdown_post = await create_post(client, title="<b onmouseover=alert('t')>All in Markdown</b>",
                                      body="\n\n".join(PAYLOADS), body_format="markdown")
    plain_post = await create_post(client, title="All as plain text", body="\n".join(PAYLOADS))
    for payload in PAYLOADS:
        await add_comment(client, markdown_post, payload)
    response = await post_form(client, f"/community/posts/{plain_post}", f"/community/posts/{plain_post}/comments",
                               {"body": "\n\n".join(PAYLOADS), "body_format": "markdown"})
    assert response.status_code in (302, 303)

    pages = ["/community", "/community?page=2", "/community?page=3", f"/community/posts/{markdown_post}",
             f"/community/posts/{plain_post}", f"/community/posts/{markdown_post}/edit",
             "/community?q=%3Cscript%3E"]
    pages += [f"/community/posts/{post_id}" for post_id in post_ids]
    pages += [f"/community/posts/{post_id}/edit" for post_id in post_ids]
    for path in pages:
        html = (await client.get(path)).text
        assert_no_active_content(html)
        assert "<script>alert" not in html and "<img src=x" not in html, path

    # The title is shown as text, escaped.
    page = (await client.get(f"/community/posts/{post_ids[0]}")).text
    assert "&lt;script&gt;alert(&#39;xss-1&#39;)&lt;/script&gt;" in page
    # Comments' edit forms escape the text too (the textarea cannot be closed early).
    comment_page = (await client.get(f"/community/posts/{markdown_post}")).text
    comment_ids = re.findall(r'id="comment-([0-9a-f-]{36})"', comment_page)
    assert len(comment_ids) == len(PAYLOADS)
    for comment_id in comment_ids:
        assert_no_active_content((await client.get(f"/community/comments/{comment_id}/edit")).text)

    # The moderation queue shows reported text as text.
    await new_user(client, "reporter@example.org")
    for post_id in post_ids[:5]:
        await post_form(client, f"/community/posts/{post_id}", f"/community/posts/{post_id}/report",
                        {"reason": "<script>alert('xss-reason')</script>"})
    for comment_id in comment_ids[:5]:
        await post_form(client, f"/community/posts/{markdown_post}", f"/community/comments/{comment_id}/report",
                        {"reason": "<img src=x onerror=alert('xss-reason')>"})
    await make_moderator("reporter@example.org")
    queue = (await client.get("/community/moderation")).text
    assert "xss-reason" in queue
    assert_no_active_content(queue)
