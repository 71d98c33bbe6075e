"""Account pages: HTTP only; the work happens in ``services``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.datastructures import Cookie
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter
from litestar.plugins.flash import flash
from litestar.response import Redirect, Response, Template
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.accounts.dependencies import provide_user, provide_user_service
from webapp.accounts.lockout import AccountLockout
from webapp.accounts.recovery import AddressLimit, reset_job, set_new_password, user_for_token
from webapp.accounts.schemas import (
    AboutForm,
    AccountView,
    DeleteAccountForm,
    ForgotForm,
    LanguageForm,
    LoginForm,
    PasswordForm,
    RegisterForm,
    ResetForm,
    TimeZoneForm,
    safe_next,
)
from webapp.accounts.services import AccountError, UserService, export_user_data
from webapp.core.forgery import bind_csrf_to_session
from webapp.core.guards import SESSION_EMAIL, SESSION_GENERATION, SESSION_USER_ID, requires_login
from webapp.core.i18n import LANGUAGE_FULL_NAMES, _, gettext, ngettext, request_language, with_language
from webapp.core.mail import Mailer, site_url
from webapp.core.sessions import rotate_session_id
from webapp.core.settings import get_mail_settings, get_rate_limit_settings, get_security_settings
from webapp.core.timezones import COOKIE as ZONE_COOKIE
from webapp.core.timezones import remember_account_zone, valid_zone, zone_names
from webapp.db.models import User
from webapp.diagnoses import pending
from webapp.diagnoses.dependencies import provide_diagnosis_service
from webapp.diagnoses.services import DiagnosisService

Form = Body(media_type=RequestEncodingType.URL_ENCODED)


def _lockout(request: Request[Any, Any, Any]) -> AccountLockout:
    limits = get_rate_limit_settings()
    return AccountLockout(request.app.stores.get("rate_limit"), max_failures=limits.login_max_failures,
                          window_s=limits.login_lock_minutes * 60)


async def _with_pending_result(request: Request[Any, Any, Any], user: User, diagnoses: DiagnosisService,
                               redirect: Redirect) -> Redirect:
    """Save the anonymous result this browser asked to keep (webapp.diagnoses.pending) to the new account, and go
    to it; ``redirect`` unchanged when there is none. Saved first, forgotten after: a failed save loses nothing."""
    if not request.cookies.get(pending.COOKIE):
        return redirect
    kept = await pending.peek(request)
    if kept is None:
        redirect.cookies.append(pending.forget_cookie())
        return redirect
    photo, result = kept
    diagnosis = await diagnoses.save(user.id, photo, result)
    await diagnoses.repository.session.commit()
    await pending.forget(request)
    flash(request, _("The result you asked to keep was saved to your account."), "success")
    saved = Redirect(f"/diagnoses/{diagnosis.id}")
    saved.cookies.append(pending.forget_cookie())
    return saved


def _log_in(request: Request[Any, Any, Any], user: User) -> None:
    request.clear_session()
    rotate_session_id(request)
    request.set_session({SESSION_USER_ID: str(user.id), SESSION_EMAIL: user.email,
                         SESSION_GENERATION: user.session_generation or 0})
    remember_account_zone(request, user.time_zone)
    bind_csrf_to_session(request)


def _browser_zone(request: Request[Any, Any, Any], sent: str) -> str | None:
    """The browser's zone: sent with the form by static/js/timezone.js, else its ``tz`` cookie."""
    return valid_zone(sent) or valid_zone(request.cookies.get(ZONE_COOKIE))


class AuthController(Controller):
    dependencies = {"users": Provide(provide_user_service),  # noqa: RUF012 (Litestar reads these class attributes)
                    "diagnoses": Provide(provide_diagnosis_service)}

    @get("/register", name="register")
    async def register_page(self) -> Template:
        return Template("accounts/register.html", context={"form": RegisterForm(), "errors": []})

    @post("/register", opt={"rate_limit": "register"})
    async def register(self, request: Request[Any, Any, Any], users: UserService, diagnoses: DiagnosisService,
                       data: Annotated[RegisterForm, Form]) -> Response[Any]:
        errors = data.errors()
        if not errors:
            try:
                user = await users.register(data.email, data.password, request_language(request),
                                            _browser_zone(request, data.time_zone))
            except AccountError as exc:
                errors = [str(exc)]
        if errors:
            return Template("accounts/register.html", context={"form": data, "errors": errors}, status_code=400)
        await users.repository.session.commit()
        _log_in(request, user)
        flash(request, _("Welcome to Dr. Skin. Your account is ready; your diagnoses will now be kept."), "success")
        return await _with_pending_result(request, user, diagnoses, Redirect("/"))

    @get("/login", name="login")
    async def login_page(self, next_: Annotated[str, Parameter(query="next")] = "/") -> Template:
        return Template("accounts/login.html", context={"form": LoginForm(next=safe_next(next_)), "errors": []})

    @post("/login", opt={"rate_limit": "login"})
    async def login(self, request: Request[Any, Any, Any], users: UserService,
                    data: Annotated[LoginForm, Form]) -> Response[Any]:
        lockout = _lockout(request)
        wait = await lockout.retry_after(data.email)
        if wait is not None:
            data.password = ""
            minutes = max(1, round(wait / 60))
            return Template("accounts/login.html", status_code=429, headers={"Retry-After": str(wait)}, context={
                "form": data, "locked": True, "errors": [ngettext(
                    request, "Too many wrong passwords for this account. To protect it, logging in is paused: try "
                    "again in %(num)d minute.", "Too many wrong passwords for this account. To protect it, logging "
                    "in is paused: try again in %(num)d minutes.", minutes)]})
        user = await users.authenticate(data.email, data.password)
        if user is None:
            await lockout.failed(data.email)
            data.password = ""
            return Template("accounts/login.html", status_code=400, context={
                "form": data, "errors": [_("The email or password is not right. Check both and try again.")]})
        await lockout.succeeded(data.email)
        if user.time_zone is None:  # accounts from before time zones: take this browser's
            user.time_zone = _browser_zone(request, data.time_zone)
        await users.repository.session.commit()
        _log_in(request, user)
        flash(request, _("You are logged in."), "success")
        target = safe_next(data.next)
        if user.language and user.language != request_language(request):  # the account's language, on any device
            target = with_language(target, user.language)
        return Redirect(target)

    @post("/logout")
    async def logout(self, request: Request[Any, Any, Any]) -> Redirect:
        request.clear_session()
        return Redirect("/")


class AccountController(Controller):
    path = "/account"
    guards = [requires_login]  # noqa: RUF012 (Litestar reads these class attributes)
    dependencies = {"users": Provide(provide_user_service), "user": Provide(provide_user)}  # noqa: RUF012 (Litestar reads these class attributes)

    async def _page(self, users: UserService, user: User, errors: dict[str, list[str]] | None = None,
                    status_code: int = 200) -> Template:
        diagnoses, lesions = await users.counts(user.id)
        view = AccountView(id=user.id, email=user.email, is_moderator=user.is_moderator,
                           diagnosis_count=diagnoses, lesion_count=lesions, language=user.language,
                           birth_year=user.birth_year, sex=user.sex, time_zone=user.time_zone)
        return Template("accounts/account.html", status_code=status_code, context={
            "account": view, "errors": errors or {}, "language_names": LANGUAGE_FULL_NAMES,
            "zone_names": zone_names(), "now_utc": datetime.now(UTC)})

    @get("/", name="account")
    async def account_page(self, users: UserService, user: User) -> Template:
        return await self._page(users, user)

    @post("/password")
    async def change_password(self, request: Request[Any, Any, Any], users: UserService, user: User,
                              data: Annotated[PasswordForm, Form]) -> Response[Any]:
        errors = data.errors()
        if not errors:
            try:
                await users.change_password(user, data.current_password, data.new_password)
            except AccountError as exc:
                errors = [str(exc)]
        if errors:
            return await self._page(users, user, {"password": errors}, status_code=400)
        await users.repository.session.commit()
        request.session[SESSION_GENERATION] = user.session_generation  # this session stays; the others end
        flash(request, _("Your password was changed. Every other device was logged out."), "success")
        return Redirect("/account")

    @post("/language")
    async def change_language(self, request: Request[Any, Any, Any], users: UserService, user: User,
                              data: Annotated[LanguageForm, Form]) -> Response[Any]:
        try:
            chosen = await users.set_language(user, data.language)
        except AccountError as exc:
            return await self._page(users, user, {"language": [str(exc)]}, status_code=400)
        await users.repository.session.commit()
        flash(request, gettext(chosen, "Your language was saved: the site uses it wherever you log in."), "success")
        return Redirect(with_language("/account", chosen))

    @post("/time-zone")
    async def change_time_zone(self, request: Request[Any, Any, Any], users: UserService, user: User,
                               data: Annotated[TimeZoneForm, Form]) -> Response[Any]:
        try:
            zone = await users.set_time_zone(user, data.time_zone)
        except AccountError as exc:
            return await self._page(users, user, {"time_zone": [str(exc)]}, status_code=400)
        await users.repository.session.commit()
        remember_account_zone(request, zone)
        flash(request, _("Your time zone was saved: times are now shown in %(zone)s.", zone=zone), "success")
        return Redirect("/account")

    @post("/about")
    async def change_about(self, request: Request[Any, Any, Any], users: UserService, user: User,
                           data: Annotated[AboutForm, Form]) -> Response[Any]:
        birth_year, sex, problems = data.parsed(datetime.now(UTC).year)
        if problems:
            return await self._page(users, user, {"about": problems}, status_code=400)
        await users.set_about(user, birth_year, sex)
        await users.repository.session.commit()
        flash(request, _("Saved. Your next photos are weighed with what you gave; nothing you left empty is "
                         "guessed.") if birth_year or sex else _("Cleared: your next photos are judged from the "
                                                                   "photo alone."), "success")
        return Redirect("/account")

    @get("/export")
    async def export(self, db_session: AsyncSession, user: User) -> Response[bytes]:
        archive = await export_user_data(db_session, user)
        return Response(archive, media_type="application/zip", headers={
            "Content-Disposition": 'attachment; filename="drskin-my-data.zip"', "Cache-Control": "no-store"})

    @post("/delete")
    async def delete_account(self, request: Request[Any, Any, Any], users: UserService, user: User,
                             data: Annotated[DeleteAccountForm, Form]) -> Response[Any]:
        problems = []
        if data.confirm.strip().upper() != "DELETE":
            problems.append(_("Type DELETE in the box to confirm."))
        if not (await users.authenticate(user.email, data.password)):
            problems.append(_("The password is not right."))
        if problems:
            return await self._page(users, user, {"delete": problems}, status_code=400)
        await users.delete_account(user.id)
        await users.repository.session.commit()
        request.clear_session()
        rotate_session_id(request)
        request.set_session({})
        flash(request, _("Your account and everything in it were deleted."), "success")
        return Redirect("/")


RESET_HEADERS = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}  # the token is in the URL
RESET_COOKIE = "drskin_reset"


def _reset_cookie(request: Request[Any, Any, Any], token: str, max_age: int) -> Cookie:
    """The token, moved out of the URL: the form page's address holds no secret, so its requests (and any Referer)
    carry none. HttpOnly, Lax (it is set on the top-level visit from the mail), only for ``/password``."""
    return Cookie(key=RESET_COOKIE, value=token, max_age=max_age, path="/password", httponly=True, samesite="lax",
                  secure=get_security_settings().secure_cookies)


class PasswordResetController(Controller):
    """"Forgot your password?" (``webapp.accounts.recovery``)."""

    path = "/password"
    dependencies = {"users": Provide(provide_user_service)}  # noqa: RUF012 (Litestar reads these class attributes)

    @get("/forgot", name="forgot_password")
    async def forgot_page(self) -> Template:
        return Template("accounts/forgot.html", context={"form": ForgotForm(), "errors": []})

    @post("/forgot", opt={"rate_limit": "reset"})
    async def forgot(self, request: Request[Any, Any, Any], data: Annotated[ForgotForm, Form]) -> Template:
        """The same page, at once, whether or not the address has an account: the lookup, the token and the mail
        happen in the mailer's job."""
        errors = data.errors()
        if errors:
            return Template("accounts/forgot.html", status_code=400, context={"form": data, "errors": errors})
        settings = get_mail_settings()
        alchemy = request.app.state.alchemy_config
        limit = AddressLimit(request.app.stores.get("rate_limit"), settings.reset_per_address_per_hour)
        mailer: Mailer = request.app.state.mailer
        mailer.submit(reset_job(alchemy.get_session, limit, data.email, request_language(request),
                                site_url(request), settings.reset_token_minutes))
        return Template("accounts/forgot_sent.html", context={"minutes": settings.reset_token_minutes})

    @get("/reset/{token:str}", name="reset_link")
    async def reset_link(self, request: Request[Any, Any, Any], db_session: AsyncSession, token: str) -> Response[Any]:
        """The mail's link: a used, superseded or expired token is the 410 page; a good one goes, in a cookie, to the
        form at ``/password/reset``."""
        if token == "new" or await user_for_token(db_session, token) is None:
            return Template("accounts/reset_invalid.html", status_code=410, headers=RESET_HEADERS)
        minutes = get_mail_settings().reset_token_minutes
        return Redirect("/password/reset", headers=RESET_HEADERS,
                        cookies=[_reset_cookie(request, token, minutes * 60)])

    @get("/reset", name="reset_password")
    async def reset_page(self, request: Request[Any, Any, Any], db_session: AsyncSession) -> Template:
        if await user_for_token(db_session, request.cookies.get(RESET_COOKIE, "")) is None:
            return Template("accounts/reset_invalid.html", status_code=410, headers=RESET_HEADERS)
        return Template("accounts/reset.html", headers={"Cache-Control": "no-store"},
                        context={"form": ResetForm(), "errors": []})

    @post("/reset", opt={"rate_limit": "reset"})
    async def reset(self, request: Request[Any, Any, Any], db_session: AsyncSession,
                    data: Annotated[ResetForm, Form]) -> Response[Any]:
        user = await user_for_token(db_session, request.cookies.get(RESET_COOKIE, ""))
        if user is None:
            return Template("accounts/reset_invalid.html", status_code=410, headers=RESET_HEADERS)
        errors = data.errors()
        if errors:
            return Template("accounts/reset.html", status_code=400, headers={"Cache-Control": "no-store"},
                            context={"form": ResetForm(), "errors": errors})
        await set_new_password(db_session, user, data.password)
        await db_session.commit()
        await _lockout(request).succeeded(user.email)  # the owner gets in even while the account was locked
        request.clear_session()
        rotate_session_id(request)
        request.set_session({})
        flash(request, _("Your password was changed and every device was logged out. Log in with the new "
                         "password."), "success")
        return Redirect("/login", cookies=[_reset_cookie(request, "", 0)])
