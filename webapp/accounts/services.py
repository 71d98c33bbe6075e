"""Account database work through advanced-alchemy."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from datetime import UTC, datetime
from typing import Any

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.accounts.recovery import forget_tokens, set_new_password
from webapp.accounts.schemas import normalise_email
from webapp.core.i18n import _, normalize
from webapp.core.passwords import hash_password, needs_rehash, verify_password
from webapp.core.timezones import valid_zone
from webapp.db.models import CommunityComment, CommunityPost, Diagnosis, Lesion, Photo, User
from webapp.sharing import services as sharing


class AccountError(ValueError):
    """A message for the user."""


class UserService(SQLAlchemyAsyncRepositoryService[User]):
    class Repository(SQLAlchemyAsyncRepository[User]):
        model_type = User

    repository_type = Repository

    async def get_by_email(self, email: str) -> User | None:
        return await self.get_one_or_none(email=normalise_email(email))

    async def register(self, email: str, password: str, language: str | None = None,
                       time_zone: str | None = None) -> User:
        email = normalise_email(email)
        if await self.exists(email=email):
            raise AccountError(_("An account with this email already exists. Log in instead."))
        return await self.create({"email": email, "password_hash": hash_password(password), "is_moderator": False,
                                  "language": normalize(language), "time_zone": valid_zone(time_zone)},
                                 auto_commit=False)

    async def set_time_zone(self, user: User, time_zone: str) -> str:
        """Save the account's time zone; anything but a known IANA zone name is refused with a message."""
        zone = valid_zone(time_zone)
        if zone is None:
            raise AccountError(_("“%(zone)s” is not a time zone we know. Choose one from the list, like "
                                 "Asia/Seoul or Europe/London.", zone=time_zone[:64]))
        user.time_zone = zone
        await self.repository.session.flush()
        return zone

    async def set_language(self, user: User, language: str) -> str:
        """Save the account's language; an unsupported one is refused with the choices."""
        chosen = normalize(language)
        if chosen is None:
            raise AccountError(_("Choose one of the site's languages: English or Korean."))
        user.language = chosen
        await self.repository.session.flush()
        return chosen

    async def set_about(self, user: User, birth_year: int | None, sex: str | None) -> None:
        """Save (or clear, with None) the optional birth year and sex the classifier may weigh."""
        user.birth_year = birth_year
        user.sex = sex
        await self.repository.session.flush()

    async def authenticate(self, email: str, password: str) -> User | None:
        user = await self.get_by_email(email)
        if not verify_password(user.password_hash if user else None, password) or user is None:
            return None
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        return user

    async def change_password(self, user: User, current: str, new: str) -> None:
        if not verify_password(user.password_hash, current):
            raise AccountError(_("The current password is not right."))
        await set_new_password(self.repository.session, user, new)

    async def set_moderator(self, email: str, value: bool = True) -> User:
        user = await self.get_by_email(email)
        if user is None:
            raise AccountError(f"no account with email {email!r}")
        user.is_moderator = value
        await self.repository.session.flush()
        return user

    async def counts(self, user_id: uuid.UUID) -> tuple[int, int]:
        session = self.repository.session
        diagnoses = await session.scalar(select(func.count()).select_from(Diagnosis)
                                         .where(Diagnosis.user_id == user_id))
        lesions = await session.scalar(select(func.count()).select_from(Lesion).where(Lesion.user_id == user_id))
        return int(diagnoses or 0), int(lesions or 0)

    async def delete_account(self, user_id: uuid.UUID) -> None:
        """Everything the person stored goes, in foreign-key order (no reliance on SQLite's FK pragma)."""
        session = self.repository.session
        await sharing.delete_for_user(session, user_id)
        await forget_tokens(session, user_id)
        await session.execute(delete(Diagnosis).where(Diagnosis.user_id == user_id))
        await session.execute(delete(Photo).where(Photo.user_id == user_id))
        await session.execute(delete(Lesion).where(Lesion.user_id == user_id))
        await session.execute(delete(User).where(User.id == user_id))
        await session.flush()


async def export_user_data(session: AsyncSession, user: User) -> bytes:
    """A zip with ``account.json``, ``lesions.json``, ``diagnoses.json``, ``community_posts.json``,
    ``community_comments.json``, ``share_links.json`` (when and how often each link was opened; no token) and every
    stored image. Password-reset tokens are not exported."""
    lesions = (await session.scalars(select(Lesion).where(Lesion.user_id == user.id)
                                     .order_by(Lesion.created_at))).all()
    diagnoses = (await session.scalars(select(Diagnosis).where(Diagnosis.user_id == user.id)
                                       .order_by(Diagnosis.created_at))).all()
    photos = (await session.scalars(select(Photo).where(Photo.user_id == user.id))).all()
    extension = {"image/jpeg": "jpg", "image/png": "png"}

    def photo_path(photo_id: uuid.UUID | None) -> str | None:
        by_id = {p.id: p for p in photos}
        photo = by_id.get(photo_id) if photo_id else None
        return f"images/{photo.id}.{extension.get(photo.content_type, 'bin')}" if photo else None

    account: dict[str, Any] = {"email": user.email, "language": user.language, "birth_year": user.birth_year,
                               "sex": user.sex, "time_zone": user.time_zone,
                               "created_at": user.created_at.isoformat(),
                               "exported_at": datetime.now(UTC).isoformat()}
    lesion_rows = [{"id": str(lesion.id), "name": lesion.name, "body_site": lesion.body_site,
                    "map_position": {"view": lesion.map_side, "x": lesion.map_x, "y": lesion.map_y}
                    if lesion.map_side else None,
                    "created_at": lesion.created_at.isoformat()} for lesion in lesions]
    diagnosis_rows = [{"id": str(d.id), "created_at": d.created_at.isoformat(),
                       "lesion_id": str(d.lesion_id) if d.lesion_id else None, "label": d.label,
                       "triage_level": d.triage_level, "concerning_probability": d.concerning_probability,
                       "area_fraction": d.area_fraction, "synthetic_model": d.synthetic_model,
                       "models": d.model_versions, "photo": photo_path(d.photo_id),
                       "overlay": photo_path(d.overlay_id), "result": d.result_document} for d in diagnoses]
    posts = (await session.scalars(select(CommunityPost).where(CommunityPost.user_id == user.id)
                                   .order_by(CommunityPost.created_at))).all()
    comments = (await session.scalars(select(CommunityComment).where(CommunityComment.user_id == user.id)
                                      .order_by(CommunityComment.created_at))).all()
    post_rows = [{"id": str(p.id), "created_at": p.created_at.isoformat(),
                  "edited_at": p.edited_at.isoformat() if p.edited_at else None, "title": p.title, "body": p.body,
                  "body_format": p.body_format, "photo": photo_path(p.photo_id),
                  "shared_diagnosis_id": str(p.diagnosis_id) if p.diagnosis_id else None,
                  "hidden_by_moderator": p.is_hidden} for p in posts]
    comment_rows = [{"id": str(c.id), "post_id": str(c.post_id), "created_at": c.created_at.isoformat(),
                     "edited_at": c.edited_at.isoformat() if c.edited_at else None, "body": c.body,
                     "body_format": c.body_format, "hidden_by_moderator": c.is_hidden} for c in comments]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("account.json", json.dumps(account, indent=2))
        archive.writestr("community_posts.json", json.dumps(post_rows, indent=2))
        archive.writestr("community_comments.json", json.dumps(comment_rows, indent=2))
        archive.writestr("lesions.json", json.dumps(lesion_rows, indent=2))
        archive.writestr("diagnoses.json", json.dumps(diagnosis_rows, indent=2))
        archive.writestr("share_links.json", json.dumps(await sharing.export_rows(session, user.id), indent=2))
        for photo in photos:
            path = photo_path(photo.id)
            if path:
                archive.writestr(path, photo.data, compress_type=zipfile.ZIP_STORED)
    return buffer.getvalue()
