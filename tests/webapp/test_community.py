"""The community (issue 6) through the HTTP client, on SQLite and on the real PostgreSQL (``db_url``).

Posts, comments, edit/delete, reports, moderation (the moderator is made with the CLI), pagination, search,
sharing a diagnosis only by explicit choice, every authorisation case, CSRF and rate limits. The XSS cases are in
``test_community_xss.py``.
"""

from __future__ import annotations

import asyncio
import io
import re
import uuid
from typing import Any

import pytest
from litestar import Litestar
from PIL import Image
from sqlalchemy import func, select

from tests.webapp.conftest import SiteFactory, database, post_form, register, store_rows
from tests.webapp.images import lesion_photo

PASSWORD = "correct horse 1"
_POST_ID = re.compile(r"/community/posts/([0-9a-f-]{36})")


# ------------------------------------------------------------------------------------------------------ helpers
@pytest.fixture
async def app(make_app: SiteFactory, monkeypatch: pytest.MonkeyPatch) -> Litestar:
    """The site (the community is part of it) with roomy posting limits."""
    monkeypatch.setenv("DRSKIN_RATE_LIMIT_POST", "1000")
    monkeypatch.setenv("DRSKIN_RATE_LIMIT_COMMENT", "1000")
    return await make_app()


async def login(client: Any, email: str) -> None:
    """Log out whoever is logged in, then log in as ``email``."""
    client.cookies.clear()
    response = await post_form(client, "/login", "/login", {"email": email, "password": PASSWORD, "next": "/"})
    assert response.status_code in (302, 303), response.text[:300]


async def new_user(client: Any, email: str) -> None:
    client.cookies.clear()
    await register(client, email, PASSWORD)


async def make_moderator(email: str) -> None:
    """Exactly what ``python -m webapp make-moderator EMAIL`` runs (it calls asyncio.run: give it a thread)."""
    from webapp.__main__ import main

    assert await asyncio.to_thread(main, ["make-moderator", email]) == 0


async def create_post(client: Any, title: str = "A question about a mole", body: str = "It grew a bit.",
                      **extra: Any) -> uuid.UUID:
    files = extra.pop("files", None)
    data = {"title": title, "body": body, "body_format": "plain", **extra}
    response = await post_form(client, "/community/new", "/community/posts", data, files=files)
    assert response.status_code in (302, 303), response.text[:1000]
    match = _POST_ID.search(response.headers["location"])
    assert match, response.headers["location"]
    return uuid.UUID(match.group(1))


async def add_comment(client: Any, post_id: uuid.UUID, body: str = "Show it to a doctor.") -> uuid.UUID:
    response = await post_form(client, f"/community/posts/{post_id}", f"/community/posts/{post_id}/comments",
                               {"body": body})
    assert response.status_code in (302, 303), response.text[:1000]
    return uuid.UUID(response.headers["location"].split("#comment-")[1])


async def rows(db_url: str, model_name: str, **where: Any) -> list[Any]:
    from webapp.db import models

    model = getattr(models, model_name)
    async with database(db_url) as session:
        return list((await session.scalars(select(model).filter_by(**where))).all())


async def count(db_url: str, model_name: str) -> int:
    from webapp.db import models

    model = getattr(models, model_name)
    async with database(db_url) as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


# ---------------------------------------------------------------------------------------------- anonymous
async def test_anonymous_reads_visible_posts_but_cannot_write(client, db_url):
    await new_user(client, "author@example.org")
    post_id = await create_post(client, "Visible to everybody")
    comment_id = await add_comment(client, post_id)
    client.cookies.clear()

    listing = await client.get("/community")
    assert listing.status_code == 200 and "Visible to everybody" in listing.text
    page = await client.get(f"/community/posts/{post_id}")
    assert page.status_code == 200 and "Show it to a doctor." in page.text
    assert "Log in to comment" in page.text and 'id="comment-form"' not in page.text
    assert "author@example.org" not in listing.text + page.text  # emails are never shown

    writes = [
        ("GET", "/community/new", None),
        ("POST", "/community/posts", {"title": "x", "body": "y"}),
        ("GET", f"/community/posts/{post_id}/edit", None),
        ("POST", f"/community/posts/{post_id}/edit", {"title": "x", "body": "y"}),
        ("POST", f"/community/posts/{post_id}/delete", {}),
        ("POST", f"/community/posts/{post_id}/comments", {"body": "y"}),
        ("POST", f"/community/posts/{post_id}/report", {"reason": "spam"}),
        ("GET", f"/community/comments/{comment_id}/edit", None),
        ("POST", f"/community/comments/{comment_id}/edit", {"body": "y"}),
        ("POST", f"/community/comments/{comment_id}/delete", {}),
        ("POST", f"/community/comments/{comment_id}/report", {"reason": "spam"}),
        ("GET", "/community/moderation", None),
        ("POST", f"/community/moderation/posts/{post_id}/hide", {}),
        ("POST", f"/community/moderation/comments/{comment_id}/hide", {}),
    ]
    for method, path, data in writes:
        if method == "GET":
            response = await client.get(path, follow_redirects=False)
        else:
            response = await post_form(client, "/login", path, data)  # the log-in page has a token to borrow
        assert response.status_code in (302, 303), (method, path, response.status_code)
        assert response.headers["location"].startswith("/login?next="), (method, path)
    assert await count(db_url, "CommunityPost") == 1
    assert await count(db_url, "CommunityComment") == 1
    assert await count(db_url, "CommunityReport") == 0
    post = (await rows(db_url, "CommunityPost"))[0]
    assert post.title == "Visible to everybody" and not post.is_hidden


async def test_forms_need_the_csrf_token(client, db_url):
    await new_user(client, "csrf@example.org")
    response = await client.post("/community/posts", data={"title": "t", "body": "b"}, follow_redirects=False)
    assert response.status_code == 403
    post_id = await create_post(client)
    page = (await client.get(f"/community/posts/{post_id}")).text
    # Every form on the page (delete, comment) carries the token.
    assert page.count('<form method="post"') == page.count('name="_csrf_token"')
    form = (await client.get("/community/new")).text
    assert 'name="_csrf_token"' in form
    for path in (f"/community/posts/{post_id}/comments", f"/community/posts/{post_id}/delete"):
        refused = await client.post(path, data={"body": "x"}, follow_redirects=False)
        assert refused.status_code == 403
    assert await count(db_url, "CommunityComment") == 0 and await count(db_url, "CommunityPost") == 1


# ------------------------------------------------------------------------------------------- posts/comments
async def test_create_edit_delete_post_with_a_photo_without_exif(client, db_url):
    await new_user(client, "writer@example.org")
    original = lesion_photo(800, 600, seed=5)  # carries EXIF with a GPS position
    assert Image.open(io.BytesIO(original)).getexif()
    post_id = await create_post(client, "My first post", "Line one\nline two", files={
        "photo": ("mole.jpg", original, "image/jpeg")})
    page = await client.get(f"/community/posts/{post_id}")
    assert "My first post" in page.text and "Line one<br>line two" in page.text
    assert "Your post is published." in page.text

    (post,) = await rows(db_url, "CommunityPost")
    assert post.photo_id is not None and post.title_search == "my first post"
    image = await client.get(f"/community/posts/{post_id}/photo")
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    stored = Image.open(io.BytesIO(image.content))
    assert not stored.getexif() and "exif" not in stored.info
    old_photo = post.photo_id

    # Edit: new title and text, Markdown, photo removed.
    form = await client.get(f"/community/posts/{post_id}/edit")
    assert form.status_code == 200 and "My first post" in form.text
    edited = await post_form(client, f"/community/posts/{post_id}/edit", f"/community/posts/{post_id}/edit",
                             {"title": "Edited title", "body": "**bold** text", "body_format": "markdown",
                              "remove_photo": "yes"})
    assert edited.status_code in (302, 303)
    page = await client.get(f"/community/posts/{post_id}")
    assert "Edited title" in page.text and "<strong>bold</strong> text" in page.text
    assert (await client.get(f"/community/posts/{post_id}/photo")).status_code == 404
    assert not await rows(db_url, "Photo", id=old_photo)  # the replaced photo is gone from the database

    # Bad input is refused with a message and nothing changes.
    bad = await post_form(client, f"/community/posts/{post_id}/edit", f"/community/posts/{post_id}/edit",
                          {"title": "  ", "body": "x", "body_format": "plain"})
    assert bad.status_code == 400 and "Give the post a title" in bad.text
    not_image = await post_form(client, "/community/new", "/community/posts", {"title": "t", "body": "b"},
                                files={"photo": ("x.jpg", b"not an image at all", "image/jpeg")})
    assert not_image.status_code == 400 and "photo could not be used" in not_image.text

    deleted = await post_form(client, f"/community/posts/{post_id}", f"/community/posts/{post_id}/delete", {})
    assert deleted.status_code in (302, 303) and deleted.headers["location"] == "/community"
    assert (await client.get(f"/community/posts/{post_id}")).status_code == 404
    assert await count(db_url, "CommunityPost") == 0


async def test_comment_edit_delete(client, db_url):
    await new_user(client, "poster@example.org")
    post_id = await create_post(client)
    await new_user(client, "commenter@example.org")
    comment_id = await add_comment(client, post_id, "First thought")
    page = await client.get(f"/community/posts/{post_id}")
    assert "First thought" in page.text and f'id="comment-{comment_id}"' in page.text

    empty = await post_form(client, f"/community/posts/{post_id}", f"/community/posts/{post_id}/comments",
                            {"body": "   "})
    assert empty.status_code == 400 and "Write a comment" in empty.text

    edit_page = await client.get(f"/community/comments/{comment_id}/edit")
    assert edit_page.status_code == 200 and "First thought" in edit_page.text
    edited = await post_form(client, f"/community/comments/{comment_id}/edit",
                             f"/community/comments/{comment_id}/edit", {"body": "Second *thought*",
                                                                         "body_format": "markdown"})
    assert edited.status_code in (302, 303)
    page = await client.get(f"/community/posts/{post_id}")
    assert "Second <em>thought</em>" in page.text and "First thought" not in page.text

    deleted = await post_form(client, f"/community/posts/{post_id}", f"/community/comments/{comment_id}/delete", {})
    assert deleted.status_code in (302, 303)
    assert "Second" not in (await client.get(f"/community/posts/{post_id}")).text
    assert await count(db_url, "CommunityComment") == 0

    # Deleting a post takes its comments (and the reports about them) along.
    another = await add_comment(client, post_id, "stays until the post goes")
    await login(client, "poster@example.org")
    await post_form(client, f"/community/posts/{post_id}", f"/community/comments/{another}/report",
                    {"reason": "rude"})
    await post_form(client, f"/community/posts/{post_id}", f"/community/posts/{post_id}/delete", {})
    assert await count(db_url, "CommunityComment") == 0 and await count(db_url, "CommunityReport") == 0


async def test_nobody_edits_or_deletes_what_is_not_theirs(client, db_url):
    await new_user(client, "owner@example.org")
    post_id = await create_post(client, "Owner's post", "owner text")
    comment_id = await add_comment(client, post_id, "owner comment")
    await new_user(client, "other@example.org")
    await new_user(client, "mod@example.org")
    await make_moderator("mod@example.org")

    for email in ("other@example.org", "mod@example.org"):  # moderators can hide, never edit or delete
        await login(client, email)
        for path in (f"/community/posts/{post_id}/edit", f"/community/comments/{comment_id}/edit"):
            assert (await client.get(path)).status_code == 404, (email, path)
        attempts = [
            (f"/community/posts/{post_id}/edit", {"title": "pwned", "body": "pwned", "body_format": "plain"}),
            (f"/community/posts/{post_id}/delete", {}),
            (f"/community/comments/{comment_id}/edit", {"body": "pwned"}),
            (f"/community/comments/{comment_id}/delete", {}),
        ]
        for path, data in attempts:
            response = await post_form(client, f"/community/posts/{post_id}", path, data)
            assert response.status_code in (403, 404), (email, path, response.status_code)
        page = await client.get(f"/community/posts/{post_id}")
        assert 'id="edit-post"' not in page.text and 'id="delete-post-form"' not in page.text

    (post,) = await rows(db_url, "CommunityPost")
    (comment,) = await rows(db_url, "CommunityComment")
    assert (post.title, post.body, comment.body) == ("Owner's post", "owner text", "owner comment")
    # Unknown ids are simply not found.
    assert (await client.get(f"/community/posts/{uuid.uuid4()}")).status_code == 404
    assert (await client.get("/community/posts/not-a-uuid")).status_code == 404


async def test_only_the_owner_can_attach_their_diagnosis(client, db_url):
    owner = await store_rows(db_url, "sharer@example.org")
    await new_user(client, "thief@example.org")
    # A foreign diagnosis id is refused with a message; nothing is published.
    response = await post_form(client, "/community/new", "/community/posts",
                               {"title": "t", "body": "b", "diagnosis_id": str(owner.diagnosis_id),
                                "include_photo": "yes"})
    assert response.status_code == 400 and "your own diagnoses" in response.text
    assert await count(db_url, "CommunityPost") == 0
    # Nor is it offered or preselected.
    form = await client.get(f"/community/new?diagnosis_id={owner.diagnosis_id}")
    assert f'<option value="{owner.diagnosis_id}"' not in form.text


# ------------------------------------------------------------------------------------------------ reports
async def test_report_once_per_person_and_item(client, db_url):
    await new_user(client, "target@example.org")
    post_id = await create_post(client, "Reported post")
    own = await post_form(client, f"/community/posts/{post_id}", f"/community/posts/{post_id}/report",
                          {"reason": "mine"})
    assert own.status_code in (302, 303)
    assert "cannot report what you wrote" in (await client.get(own.headers["location"])).text
    await new_user(client, "reporter@example.org")
    comment_id = await add_comment(client, post_id, "my comment")
    await login(client, "target@example.org")
    await add_comment(client, post_id, "reply")

    await login(client, "reporter@example.org")
    missing = await post_form(client, f"/community/posts/{post_id}", f"/community/posts/{post_id}/report",
                              {"reason": "  "})
    assert "Say briefly why" in (await client.get(missing.headers["location"])).text
    first = await post_form(client, f"/community/posts/{post_id}", f"/community/posts/{post_id}/report",
                            {"reason": "Advertising a miracle cream"})
    assert "A moderator will look at your report" in (await client.get(first.headers["location"])).text
    again = await post_form(client, f"/community/posts/{post_id}", f"/community/posts/{post_id}/report",
                            {"reason": "again"})
    assert "already reported" in (await client.get(again.headers["location"])).text
    page = await client.get(f"/community/posts/{post_id}")
    assert "You reported this post." in page.text and 'id="report-post-form"' not in page.text

    reports = await rows(db_url, "CommunityReport")
    assert len(reports) == 1 and reports[0].reason == "Advertising a miracle cream"
    assert reports[0].post_id == post_id and reports[0].comment_id is None

    # Comments: the other person's can be reported (once), one's own cannot.
    (reply,) = await rows(db_url, "CommunityComment", body="reply")
    for _ in range(2):
        await post_form(client, f"/community/posts/{post_id}", f"/community/comments/{reply.id}/report",
                        {"reason": "rude"})
    await post_form(client, f"/community/posts/{post_id}", f"/community/comments/{comment_id}/report",
                    {"reason": "my own"})
    comment_reports = [r for r in await rows(db_url, "CommunityReport") if r.comment_id]
    assert [(r.comment_id, r.reason) for r in comment_reports] == [(reply.id, "rude")]


async def test_the_database_refuses_a_second_report(db_url, app):
    """The unique constraints back the check (two simultaneous clicks)."""
    from sqlalchemy.exc import IntegrityError

    from webapp.core.passwords import hash_password
    from webapp.db.models import CommunityPost, CommunityReport, User

    async with database(db_url) as session:
        author, reporter = User(email="a@x.org", password_hash=hash_password("x")), User(
            email="b@x.org", password_hash=hash_password("x"))
        session.add_all([author, reporter])
        await session.flush()
        post = CommunityPost(user_id=author.id, title="t", title_search="t", body="b", body_format="plain")
        session.add(post)
        await session.flush()
        reporter_id, post_id = reporter.id, post.id
        session.add(CommunityReport(user_id=reporter_id, post_id=post_id, reason="one"))
        await session.commit()
        session.add(CommunityReport(user_id=reporter_id, post_id=post_id, reason="two"))
        with pytest.raises(IntegrityError):
            await session.commit()
        await session.rollback()
        session.add(CommunityReport(user_id=reporter_id, reason="no target"))
        with pytest.raises(IntegrityError):
            await session.commit()


# --------------------------------------------------------------------------------------------- moderation
async def test_moderator_hides_and_unhides_posts_and_comments(client, db_url):
    await new_user(client, "author@example.org")
    post_id = await create_post(client, "Buy my cream", files={"photo": ("p.jpg", lesion_photo(), "image/jpeg")})
    await new_user(client, "reader@example.org")
    comment_id = await add_comment(client, post_id, "Rude comment")
    await post_form(client, f"/community/posts/{post_id}", f"/community/posts/{post_id}/report",
                    {"reason": "advertising"})
    await login(client, "author@example.org")
    await post_form(client, f"/community/posts/{post_id}", f"/community/comments/{comment_id}/report",
                    {"reason": "insulting"})

    # Not a moderator yet: the queue does not exist for this person, hiding is refused.
    await new_user(client, "mod@example.org")
    assert (await client.get("/community/moderation")).status_code == 404
    refused = await post_form(client, "/community", f"/community/moderation/posts/{post_id}/hide", {})
    assert refused.status_code == 404
    assert not (await rows(db_url, "CommunityPost"))[0].is_hidden

    await make_moderator("mod@example.org")
    queue = await client.get("/community/moderation")
    assert queue.status_code == 200
    assert "advertising" in queue.text and "insulting" in queue.text and "Buy my cream" in queue.text
    assert f'id="queue-post-{post_id}"' in queue.text and f'id="queue-comment-{comment_id}"' in queue.text
    assert 'id="moderation-link"' in (await client.get("/community")).text

    hide = await post_form(client, "/community/moderation", f"/community/moderation/posts/{post_id}/hide", {})
    assert hide.status_code in (302, 303) and hide.headers["location"] == "/community/moderation"
    hide_comment = await post_form(client, "/community/moderation",
                                   f"/community/moderation/comments/{comment_id}/hide",
                                   {"next": f"/community/posts/{post_id}"})
    assert hide_comment.headers["location"] == f"/community/posts/{post_id}"
    (post,) = await rows(db_url, "CommunityPost")
    assert post.is_hidden and post.hidden_by_id is not None and post.hidden_at is not None
    assert all(r.resolved for r in await rows(db_url, "CommunityReport"))
    queue = await client.get("/community/moderation")
    assert 'id="queue-empty"' in queue.text and f'id="hidden-post-{post_id}"' in queue.text
    # The moderator still reads it, marked.
    as_moderator = await client.get(f"/community/posts/{post_id}")
    assert as_moderator.status_code == 200 and "Hidden by a moderator." in as_moderator.text

    # Anonymous and other people: gone (page, photo, list, search, comment count).
    client.cookies.clear()
    assert (await client.get(f"/community/posts/{post_id}")).status_code == 404
    assert (await client.get(f"/community/posts/{post_id}/photo")).status_code == 404
    assert "Buy my cream" not in (await client.get("/community")).text
    assert "Buy my cream" not in (await client.get("/community?q=cream")).text
    await login(client, "reader@example.org")
    assert (await client.get(f"/community/posts/{post_id}")).status_code == 404
    blocked = await post_form(client, "/community", f"/community/posts/{post_id}/comments", {"body": "x"})
    assert blocked.status_code == 404

    # The author sees it, marked as hidden, in the list and on the page; but not the hidden comment's text?
    await login(client, "author@example.org")
    listing = await client.get("/community")
    assert "Buy my cream" in listing.text and "Hidden by a moderator" in listing.text
    page = await client.get(f"/community/posts/{post_id}")
    assert page.status_code == 200 and 'id="post-hidden"' in page.text
    assert "Rude comment" not in page.text  # someone else's hidden comment

    # The comment's author sees their hidden comment marked; others on a visible post would not.
    await login(client, "mod@example.org")
    await post_form(client, "/community", f"/community/moderation/posts/{post_id}/unhide", {})
    client.cookies.clear()
    page = await client.get(f"/community/posts/{post_id}")
    assert page.status_code == 200 and "Rude comment" not in page.text
    assert "Buy my cream" in (await client.get("/community")).text
    await login(client, "reader@example.org")
    page = await client.get(f"/community/posts/{post_id}")
    assert "Rude comment" in page.text and "A moderator hid this comment" in page.text

    await login(client, "mod@example.org")
    unhide = await post_form(client, "/community/moderation",
                             f"/community/moderation/comments/{comment_id}/unhide", {})
    assert unhide.status_code in (302, 303)
    client.cookies.clear()
    assert "Rude comment" in (await client.get(f"/community/posts/{post_id}")).text
    (comment,) = await rows(db_url, "CommunityComment")
    assert not comment.is_hidden and comment.hidden_by_id is None and comment.body == "Rude comment"


async def test_dismissing_reports_keeps_content_visible(client, db_url):
    await new_user(client, "a@example.org")
    post_id = await create_post(client, "Harmless")
    await new_user(client, "b@example.org")
    await post_form(client, f"/community/posts/{post_id}", f"/community/posts/{post_id}/report", {"reason": "meh"})
    await new_user(client, "m@example.org")
    await make_moderator("m@example.org")
    assert "meh" in (await client.get("/community/moderation")).text
    bogus = await post_form(client, "/community/moderation", f"/community/moderation/posts/{post_id}/delete", {})
    assert bogus.status_code == 404  # moderators have no "delete" or "edit" action
    await post_form(client, "/community/moderation", f"/community/moderation/posts/{post_id}/dismiss", {})
    assert 'id="queue-empty"' in (await client.get("/community/moderation")).text
    client.cookies.clear()
    assert (await client.get(f"/community/posts/{post_id}")).status_code == 200


async def test_make_moderator_cli_reports_unknown_email(app, capsys):
    from webapp.__main__ import main

    assert await asyncio.to_thread(main, ["make-moderator", "nobody@example.org"]) == 1
    assert "no account" in capsys.readouterr().err


# ------------------------------------------------------------------------------------ pagination / search
async def _arrange_posts(db_url: str, titles: list[str]) -> None:
    """Many posts at once, straight into the database, one second apart (ordering is by creation time)."""
    from datetime import UTC, datetime, timedelta

    from webapp.community.services import search_key
    from webapp.core.passwords import hash_password
    from webapp.db.models import CommunityPost, User

    start = datetime(2026, 1, 1, tzinfo=UTC)
    async with database(db_url) as session:
        user = await session.scalar(select(User).where(User.email == "bulk@example.org"))
        if user is None:
            user = User(email="bulk@example.org", password_hash=hash_password(PASSWORD))
            session.add(user)
            await session.flush()
        for index, title in enumerate(titles):
            when = start + timedelta(seconds=index)
            session.add(CommunityPost(user_id=user.id, title=title, title_search=search_key(title), body="b",
                                      body_format="plain", created_at=when, updated_at=when))
        await session.commit()


async def test_pagination(client, db_url):
    await _arrange_posts(db_url, [f"Post number {i:02d}" for i in range(23)])
    first = await client.get("/community")
    assert first.text.count('class="post-item') == 10
    assert "Post number 22" in first.text and "Post number 13" in first.text and "Post number 12" not in first.text
    assert "Page 1 of 3" in first.text and 'rel="next"' in first.text and 'rel="prev"' not in first.text
    third = await client.get("/community?page=3")
    assert third.text.count('class="post-item') == 3 and "Post number 00" in third.text
    assert 'rel="next"' not in third.text and 'rel="prev"' in third.text
    beyond = await client.get("/community?page=9")
    assert beyond.status_code == 200 and 'class="post-item' not in beyond.text
    assert (await client.get("/community?page=0")).status_code == 400


async def test_search_by_title_is_case_insensitive(client, db_url):
    await _arrange_posts(db_url, [f"mole {i}" for i in range(12)] + [
        "Itchy MOLE on my back", "Ärger mit einem Leberfleck", "점이 커졌어요", "100% sure_it is fine",
        "Something else"])
    found = await client.get("/community?q=mOlE")
    assert "Itchy MOLE on my back" in found.text and "Something else" not in found.text
    assert "13 posts whose title contains" in found.text and "Page 1 of 2" in found.text
    second = await client.get("/community?q=mOlE&page=2")
    assert second.text.count('class="post-item') == 3
    assert "Ärger mit" in (await client.get("/community?q=äRGER")).text  # non-ASCII case folding
    assert "점이 커졌어요" in (await client.get("/community?q=커졌")).text
    literal = await client.get("/community?q=100%25")
    assert "100% sure_it is fine" in literal.text and "Itchy" not in literal.text
    underscore = await client.get("/community?q=e_i")
    assert "sure_it" in underscore.text and "Something else" not in underscore.text
    none = await client.get("/community?q=%25_%25")
    assert 'id="no-posts"' in none.text
    tricky = await client.get("/community?q=%22%3E%3Cscript%3Ealert(1)%3C/script%3E")
    assert tricky.status_code == 200 and "<script>alert(1)</script>" not in tricky.text


# ------------------------------------------------------------------------------------ sharing a diagnosis
async def test_a_shared_diagnosis_shows_its_outline_drawn_by_the_site(client, db_url):
    """Diagnoses since the lean answer store the outline, not an outlined copy of the photo: a shared one shows the
    outline over the photo when the author shares the photo, else the outline alone; and honest percentages."""
    from tests.webapp.conftest import fake_result
    from webapp.db.models import Diagnosis

    result = fake_result(concerning=0.0003)
    result["segmentation"].update({"outline": [[10, 10], [60, 12], [55, 50], [12, 45]], "width": 80, "height": 60})
    stored = await store_rows(db_url, "outline@example.org", result=result)
    async with database(db_url) as session:  # as the site stores new diagnoses: no outlined copy
        row = await session.get(Diagnosis, stored.diagnosis_id)
        row.overlay_id = None
        await session.commit()
    await login(client, "outline@example.org")
    without_photo = await create_post(client, "Outline only", diagnosis_id=str(stored.diagnosis_id))
    with_photo = await create_post(client, "Outline and photo", diagnosis_id=str(stored.diagnosis_id),
                                   include_photo="yes")
    client.cookies.clear()

    page = (await client.get(f"/community/posts/{without_photo}")).text
    assert 'id="shared-outline"' in page and 'viewBox="0 0 80 60"' in page and "10.5,10.5 60.5,12.5" in page
    assert 'id="shared-photo"' not in page and 'id="shared-overlay"' not in page
    assert "&lt;\xa01\xa0%" in page and "100.0 %" not in page and "0.0 %" not in page  # never certainty
    page = (await client.get(f"/community/posts/{with_photo}")).text
    assert 'id="shared-photo"' in page and 'class="outline-layer"' in page and 'id="shared-outline"' not in page


async def test_diagnosis_is_shared_only_when_chosen(client, db_url):
    stored = await store_rows(db_url, "patient@example.org")
    await login(client, "patient@example.org")

    form = await client.get("/community/new")
    assert str(stored.diagnosis_id) in form.text  # offered ...
    assert re.search(r'<option value="" selected>', form.text)  # ... but "do not attach" is the default
    assert 'id="include_photo" >' in form.text or 'id="include_photo" checked' not in form.text

    plain = await create_post(client, "No diagnosis here")
    (post,) = await rows(db_url, "CommunityPost")
    assert post.diagnosis_id is None and not post.share_diagnosis_photo
    page = await client.get(f"/community/posts/{plain}")
    assert 'id="shared-diagnosis"' not in page.text
    assert (await client.get(f"/community/posts/{plain}/overlay")).status_code == 404
    # "include photo" alone shares nothing.
    alone = await create_post(client, "Photo box only", include_photo="yes")
    assert (await rows(db_url, "CommunityPost", id=alone))[0].diagnosis_id is None

    shared = await create_post(client, "Shared without photo", diagnosis_id=str(stored.diagnosis_id))
    client.cookies.clear()
    page = await client.get(f"/community/posts/{shared}")
    assert 'id="shared-diagnosis"' in page.text and 'id="shared-probabilities"' in page.text
    # An older diagnosis' outlined copy is the photo with a line on it: not shown unless the photo is shared.
    assert 'id="shared-overlay"' not in page.text and 'id="shared-photo"' not in page.text
    assert "Melanocytic" in page.text or "nv" in page.text
    assert f"/photos/{stored.photo_id}" not in page.text and str(stored.diagnosis_id) not in page.text
    assert (await client.get(f"/community/posts/{shared}/overlay")).status_code == 404
    assert (await client.get(f"/community/posts/{shared}/diagnosis-photo")).status_code == 404
    assert (await client.get(f"/photos/{stored.overlay_id}", follow_redirects=False)).status_code in (302, 303)

    await login(client, "patient@example.org")
    with_photo = await create_post(client, "Shared with photo", diagnosis_id=str(stored.diagnosis_id),
                                   include_photo="yes")
    client.cookies.clear()
    page = await client.get(f"/community/posts/{with_photo}")
    assert 'id="shared-photo"' in page.text and 'id="shared-overlay"' in page.text
    overlay = await client.get(f"/community/posts/{with_photo}/overlay")
    assert overlay.status_code == 200 and overlay.headers["content-type"] == "image/png"
    photo = await client.get(f"/community/posts/{with_photo}/diagnosis-photo")
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"

    # Arriving from the diagnosis page with the box ticked preselects it (photo still off unless ticked).
    await login(client, "patient@example.org")
    preselected = await client.get(f"/community/new?diagnosis_id={stored.diagnosis_id}")
    assert f'<option value="{stored.diagnosis_id}" selected>' in preselected.text
    assert 'id="include_photo" checked' not in preselected.text

    # Unsharing by editing; deleting the diagnosis unshares too.
    await post_form(client, f"/community/posts/{with_photo}/edit", f"/community/posts/{with_photo}/edit",
                    {"title": "Shared with photo", "body": "b", "body_format": "plain", "diagnosis_id": ""})
    assert (await rows(db_url, "CommunityPost", id=with_photo))[0].diagnosis_id is None
    await post_form(client, f"/diagnoses/{stored.diagnosis_id}", f"/diagnoses/{stored.diagnosis_id}/delete", {})
    assert (await rows(db_url, "CommunityPost", id=shared))[0].diagnosis_id is None
    assert 'id="shared-diagnosis"' not in (await client.get(f"/community/posts/{shared}")).text


async def test_share_partial_for_the_diagnosis_page_is_off_by_default(app):
    """``community/_share_diagnosis.html`` (to be included in diagnoses/result.html) ticks nothing."""
    from types import SimpleNamespace

    engine = app.template_engine
    template = engine.get_template("community/_share_diagnosis.html")
    html = template.render(result=SimpleNamespace(id=uuid.uuid4()))
    assert 'action="/community/new"' in html and "checked" not in html


# ------------------------------------------------------------------------------------------- rate limits
async def test_posting_and_commenting_are_rate_limited(make_app, monkeypatch, db_url):
    from litestar.testing import AsyncTestClient

    monkeypatch.setenv("DRSKIN_RATE_LIMIT_POST", "2")
    monkeypatch.setenv("DRSKIN_RATE_LIMIT_COMMENT", "3")
    app = await make_app()
    async with AsyncTestClient(app=app) as client:
        await new_user(client, "fast@example.org")
        post_id = await create_post(client, "one")
        await create_post(client, "two")
        third = await post_form(client, "/community/new", "/community/posts", {"title": "three", "body": "b"})
        assert third.status_code == 429
        for index in range(3):  # the comment budget is separate from the post budget
            await add_comment(client, post_id, f"c{index}")
        fourth = await post_form(client, f"/community/posts/{post_id}", f"/community/posts/{post_id}/comments",
                                 {"body": "c3"})
        assert fourth.status_code == 429
        # Another account has its own budget.
        await new_user(client, "slow@example.org")
        await create_post(client, "someone else")
    assert await count(db_url, "CommunityPost") == 3
    assert await count(db_url, "CommunityComment") == 3


# ---------------------------------------------------------------------------------------- account deletion
async def test_deleting_an_account_removes_its_community_rows(client, db_url):
    stored = await store_rows(db_url, "leaver@example.org")
    await login(client, "leaver@example.org")
    post_id = await create_post(client, "Leaving soon", diagnosis_id=str(stored.diagnosis_id),
                                files={"photo": ("p.jpg", lesion_photo(), "image/jpeg")})
    await new_user(client, "stayer@example.org")
    await add_comment(client, post_id, "comment on the leaver's post")
    other_post = await create_post(client, "Stayer's post")
    await login(client, "leaver@example.org")
    await add_comment(client, other_post, "leaver's comment")
    await post_form(client, f"/community/posts/{other_post}", f"/community/posts/{other_post}/report",
                    {"reason": "x"})
    response = await post_form(client, "/account", "/account/delete", {"password": PASSWORD, "confirm": "DELETE"})
    assert response.status_code in (302, 303)
    posts = await rows(db_url, "CommunityPost")
    assert [p.title for p in posts] == ["Stayer's post"]
    assert await count(db_url, "CommunityComment") == 0 and await count(db_url, "CommunityReport") == 0


async def test_the_account_export_holds_the_persons_posts_and_comments(client, db_url):
    import json
    import zipfile

    await new_user(client, "writer@example.org")
    post_id = await create_post(client, title="My own question", body="About *my* mole.")
    await add_comment(client, post_id, "A follow-up of mine")
    await new_user(client, "other@example.org")
    other_post = await create_post(client, title="Someone else's question")
    await add_comment(client, other_post, "Not the writer's words")
    await login(client, "writer@example.org")
    mine = await add_comment(client, other_post, "The writer answers elsewhere")

    exported = await client.get("/account/export")
    assert exported.status_code == 200
    with zipfile.ZipFile(io.BytesIO(exported.content)) as archive:
        posts = json.loads(archive.read("community_posts.json"))
        comments = json.loads(archive.read("community_comments.json"))
    assert [(p["id"], p["title"], p["body"]) for p in posts] == [(str(post_id), "My own question", "About *my* mole.")]
    assert sorted(c["body"] for c in comments) == ["A follow-up of mine", "The writer answers elsewhere"]
    assert {c["post_id"] for c in comments} == {str(post_id), str(other_post)}
    assert str(mine) in {c["id"] for c in comments}
