"""Community database work through advanced-alchemy repository services.

Visibility rules live here, in the queries: a hidden post or comment is read only by its author (marked hidden)
and by moderators; nobody changes or deletes what is not theirs (the row is simply "not found").
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService
from litestar.exceptions import NotFoundException
from sqlalchemy import delete, false, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from webapp.community.schemas import PER_PAGE, PostForm, excerpt
from webapp.core.i18n import LazyText, lazy_gettext
from webapp.core.images import CleanPhoto
from webapp.db.models import CommunityComment, CommunityPost, CommunityReport, Diagnosis, Photo, User


class CommunityError(ValueError):
    """A message for the user (translated by the controller with the request's language)."""

    def __init__(self, text: LazyText) -> None:
        super().__init__(text.msgid)
        self.text = text


def parse_id(raw: uuid.UUID | str | None) -> uuid.UUID | None:
    if isinstance(raw, uuid.UUID):
        return raw
    try:
        return uuid.UUID(str(raw)) if raw else None
    except ValueError:
        return None


def search_key(text: str) -> str:
    """Case-folded text: search compares this on both databases (SQLite's lower() only folds ASCII)."""
    return " ".join(text.casefold().split())


def like_pattern(query: str) -> str:
    escaped = search_key(query).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _viewer_id(viewer: User | None) -> uuid.UUID | None:
    return viewer.id if viewer is not None else None


def _is_moderator(viewer: User | None) -> bool:
    return bool(viewer is not None and viewer.is_moderator)


def _hide(row: CommunityPost | CommunityComment, moderator: User, hidden: bool) -> None:
    row.is_hidden = hidden
    row.hidden_at = datetime.now(UTC) if hidden else None
    row.hidden_by_id = moderator.id if hidden else None


class PostService(SQLAlchemyAsyncRepositoryService[CommunityPost]):
    class Repository(SQLAlchemyAsyncRepository[CommunityPost]):
        model_type = CommunityPost

    repository_type = Repository

    @staticmethod
    def listed(viewer: User | None) -> ColumnElement[bool]:
        """What the list shows: visible posts, plus the viewer's own hidden ones (marked)."""
        viewer_id = _viewer_id(viewer)
        if viewer_id is None:
            return CommunityPost.is_hidden == false()
        return or_(CommunityPost.is_hidden == false(), CommunityPost.user_id == viewer_id)

    async def page(self, viewer: User | None, page: int, query: str = "",
                   per_page: int = PER_PAGE) -> tuple[list[CommunityPost], int]:
        session = self.repository.session
        conditions = [self.listed(viewer)]
        if query.strip():
            conditions.append(CommunityPost.title_search.like(like_pattern(query), escape="\\"))
        total = await session.scalar(select(func.count()).select_from(CommunityPost).where(*conditions))
        rows = await session.scalars(select(CommunityPost).where(*conditions)
                                     .order_by(CommunityPost.created_at.desc(), CommunityPost.id.desc())
                                     .limit(per_page).offset((page - 1) * per_page))
        return list(rows.all()), int(total or 0)

    async def comment_counts(self, viewer: User | None, post_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, int]:
        ids = list(post_ids)
        if not ids:
            return {}
        rows = await self.repository.session.execute(
            select(CommunityComment.post_id, func.count()).where(
                CommunityComment.post_id.in_(ids), CommentService.readable(viewer))
            .group_by(CommunityComment.post_id))
        return dict(rows.tuples().all())

    async def get_readable(self, viewer: User | None, post_id: uuid.UUID | str | None) -> CommunityPost:
        """A post the viewer may read: visible, or hidden but theirs, or any post for a moderator."""
        key = parse_id(post_id)
        post = await self.get_one_or_none(id=key) if key else None
        if post is None or (post.is_hidden and not _is_moderator(viewer) and post.user_id != _viewer_id(viewer)):
            raise NotFoundException("No such post.")
        return post

    async def get_own(self, user: User, post_id: uuid.UUID | str | None) -> CommunityPost:
        """The author's own post; anybody else's (moderators included) is "not found"."""
        key = parse_id(post_id)
        post = await self.get_one_or_none(id=key, user_id=user.id) if key else None
        if post is None:
            raise NotFoundException("No such post.")
        return post

    async def own_diagnosis(self, user: User, diagnosis_id: str) -> Diagnosis | None:
        """The diagnosis the author explicitly chose to attach, or None; only their own diagnoses qualify."""
        if not diagnosis_id.strip():
            return None
        key = parse_id(diagnosis_id.strip())
        diagnosis = await self.repository.session.scalar(
            select(Diagnosis).where(Diagnosis.id == key, Diagnosis.user_id == user.id)) if key else None
        if diagnosis is None:
            raise CommunityError(lazy_gettext("Choose one of your own diagnoses to attach, or none."))
        return diagnosis

    async def diagnosis_choices(self, user: User) -> list[Diagnosis]:
        rows = await self.repository.session.scalars(
            select(Diagnosis).where(Diagnosis.user_id == user.id).order_by(Diagnosis.created_at.desc()).limit(50))
        return list(rows.all())

    async def _store_photo(self, user: User, photo: CleanPhoto) -> Photo:
        row = Photo(user_id=user.id, content_type="image/jpeg", width=photo.width, height=photo.height,
                    data=photo.jpeg)
        self.repository.session.add(row)
        await self.repository.session.flush()
        return row

    async def create_post(self, user: User, form: PostForm, photo: CleanPhoto | None,
                          diagnosis: Diagnosis | None) -> CommunityPost:
        photo_row = await self._store_photo(user, photo) if photo is not None else None
        post = CommunityPost(
            user_id=user.id, title=form.title.strip(), title_search=search_key(form.title), body=form.body,
            body_format=form.body_format, photo_id=photo_row.id if photo_row else None,
            diagnosis_id=diagnosis.id if diagnosis else None,
            share_diagnosis_photo=bool(diagnosis is not None and form.includes_diagnosis_photo),
            is_hidden=False)
        self.repository.session.add(post)
        await self.repository.session.flush()
        return post

    async def update_post(self, post: CommunityPost, user: User, form: PostForm, photo: CleanPhoto | None,
                          diagnosis: Diagnosis | None) -> CommunityPost:
        if post.user_id != user.id:  # defence in depth: loaded with get_own
            raise NotFoundException("No such post.")
        session = self.repository.session
        old_photo_id = post.photo_id
        post.title, post.title_search = form.title.strip(), search_key(form.title)
        post.edited_at = datetime.now(UTC)
        post.body, post.body_format = form.body, form.body_format
        post.diagnosis_id = diagnosis.id if diagnosis else None
        post.share_diagnosis_photo = bool(diagnosis is not None and form.includes_diagnosis_photo)
        if photo is not None:
            post.photo_id = (await self._store_photo(user, photo)).id
        elif form.wants_photo_removed:
            post.photo_id = None
        await session.flush()
        if old_photo_id and old_photo_id != post.photo_id:
            await session.execute(delete(Photo).where(Photo.id == old_photo_id, Photo.user_id == user.id))
            await session.flush()
        return post

    async def delete_post(self, post: CommunityPost, user: User) -> None:
        """The post, its comments, every report about them and its photo (not a shared diagnosis: that stays)."""
        if post.user_id != user.id:
            raise NotFoundException("No such post.")
        session = self.repository.session
        comment_ids = select(CommunityComment.id).where(CommunityComment.post_id == post.id)
        await session.execute(delete(CommunityReport).where(or_(CommunityReport.post_id == post.id,
                                                                CommunityReport.comment_id.in_(comment_ids))))
        await session.execute(delete(CommunityComment).where(CommunityComment.post_id == post.id))
        await session.execute(delete(CommunityPost).where(CommunityPost.id == post.id,
                                                          CommunityPost.user_id == user.id))
        if post.photo_id:
            await session.execute(delete(Photo).where(Photo.id == post.photo_id, Photo.user_id == user.id))
        await session.flush()

    async def set_hidden(self, post: CommunityPost, moderator: User, hidden: bool) -> None:
        if not moderator.is_moderator:
            raise NotFoundException("No such post.")
        _hide(post, moderator, hidden)
        await self.repository.session.execute(update(CommunityReport).where(
            CommunityReport.post_id == post.id).values(resolved=True))
        await self.repository.session.flush()

    async def photo_for(self, post: CommunityPost, which: str) -> Photo:
        """The post's own photo, or the shared diagnosis' photo or its older outlined copy (an overlay drawn on the
        photo): both show the photo, so only when the author chose to share it."""
        photo_id: uuid.UUID | None = None
        if which == "photo":
            photo_id = post.photo_id
        elif post.diagnosis_id is not None:
            diagnosis = await self.repository.session.get(Diagnosis, post.diagnosis_id)
            if diagnosis is not None and diagnosis.user_id == post.user_id:
                if which == "overlay" and post.share_diagnosis_photo:
                    photo_id = diagnosis.overlay_id
                elif which == "diagnosis-photo" and post.share_diagnosis_photo:
                    photo_id = diagnosis.photo_id
        photo = await self.repository.session.scalar(
            select(Photo).where(Photo.id == photo_id, Photo.user_id == post.user_id)) if photo_id else None
        if photo is None:
            raise NotFoundException("No such photo.")
        return photo

    async def shared_diagnosis(self, post: CommunityPost) -> Diagnosis | None:
        if post.diagnosis_id is None:
            return None
        diagnosis = await self.repository.session.get(Diagnosis, post.diagnosis_id)
        return diagnosis if diagnosis is not None and diagnosis.user_id == post.user_id else None


class CommentService(SQLAlchemyAsyncRepositoryService[CommunityComment]):
    class Repository(SQLAlchemyAsyncRepository[CommunityComment]):
        model_type = CommunityComment

    repository_type = Repository

    @staticmethod
    def readable(viewer: User | None) -> ColumnElement[bool]:
        viewer_id = _viewer_id(viewer)
        if _is_moderator(viewer):
            return CommunityComment.id.is_not(None)
        if viewer_id is None:
            return CommunityComment.is_hidden == false()
        return or_(CommunityComment.is_hidden == false(), CommunityComment.user_id == viewer_id)

    async def for_post(self, viewer: User | None, post: CommunityPost) -> list[CommunityComment]:
        rows = await self.repository.session.scalars(
            select(CommunityComment).where(CommunityComment.post_id == post.id, self.readable(viewer))
            .order_by(CommunityComment.created_at.asc(), CommunityComment.id.asc()))
        return list(rows.all())

    async def get_readable(self, viewer: User | None, comment_id: uuid.UUID | str | None) -> CommunityComment:
        key = parse_id(comment_id)
        comment = await self.repository.session.scalar(
            select(CommunityComment).where(CommunityComment.id == key, self.readable(viewer))) if key else None
        if comment is None:
            raise NotFoundException("No such comment.")
        await PostService(session=self.repository.session).get_readable(viewer, comment.post_id)
        return comment

    async def get_own(self, user: User, comment_id: uuid.UUID | str | None) -> CommunityComment:
        key = parse_id(comment_id)
        comment = await self.get_one_or_none(id=key, user_id=user.id) if key else None
        if comment is None:
            raise NotFoundException("No such comment.")
        return comment

    async def add(self, user: User, post: CommunityPost, body: str, body_format: str) -> CommunityComment:
        comment = CommunityComment(post_id=post.id, user_id=user.id, body=body, body_format=body_format,
                                   is_hidden=False)
        self.repository.session.add(comment)
        await self.repository.session.flush()
        return comment

    async def edit(self, comment: CommunityComment, user: User, body: str, body_format: str) -> None:
        if comment.user_id != user.id:
            raise NotFoundException("No such comment.")
        comment.body, comment.body_format = body, body_format
        comment.edited_at = datetime.now(UTC)
        await self.repository.session.flush()

    async def remove(self, comment: CommunityComment, user: User) -> None:
        if comment.user_id != user.id:
            raise NotFoundException("No such comment.")
        session = self.repository.session
        await session.execute(delete(CommunityReport).where(CommunityReport.comment_id == comment.id))
        await session.execute(delete(CommunityComment).where(CommunityComment.id == comment.id,
                                                             CommunityComment.user_id == user.id))
        await session.flush()

    async def set_hidden(self, comment: CommunityComment, moderator: User, hidden: bool) -> None:
        if not moderator.is_moderator:
            raise NotFoundException("No such comment.")
        _hide(comment, moderator, hidden)
        await self.repository.session.execute(update(CommunityReport).where(
            CommunityReport.comment_id == comment.id).values(resolved=True))
        await self.repository.session.flush()


class ReportService(SQLAlchemyAsyncRepositoryService[CommunityReport]):
    class Repository(SQLAlchemyAsyncRepository[CommunityReport]):
        model_type = CommunityReport

    repository_type = Repository

    async def report(self, user: User, reason: str, *, post: CommunityPost | None = None,
                     comment: CommunityComment | None = None) -> CommunityReport:
        """One report per person and item (a unique constraint backs the check against simultaneous clicks)."""
        target = post or comment
        if target is None or (post is not None and comment is not None):
            raise ValueError("report exactly one post or one comment")
        if target.user_id == user.id:
            raise CommunityError(lazy_gettext("You cannot report what you wrote yourself. Edit or delete it."))
        column = CommunityReport.post_id if post is not None else CommunityReport.comment_id
        session = self.repository.session
        if await session.scalar(select(CommunityReport.id).where(CommunityReport.user_id == user.id,
                                                                 column == target.id)):
            raise CommunityError(lazy_gettext("You have already reported this. A moderator will look at it."))
        report = CommunityReport(user_id=user.id, post_id=post.id if post else None,
                                 comment_id=comment.id if comment else None, reason=reason.strip(), resolved=False)
        try:
            async with session.begin_nested():
                session.add(report)
        except IntegrityError as exc:
            raise CommunityError(lazy_gettext("You have already reported this. A moderator will look at it.")) from exc
        return report

    async def reported_by(self, user: User | None, *, post_ids: Iterable[uuid.UUID] = (),
                          comment_ids: Iterable[uuid.UUID] = ()) -> set[uuid.UUID]:
        """Which of these posts and comments ``user`` has already reported."""
        if user is None:
            return set()
        posts, comments = list(post_ids), list(comment_ids)
        found: set[uuid.UUID] = set()
        session = self.repository.session
        if posts:
            found |= set((await session.scalars(select(CommunityReport.post_id).where(
                CommunityReport.user_id == user.id, CommunityReport.post_id.in_(posts)))).all())
        if comments:
            found |= set((await session.scalars(select(CommunityReport.comment_id).where(
                CommunityReport.user_id == user.id, CommunityReport.comment_id.in_(comments)))).all())
        found.discard(None)  # type: ignore[arg-type]
        return found

    async def dismiss(self, *, post_id: uuid.UUID | None = None, comment_id: uuid.UUID | None = None) -> None:
        column = CommunityReport.post_id if post_id is not None else CommunityReport.comment_id
        await self.repository.session.execute(update(CommunityReport).where(
            column == (post_id or comment_id)).values(resolved=True))
        await self.repository.session.flush()

    async def open_reports(self) -> list[CommunityReport]:
        rows = await self.repository.session.scalars(
            select(CommunityReport).where(CommunityReport.resolved == false())
            .order_by(CommunityReport.created_at.asc()))
        return list(rows.all())

    async def hidden_posts(self, limit: int = 100) -> list[CommunityPost]:
        rows = await self.repository.session.scalars(
            select(CommunityPost).where(CommunityPost.is_hidden.is_(True))
            .order_by(CommunityPost.hidden_at.desc()).limit(limit))
        return list(rows.all())

    async def hidden_comments(self, limit: int = 100) -> list[CommunityComment]:
        rows = await self.repository.session.scalars(
            select(CommunityComment).where(CommunityComment.is_hidden.is_(True))
            .order_by(CommunityComment.hidden_at.desc()).limit(limit))
        return list(rows.all())

    async def posts_by_id(self, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, CommunityPost]:
        wanted = list(set(ids))
        if not wanted:
            return {}
        rows = await self.repository.session.scalars(select(CommunityPost).where(CommunityPost.id.in_(wanted)))
        return {row.id: row for row in rows.all()}

    async def comments_by_id(self, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, CommunityComment]:
        wanted = list(set(ids))
        if not wanted:
            return {}
        rows = await self.repository.session.scalars(
            select(CommunityComment).where(CommunityComment.id.in_(wanted)))
        return {row.id: row for row in rows.all()}


__all__ = ["CommentService", "CommunityError", "PostService", "ReportService", "excerpt", "search_key"]
