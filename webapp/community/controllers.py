"""Community pages: HTTP only; the work happens in ``services`` and the HTML in ``rendering``/templates.

Reading is open to everybody; writing needs an account (handlers marked ``opt={"write": True}``); posting and
commenting are rate-limited (``ratelimit``); the moderation queue needs ``users.is_moderator``
(``python -m webapp make-moderator EMAIL``).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter
from litestar.plugins.flash import flash
from litestar.response import Redirect, Response, Template

from webapp.accounts.dependencies import provide_current_user, provide_user
from webapp.accounts.schemas import safe_next
from webapp.community.dependencies import (
    provide_comment_service,
    provide_moderator,
    provide_post_service,
    provide_report_service,
    requires_login_to_write,
)
from webapp.community.ratelimit import OPT_KEY, community_rate_limits
from webapp.community.rendering import FORMATS, render
from webapp.community.schemas import (
    PER_PAGE,
    SEARCH_MAX,
    CommentForm,
    CommentView,
    DiagnosisChoice,
    PostForm,
    PostSummary,
    PostView,
    QueueItem,
    ReportForm,
    SharedDiagnosis,
    excerpt,
    page_count,
    pseudonym,
)
from webapp.community.services import CommentService, CommunityError, PostService, ReportService
from webapp.core.guards import requires_login
from webapp.core.i18n import gettext, request_language
from webapp.core.images import PhotoError, clean_photo
from webapp.core.labels import label_name
from webapp.core.settings import get_upload_settings
from webapp.core.timezones import local_time, request_time_zone
from webapp.db.models import CommunityComment, CommunityPost, Diagnosis, User
from webapp.diagnoses.views import build_outline, probability_bars

Form = Body(media_type=RequestEncodingType.URL_ENCODED)
Multipart = Body(media_type=RequestEncodingType.MULTI_PART)
WRITE = {"write": True}
POST_LIMIT = {"write": True, OPT_KEY: "post"}
COMMENT_LIMIT = {"write": True, OPT_KEY: "comment"}


def _edited(row: CommunityPost | CommunityComment) -> bool:
    return row.edited_at is not None


def _translator(request: Request[Any, Any, Any]) -> Any:
    return lambda msgid, **kwargs: gettext(request, msgid, **kwargs)


def shared_view(post: CommunityPost, diagnosis: Diagnosis | None) -> SharedDiagnosis | None:
    """Top class, probabilities and the outline of a shared diagnosis; its photo only if the author ticked it."""
    result = diagnosis.readable_result if diagnosis is not None else None
    if diagnosis is None or result is None:  # a damaged document: the post shows without the shared result
        return None
    rows = sorted(probability_bars(result), key=lambda bar: -bar.probability)
    return SharedDiagnosis(
        label=result.label, label_name=label_name(result.label), rows=rows,
        overlay_url=f"/community/posts/{post.id}/overlay" if diagnosis.overlay_id and post.share_diagnosis_photo
        else None,  # an outlined copy of the photo is the photo: only when the author shares it
        photo_url=f"/community/posts/{post.id}/diagnosis-photo" if post.share_diagnosis_photo else None,
        outline=build_outline(result.segmentation),
        synthetic_model=bool(diagnosis.synthetic_model), created_at=diagnosis.created_at)


def _choices(request: Request[Any, Any, Any], diagnoses: list[Diagnosis]) -> list[DiagnosisChoice]:
    zone, lang = request_time_zone(request), request_language(request)
    return [DiagnosisChoice(id=d.id, text=f"{local_time(d.created_at, zone, lang)} · {label_name(d.label)}")
            for d in diagnoses]


def _photo_response(data: bytes, content_type: str) -> Response[bytes]:
    # Hiding a post must take effect quickly: short, private caching only.
    return Response(data, media_type=content_type, headers={"Cache-Control": "private, max-age=60"})


class CommunityController(Controller):
    path = "/community"
    guards = [requires_login_to_write]  # noqa: RUF012 (Litestar reads these class attributes)
    middleware = community_rate_limits()
    dependencies = {  # noqa: RUF012
        "posts": Provide(provide_post_service), "comments": Provide(provide_comment_service),
        "reports": Provide(provide_report_service), "viewer": Provide(provide_current_user),
        "user": Provide(provide_user),
    }

    # ------------------------------------------------------------------------------------------------ reading
    @get("/", name="community")
    async def index(self, viewer: User | None, posts: PostService,
                    page: Annotated[int, Parameter(ge=1, le=100_000)] = 1,
                    q: Annotated[str, Parameter(max_length=SEARCH_MAX)] = "") -> Template:
        items, total = await posts.page(viewer, page, q)
        counts = await posts.comment_counts(viewer, [p.id for p in items])
        rows = [PostSummary(id=p.id, title=p.title, author=pseudonym(p.user_id),
                            is_mine=viewer is not None and p.user_id == viewer.id, is_hidden=p.is_hidden,
                            created_at=p.created_at, comment_count=counts.get(p.id, 0),
                            has_photo=p.photo_id is not None, has_diagnosis=p.diagnosis_id is not None)
                for p in items]
        return Template("community/index.html", context={
            "posts": rows, "page": page, "pages": page_count(total, PER_PAGE), "total": total, "q": q.strip(),
            "logged_in": viewer is not None, "is_moderator": bool(viewer and viewer.is_moderator)})

    async def _post_page(self, request: Request[Any, Any, Any], viewer: User | None, post: CommunityPost,
                         posts: PostService, comments: CommentService, reports: ReportService,
                         comment_form: CommentForm | None = None, comment_errors: list[str] | None = None,
                         status_code: int = 200) -> Template:
        comment_rows = await comments.for_post(viewer, post)
        reported = await reports.reported_by(viewer, post_ids=[post.id], comment_ids=[c.id for c in comment_rows])
        viewer_id = viewer.id if viewer else None
        view = PostView(
            id=post.id, title=post.title, author=pseudonym(post.user_id), body_html=render(post.body, post.body_format),
            body=post.body, body_format=post.body_format, is_mine=post.user_id == viewer_id, is_hidden=post.is_hidden,
            already_reported=post.id in reported, created_at=post.created_at, edited=_edited(post),
            photo_url=f"/community/posts/{post.id}/photo" if post.photo_id else None,
            diagnosis=shared_view(post, await posts.shared_diagnosis(post)))
        comment_views = [CommentView(id=c.id, author=pseudonym(c.user_id), body_html=render(c.body, c.body_format),
                                     is_mine=c.user_id == viewer_id, is_hidden=c.is_hidden,
                                     already_reported=c.id in reported, created_at=c.created_at, edited=_edited(c))
                         for c in comment_rows]
        return Template("community/detail.html", status_code=status_code, context={
            "post": view, "comments": comment_views, "comment_form": comment_form or CommentForm(),
            "comment_errors": comment_errors or [], "logged_in": viewer is not None,
            "is_moderator": bool(viewer and viewer.is_moderator), "formats": FORMATS,
            "login_next": f"/community/posts/{post.id}"})

    @get("/posts/{post_id:uuid}", name="community_post")
    async def show(self, request: Request[Any, Any, Any], viewer: User | None, post_id: uuid.UUID,
                   posts: PostService, comments: CommentService, reports: ReportService) -> Template:
        post = await posts.get_readable(viewer, post_id)
        return await self._post_page(request, viewer, post, posts, comments, reports)

    async def _image(self, viewer: User | None, post_id: uuid.UUID, which: str, posts: PostService) -> Response[bytes]:
        post_row = await posts.get_readable(viewer, post_id)
        photo = await posts.photo_for(post_row, which)
        return _photo_response(photo.data, photo.content_type)

    @get("/posts/{post_id:uuid}/photo")
    async def post_photo(self, viewer: User | None, post_id: uuid.UUID, posts: PostService) -> Response[bytes]:
        """The post's own photo (EXIF-free, stored like every other photo)."""
        return await self._image(viewer, post_id, "photo", posts)

    @get("/posts/{post_id:uuid}/overlay")
    async def diagnosis_overlay(self, viewer: User | None, post_id: uuid.UUID,
                                posts: PostService) -> Response[bytes]:
        """The shared diagnosis' overlay."""
        return await self._image(viewer, post_id, "overlay", posts)

    @get("/posts/{post_id:uuid}/diagnosis-photo")
    async def diagnosis_photo(self, viewer: User | None, post_id: uuid.UUID,
                              posts: PostService) -> Response[bytes]:
        """The shared diagnosis' original photo: only when the author ticked "include photo"."""
        return await self._image(viewer, post_id, "diagnosis-photo", posts)

    # ------------------------------------------------------------------------------------------------ writing
    async def _form_page(self, request: Request[Any, Any, Any], user: User, posts: PostService, form: PostForm,
                         errors: list[str], status_code: int = 200, post: CommunityPost | None = None) -> Template:
        return Template("community/form.html", status_code=status_code, context={
            "form": form, "errors": errors, "post_id": post.id if post else None,
            "has_photo": bool(post and post.photo_id), "formats": FORMATS,
            "diagnoses": _choices(request, await posts.diagnosis_choices(user)),
            "max_upload_mb": get_upload_settings().max_upload_mb})

    @get("/new", name="community_new", opt=WRITE)
    async def new(self, request: Request[Any, Any, Any], user: User, posts: PostService,
                  diagnosis_id: Annotated[str, Parameter(max_length=64)] = "",
                  include_photo: Annotated[str, Parameter(max_length=8)] = "") -> Template:
        # Arriving from one's own diagnosis page with "attach my diagnosis" ticked preselects it (still only the
        # owner's own diagnoses are offered); the photo stays off unless "include photo" was ticked too.
        chosen = ""
        if diagnosis_id:
            try:
                diagnosis = await posts.own_diagnosis(user, diagnosis_id)
                chosen = str(diagnosis.id) if diagnosis else ""
            except CommunityError:
                chosen = ""
        form = PostForm(diagnosis_id=chosen, include_photo="yes" if chosen and include_photo == "yes" else "")
        return await self._form_page(request, user, posts, form, [])

    async def _clean_upload(self, form: PostForm) -> Any:
        if form.photo is None or not form.photo.filename:
            return None
        upload = get_upload_settings()
        raw = await form.photo.read()
        if not raw:
            return None
        if len(raw) > upload.max_upload_bytes:
            raise PhotoError(f"The photo is too large (more than {upload.max_upload_mb:g} MB).", status_code=413)
        # The site's photo hygiene: upright, re-encoded from pixels only (no EXIF/GPS), ≤ 1024 px.
        return clean_photo(raw, max_side=upload.stored_max_side, max_pixels=upload.max_pixels)

    async def _validated(self, request: Request[Any, Any, Any], user: User, posts: PostService,
                         form: PostForm) -> tuple[list[str], Any, Diagnosis | None, int]:
        _ = _translator(request)
        errors = form.errors(_)
        photo, diagnosis, status = None, None, 400
        try:
            diagnosis = await posts.own_diagnosis(user, form.diagnosis_id)
        except CommunityError as exc:
            errors.append(exc.text.translate(request))
        if not errors:
            try:
                photo = await self._clean_upload(form)
            except PhotoError as exc:
                errors.append(gettext(request, "The photo could not be used: %(reason)s", reason=exc.message))
                status = exc.status_code
        return errors, photo, diagnosis, status

    @post("/posts", opt=POST_LIMIT)
    async def create(self, request: Request[Any, Any, Any], user: User, posts: PostService,
                     data: Annotated[PostForm, Multipart]) -> Response[Any]:
        errors, photo, diagnosis, status = await self._validated(request, user, posts, data)
        if errors:
            data.photo = None
            return await self._form_page(request, user, posts, data, errors, status_code=status)
        post_row = await posts.create_post(user, data, photo, diagnosis)
        await posts.repository.session.commit()
        flash(request, gettext(request, "Your post is published."), "success")
        return Redirect(f"/community/posts/{post_row.id}")

    @get("/posts/{post_id:uuid}/edit", opt=WRITE)
    async def edit_page(self, request: Request[Any, Any, Any], user: User, post_id: uuid.UUID,
                        posts: PostService) -> Template:
        post_row = await posts.get_own(user, post_id)
        form = PostForm(title=post_row.title, body=post_row.body, body_format=post_row.body_format,
                        diagnosis_id=str(post_row.diagnosis_id or ""),
                        include_photo="yes" if post_row.share_diagnosis_photo else "")
        return await self._form_page(request, user, posts, form, [], post=post_row)

    @post("/posts/{post_id:uuid}/edit", opt=WRITE)
    async def edit(self, request: Request[Any, Any, Any], user: User, post_id: uuid.UUID, posts: PostService,
                   data: Annotated[PostForm, Multipart]) -> Response[Any]:
        post_row = await posts.get_own(user, post_id)
        errors, photo, diagnosis, status = await self._validated(request, user, posts, data)
        if errors:
            data.photo = None
            return await self._form_page(request, user, posts, data, errors, status_code=status, post=post_row)
        await posts.update_post(post_row, user, data, photo, diagnosis)
        await posts.repository.session.commit()
        flash(request, gettext(request, "Your post was updated."), "success")
        return Redirect(f"/community/posts/{post_row.id}")

    @post("/posts/{post_id:uuid}/delete", opt=WRITE)
    async def delete(self, request: Request[Any, Any, Any], user: User, post_id: uuid.UUID,
                     posts: PostService) -> Redirect:
        post_row = await posts.get_own(user, post_id)
        await posts.delete_post(post_row, user)
        await posts.repository.session.commit()
        flash(request, gettext(request, "Your post and its comments were deleted."), "success")
        return Redirect("/community")

    @post("/posts/{post_id:uuid}/comments", opt=COMMENT_LIMIT)
    async def comment(self, request: Request[Any, Any, Any], user: User, post_id: uuid.UUID, posts: PostService,
                      comments: CommentService, reports: ReportService,
                      data: Annotated[CommentForm, Form]) -> Response[Any]:
        post_row = await posts.get_readable(user, post_id)
        errors = data.errors(_translator(request))
        if errors:
            return await self._post_page(request, user, post_row, posts, comments, reports, data, errors,
                                         status_code=400)
        row = await comments.add(user, post_row, data.body, data.body_format)
        await comments.repository.session.commit()
        flash(request, gettext(request, "Your comment is published."), "success")
        return Redirect(f"/community/posts/{post_row.id}#comment-{row.id}")

    @get("/comments/{comment_id:uuid}/edit", opt=WRITE)
    async def comment_edit_page(self, user: User, comment_id: uuid.UUID, comments: CommentService) -> Template:
        row = await comments.get_own(user, comment_id)
        return Template("community/comment_edit.html", context={
            "comment_id": row.id, "post_id": row.post_id, "form": CommentForm(row.body, row.body_format),
            "errors": [], "formats": FORMATS})

    @post("/comments/{comment_id:uuid}/edit", opt=WRITE)
    async def comment_edit(self, request: Request[Any, Any, Any], user: User, comment_id: uuid.UUID,
                           comments: CommentService, data: Annotated[CommentForm, Form]) -> Response[Any]:
        row = await comments.get_own(user, comment_id)
        errors = data.errors(_translator(request))
        if errors:
            return Template("community/comment_edit.html", status_code=400, context={
                "comment_id": row.id, "post_id": row.post_id, "form": data, "errors": errors, "formats": FORMATS})
        await comments.edit(row, user, data.body, data.body_format)
        await comments.repository.session.commit()
        flash(request, gettext(request, "Your comment was updated."), "success")
        return Redirect(f"/community/posts/{row.post_id}#comment-{row.id}")

    @post("/comments/{comment_id:uuid}/delete", opt=WRITE)
    async def comment_delete(self, request: Request[Any, Any, Any], user: User, comment_id: uuid.UUID,
                             comments: CommentService) -> Redirect:
        row = await comments.get_own(user, comment_id)
        post_id = row.post_id
        await comments.remove(row, user)
        await comments.repository.session.commit()
        flash(request, gettext(request, "Your comment was deleted."), "success")
        return Redirect(f"/community/posts/{post_id}")

    # ---------------------------------------------------------------------------------------------- reporting
    async def _report(self, request: Request[Any, Any, Any], user: User, reports: ReportService, data: ReportForm,
                      post_id: uuid.UUID, *, post_row: CommunityPost | None = None,
                      comment: CommunityComment | None = None) -> Redirect:
        errors = data.errors(_translator(request))
        if not errors:
            try:
                await reports.report(user, data.reason, post=post_row, comment=comment)
            except CommunityError as exc:
                errors = [exc.text.translate(request)]
        if errors:
            for error in errors:
                flash(request, error, "error")
            return Redirect(f"/community/posts/{post_id}")
        await reports.repository.session.commit()
        flash(request, gettext(request, "Thank you. A moderator will look at your report."), "success")
        return Redirect(f"/community/posts/{post_id}")

    @post("/posts/{post_id:uuid}/report", opt=WRITE)
    async def report_post(self, request: Request[Any, Any, Any], user: User, post_id: uuid.UUID,
                          posts: PostService, reports: ReportService,
                          data: Annotated[ReportForm, Form]) -> Redirect:
        post_row = await posts.get_readable(user, post_id)
        return await self._report(request, user, reports, data, post_row.id, post_row=post_row)

    @post("/comments/{comment_id:uuid}/report", opt=WRITE)
    async def report_comment(self, request: Request[Any, Any, Any], user: User, comment_id: uuid.UUID,
                             comments: CommentService, reports: ReportService,
                             data: Annotated[ReportForm, Form]) -> Redirect:
        row = await comments.get_readable(user, comment_id)
        return await self._report(request, user, reports, data, row.post_id, comment=row)


class ModerationController(Controller):
    """The queue of reported content; hide, unhide or dismiss. Moderators never edit other people's text."""

    path = "/community/moderation"
    guards = [requires_login]  # noqa: RUF012
    dependencies = {  # noqa: RUF012
        "moderator": Provide(provide_moderator), "posts": Provide(provide_post_service),
        "comments": Provide(provide_comment_service), "reports": Provide(provide_report_service),
    }

    @get("/", name="community_moderation")
    async def queue(self, moderator: User, reports: ReportService) -> Template:
        open_reports = await reports.open_reports()
        post_rows = await reports.posts_by_id([r.post_id for r in open_reports if r.post_id])
        comment_rows = await reports.comments_by_id([r.comment_id for r in open_reports if r.comment_id])
        hidden_posts = await reports.hidden_posts()
        hidden_comments = await reports.hidden_comments()
        parents = await reports.posts_by_id([c.post_id for c in [*comment_rows.values(), *hidden_comments]])

        items: dict[tuple[str, uuid.UUID], QueueItem] = {}
        for report in open_reports:
            if report.post_id and report.post_id in post_rows:
                p = post_rows[report.post_id]
                key = ("post", p.id)
                item = items.get(key) or QueueItem(kind="post", id=p.id, post_id=p.id, title=p.title,
                                                   excerpt=excerpt(p.body), author=pseudonym(p.user_id),
                                                   is_hidden=p.is_hidden, open_reports=0)
            elif report.comment_id and report.comment_id in comment_rows:
                c = comment_rows[report.comment_id]
                parent = parents.get(c.post_id)
                key = ("comment", c.id)
                item = items.get(key) or QueueItem(kind="comment", id=c.id, post_id=c.post_id,
                                                   title=parent.title if parent else "", excerpt=excerpt(c.body),
                                                   author=pseudonym(c.user_id), is_hidden=c.is_hidden,
                                                   open_reports=0)
            else:
                continue
            item.open_reports += 1
            item.reasons.append(report.reason)
            item.last_reported_at = report.created_at
            items[key] = item
        hidden = [QueueItem(kind="post", id=p.id, post_id=p.id, title=p.title, excerpt=excerpt(p.body),
                            author=pseudonym(p.user_id), is_hidden=True, open_reports=0,
                            last_reported_at=p.hidden_at) for p in hidden_posts]
        hidden += [QueueItem(kind="comment", id=c.id, post_id=c.post_id,
                             title=parents[c.post_id].title if c.post_id in parents else "", excerpt=excerpt(c.body),
                             author=pseudonym(c.user_id), is_hidden=True, open_reports=0,
                             last_reported_at=c.hidden_at) for c in hidden_comments]
        return Template("community/moderation.html", context={
            "queue": list(items.values()), "hidden": hidden})

    async def _moderate(self, request: Request[Any, Any, Any], moderator: User, kind: str, item_id: uuid.UUID,
                        action: str, posts: PostService, comments: CommentService, reports: ReportService,
                        next_url: str) -> Redirect:
        if action not in {"hide", "unhide", "dismiss"}:
            from litestar.exceptions import NotFoundException

            raise NotFoundException("No such action.")
        if kind == "post":
            post_row = await posts.get_readable(moderator, item_id)
            if action == "dismiss":
                await reports.dismiss(post_id=post_row.id)
            else:
                await posts.set_hidden(post_row, moderator, action == "hide")
        else:
            comment = await comments.get_readable(moderator, item_id)
            if action == "dismiss":
                await reports.dismiss(comment_id=comment.id)
            else:
                await comments.set_hidden(comment, moderator, action == "hide")
        await posts.repository.session.commit()
        messages = {"hide": gettext(request, "Hidden. Only its author and moderators can see it now."),
                    "unhide": gettext(request, "Visible again."),
                    "dismiss": gettext(request, "The reports were dismissed; the content stays visible.")}
        flash(request, messages[action], "success")
        return Redirect(safe_next(next_url) if next_url else "/community/moderation")

    @post("/posts/{item_id:uuid}/{action:str}")
    async def moderate_post(self, request: Request[Any, Any, Any], moderator: User, item_id: uuid.UUID,
                            action: str, posts: PostService, comments: CommentService, reports: ReportService,
                            data: Annotated[dict[str, str], Form]) -> Redirect:
        return await self._moderate(request, moderator, "post", item_id, action, posts, comments, reports,
                                    data.get("next", ""))

    @post("/comments/{item_id:uuid}/{action:str}")
    async def moderate_comment(self, request: Request[Any, Any, Any], moderator: User, item_id: uuid.UUID,
                               action: str, posts: PostService, comments: CommentService, reports: ReportService,
                               data: Annotated[dict[str, str], Form]) -> Redirect:
        return await self._moderate(request, moderator, "comment", item_id, action, posts, comments, reports,
                                    data.get("next", ""))


COMMUNITY_ROUTE_HANDLERS = [CommunityController, ModerationController]
