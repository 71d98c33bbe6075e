"""The community in headless Chromium: write a post (with a photo), comment, edit, delete, report, and hide as a
moderator made with ``python -m webapp make-moderator``. Screenshots land in test-artifacts/screenshots/.

The site runs under uvicorn from ``webapp.app:create_app`` (the community is part of the site). No analysis service is
needed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.conftest import REPO_ROOT, SCREENSHOTS
from tests.fixtures.site import running_site
from tests.webapp.images import lesion_photo

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = "browser pass 1"


@pytest.fixture
def community_site(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    env = {"DRSKIN_ENV": "test", "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'site.db'}",
           "DRSKIN_SERVICE_URL": "http://127.0.0.1:9", "DRSKIN_SECRET_KEY": "browser-test-" + "z" * 32,
           "DRSKIN_RATE_LIMIT_LOGIN": "100", "DRSKIN_RATE_LIMIT_REGISTER": "100", "DRSKIN_RATE_LIMIT_DIAGNOSE": "100",
           "DRSKIN_RATE_LIMIT_POST": "100", "DRSKIN_RATE_LIMIT_COMMENT": "100"}
    with running_site(env, tmp_path, timeout_s=120) as url:
        yield url, {**os.environ, **env}


async def _shot(page, name: str) -> None:
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


async def _register(page, url: str, email: str) -> None:
    await page.goto(url + "/register")
    await page.fill("#email", email)
    await page.fill("#password", PASSWORD)
    await page.fill("#password_confirm", PASSWORD)
    await page.click("#register-form button[type=submit]")
    await page.wait_for_url(url + "/")


async def _log_out(page, url: str) -> None:
    await page.goto(url + "/community")
    await page.click("form[action='/logout'] button")
    await page.wait_for_url(url + "/")


async def _log_in(page, url: str, email: str) -> None:
    await page.goto(url + "/login")
    await page.fill("#email", email)
    await page.fill("#password", PASSWORD)
    await page.click("#login-form button[type=submit]")
    await page.wait_for_url(url + "/")


async def test_post_comment_edit_delete_report_and_hide(page, community_site, tmp_path: Path):
    url, env = community_site
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    photo = tmp_path / "mole.jpg"
    photo.write_bytes(lesion_photo(1200, 900, seed=7))

    # Alice writes a post with a photo, in Markdown.
    await _register(page, url, "alice@example.org")
    await page.goto(url + "/community")
    await page.click("#new-post-link")
    await page.fill("#title", "Has anyone seen a mole change like this?")
    await page.fill("#body", "It got **darker** over the summer.\n\n- no itching\n- no bleeding\n\n"
                             "[a guide](https://example.org/abcde) <script>alert('x')</script>")
    await page.check("input[name=body_format][value=markdown]")
    assert not await page.is_checked("#include_photo") if await page.locator("#include_photo").count() else True
    await page.set_input_files("#photo", str(photo))
    await page.click("#post-form button[type=submit]")
    await page.wait_for_url("**/community/posts/*")
    post_url = page.url
    assert await page.text_content("#post-body strong") == "darker"
    assert await page.locator("#post-body script").count() == 0
    assert "<script>alert('x')</script>" in (await page.text_content("#post-body") or "")
    await page.wait_for_selector("#post-photo")
    assert await page.eval_on_selector("#post-photo", "img => img.complete && img.naturalWidth > 0")
    assert await page.get_attribute("#post-body a", "rel") == "nofollow noopener"

    # ... edits it.
    await page.click("#edit-post")
    await page.fill("#title", "Has anyone seen a mole darken like this?")
    await page.click("#post-form button[type=submit]")
    await page.wait_for_url(post_url)
    assert await page.text_content("#post-title") == "Has anyone seen a mole darken like this?"
    assert await page.locator("text=edited").count() >= 1

    # ... writes a second post and deletes it.
    await page.goto(url + "/community/new")
    await page.fill("#title", "Posted by mistake")
    await page.fill("#body", "oops")
    await page.click("#post-form button[type=submit]")
    await page.wait_for_url("**/community/posts/*")
    await page.click("#delete-post-form button")
    await page.wait_for_url(url + "/community")
    assert "Posted by mistake" not in await page.content()

    # Bob comments, edits and deletes a comment, and reports the post.
    await _log_out(page, url)
    await _register(page, url, "bob@example.org")
    await page.goto(post_url)
    await page.fill("#comment-body", "Please show it to a dermatologist.")
    await page.click("#comment-form button[type=submit]")
    await page.wait_for_selector("text=Please show it to a dermatologist.")
    await page.fill("#comment-body", "Typo comment")
    await page.click("#comment-form button[type=submit]")
    await page.wait_for_selector("text=Typo comment")
    typo = page.locator("article.comment", has_text="Typo comment")
    await typo.locator("a", has_text="Edit").click()
    await page.fill("#comment-body", "Fixed comment")
    await page.click("#comment-edit-form button[type=submit]")
    await page.wait_for_selector("text=Fixed comment")
    await page.locator("article.comment", has_text="Fixed comment").locator(".delete-comment-form button").click()
    await page.wait_for_selector("text=Your comment was deleted.")
    assert await page.locator("text=Fixed comment").count() == 0
    await page.click("#report-post summary")
    await page.fill("#report-post-reason", "Links to a shop selling creams")
    await page.click("#report-post-form button[type=submit]")
    await page.wait_for_selector("#post-reported")
    await _shot(page, "community-01-post-with-comment")

    # Carol becomes a moderator with the CLI and hides the post.
    await _log_out(page, url)
    await _register(page, url, "carol@example.org")
    made = subprocess.run([sys.executable, "-m", "webapp", "make-moderator", "carol@example.org"], cwd=REPO_ROOT,
                          env=env, capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    await page.goto(url + "/community")
    await page.click("#moderation-link")
    await page.wait_for_selector("#queue .queue-item")
    assert "Links to a shop selling creams" in await page.text_content("#queue")
    await _shot(page, "community-02-moderation-queue")
    await page.locator("#queue .hide-form button").first.click()
    await page.wait_for_selector("#queue-empty")
    assert await page.locator("#hidden-content .queue-item").count() == 1

    # Anonymous visitors no longer see it; Alice sees it marked hidden.
    await _log_out(page, url)
    await page.goto(url + "/community")
    assert "mole darken" not in await page.content()
    assert not errors, errors  # no CSP violations, no broken images so far
    response = await page.goto(post_url)
    assert response is not None and response.status == 404
    assert "Page not found" in await page.content()
    errors.clear()  # Chromium logs the expected 404 of that navigation
    await _log_in(page, url, "alice@example.org")
    await page.goto(post_url)
    await page.wait_for_selector("#post-hidden")
    await _shot(page, "community-03-hidden-seen-by-author")
    await page.goto(url + "/community")
    await _shot(page, "community-04-list")

    assert not errors, errors  # no CSP violations, no broken images
