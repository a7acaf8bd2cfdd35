"""Register, log in, log out, change password."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..audit_labels import role_phrase
from ..edge import committing
from ..errors import DomainError, show_on_form
from ..extensions import csrf, limiter
from ..permissions import can, require_page
from ..ratelimit_keys import username_address_key
from ..realtime.rooms import disconnect_user
from ..scheduling.zone_choices import timezone_choices
from ..two_factor import keep_passed
from . import activation_routes, alias_reads, data, recovery, services
from .forms import ChangePasswordForm, EraseAccountForm, LoginForm, LogoutForm, RegisterForm, SettingsForm
from .idle import mark_active
from .sessions import failed, fresh_session, login_limit, start_session
from .two_factor_routes import begin_second_step

bp = Blueprint("auth", __name__)
# A new staff member's activation link (a module of its own: the link's page, its form, its rate limit).
bp.add_url_rule("/activate/<token>", "activate", activation_routes.activate, methods=["GET", "POST"])


def safe_path(target: str | None) -> str | None:
    """`target` if it is only a path on this site (no scheme, no host, no protocol-relative or backslash
    tricks, no control characters), else None."""
    if not target or len(target) > 512:
        return None
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return None
    return target


def safe_next(target: str | None) -> str:
    """Where to go after logging in or registering: a safe `next` path, else the dashboard."""
    return safe_path(target) or url_for("home.dashboard")


def _next_context() -> dict[str, str | bool | None]:
    """What the login and register pages carry on: a safe `next` (an invite link, say) and whether it is one."""
    next_path = safe_path(request.args.get("next"))
    join_prefix = url_for("groups.join")
    return {
        "next_path": next_path,
        "is_invite": next_path is not None and (next_path == join_prefix or next_path.startswith(join_prefix + "/")),
    }


def _register_limit() -> str:
    return current_app.config["REGISTER_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"], deduct_when=failed)
@limiter.limit(login_limit, methods=["POST"], key_func=username_address_key, deduct_when=failed)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.username.data, form.password.data)
        if user is None:
            # One message for an unknown name and a wrong password: no account enumeration.
            form.password.errors.append(_("The username or password is not correct."))
        else:
            next_url = safe_next(request.args.get("next"))
            fresh_session()  # a new session at login: nothing carried over from before
            # Staff with a second factor go on to the code; the remember cookie waits for it too.
            second_step = begin_second_step(user, next_url, bool(form.remember.data))
            with committing():
                login_user(user, remember=bool(form.remember.data) and second_step is None)
                mark_active()
            return second_step or redirect(next_url)
    context = _next_context()
    if context["is_invite"] and request.method == "GET":
        session.pop("_flashes", None)  # Flask-Login's "Please log in to see this page": the invite note says it
    return render_template("auth/login.html", form=form, **context)


@bp.route("/register", methods=["GET", "POST"])
@csrf.exempt  # RegisterForm checks its own token; see below
@limiter.limit(_register_limit, methods=["POST"])
def register():
    """The page checks its CSRF token in the form, not before the view: the page with the recovery codes answers the
    registering POST, so a reload sends that POST again with the token of the session before the account existed
    (the new session has a new one). That stale re-send must reach the first branch below, which only redirects."""
    if current_user.is_authenticated:
        if request.method == "POST" and can(current_user, "keep_recovery_codes"):
            # The form sent again: the page with the recovery codes was reloaded (a phone reloads a tab it put
            # away while the person went to write the codes down). They are not shown again; new ones are a step.
            flash(_("We show recovery codes only once. If you did not save them all, make new ones here."), "info")
            return redirect(url_for("recovery.codes", next=safe_next(request.args.get("next"))))
        return redirect(url_for("home.dashboard"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            with committing():
                user = services.create_user(form.username.data, form.password.data)
                new_codes = recovery.issue_recovery_codes(user, reason="registration")
        except DomainError as error:
            show_on_form(form, error)
        else:
            start_session(user)  # a new session, a new CSRF token: nothing of the visitor's session carries over
            flash(_("Welcome. Your account is ready."), "success")
            # The recovery codes are shown in this response only: a reload asks to send the form again, which
            # now goes to the dashboard; they are never kept in the session cookie (signed, not encrypted).
            # An invite link opened before registering is not lost: "continue" goes there.
            return render_template(
                "auth/recovery_codes_new.html",
                codes=new_codes,
                username=user.username,
                continue_url=safe_next(request.args.get("next")),
                first_time=True,
            )
    if form.csrf_token.errors:  # the check CSRFProtect makes on every other POST, here made by the form
        flash(_("The page was open too long, or sent from elsewhere. Please try again."), "error")
    return render_template("auth/register.html", form=form, **_next_context()), 400 if form.errors else 200


@bp.route("/logout", methods=["POST"])
def logout():
    form = LogoutForm()
    if form.validate_on_submit() and current_user.is_authenticated:
        user = current_user._get_current_object()
        with committing():
            user.rotate_session_token()  # ends this session everywhere, including open sockets
        disconnect_user(user.id)
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@bp.route("/account/quick-exit", methods=["POST"])
def quick_exit():
    """Quick exit ends the session on the server too, not only the page (safety.js sends this with
    `navigator.sendBeacon` while the page goes away; nobody waits for the answer). Like logout it rotates
    the account's session token, so every session and socket of the account ends, on every device: a
    partner who holds another logged-in device must not find the groups there either. CSRF-protected
    (the token comes in the form-encoded body); the remember cookie is deleted as well."""
    if current_user.is_authenticated:
        user = current_user._get_current_object()
        with committing():
            user.rotate_session_token()
        disconnect_user(user.id)
    logout_user()
    session.clear()
    session["_remember"] = "clear"  # Flask-Login then deletes a remember cookie too
    return "", 204


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            with committing():
                services.change_password(user, form.current_password.data, form.password.data)
        except DomainError as error:
            show_on_form(form, error)
        else:
            disconnect_user(user.id)
            # Stay logged in here, under the new token; every other session has ended.
            session.clear()
            login_user(user)
            keep_passed(user)  # this session gave its code; only the others end
            mark_active()
            flash(_("Your password has been changed. Other devices have been logged out."), "success")
            return redirect(url_for("home.dashboard"))
    return render_template("auth/password.html", form=form)


@bp.route("/account/settings", methods=["GET", "POST"])
@login_required
def settings():
    user = current_user._get_current_object()
    form = SettingsForm(obj=user)
    form.timezone.choices = timezone_choices(user.timezone)
    if form.validate_on_submit():
        try:
            with committing():
                services.update_settings(user, form.timezone.data, form.locale.data)
        except DomainError as error:
            show_on_form(form, error)
        else:
            session.pop("lang", None)  # the saved setting now decides
            flash(_("Your settings have been saved."), "success")
            return redirect(url_for("auth.settings"))
    return render_template(
        "auth/settings.html", form=form, codes_left=recovery.codes_left(user), few_codes=recovery.FEW_CODES_LEFT
    ), (400 if form.errors else 200)


# --- your own data: export and erasure ---------------------------------------------------------------


@bp.route("/account/export")
@login_required
def export_account():
    """The person's own data as a JSON download; never cached (a shared device must not keep it)."""
    user = current_user._get_current_object()
    body = json.dumps(data.export_data(user), ensure_ascii=False, indent=2)
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = 'attachment; filename="supportgroup-my-data.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/account/alias-lookups")
@login_required
def alias_lookups():
    """When a coordinator or an admin saw which account is behind one of your aliases (the role, never who)."""
    require_page(current_user, "see_own_alias_lookups")  # participants: only they take part under an alias
    reads = alias_reads.alias_reads_of(current_user._get_current_object())
    return render_template("auth/alias_lookups.html", reads=reads, role_phrase=role_phrase)


@bp.route("/account/erase", methods=["GET", "POST"])
@login_required
@limiter.limit(login_limit, methods=["POST"], deduct_when=failed)
def erase_account():
    form = EraseAccountForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        user_id = user.id
        try:
            with committing():
                data.erase_account(user, form.password.data)
        except DomainError as error:
            show_on_form(form, error)
        else:
            disconnect_user(user_id)
            logout_user()
            session.clear()
            session["_remember"] = "clear"  # Flask-Login then deletes a remember cookie too
            return redirect(url_for("auth.account_erased"))
    return render_template("auth/erase.html", form=form), 400 if form.errors else 200


@bp.route("/account/erased")
def account_erased():
    return render_template("auth/erased.html")
