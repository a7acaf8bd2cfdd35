"""Pages for getting back in without e-mail: "Forgot password?" (`/account/recover`) and the recovery codes in
the settings (`/account/recovery-codes`). The rules are in `recovery.py`."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from ..edge import committing
from ..errors import DomainError, show_on_form
from ..extensions import limiter
from ..models import CodeKind
from ..permissions import can, require_page
from ..ratelimit_keys import recovery_username_key
from ..realtime.rooms import disconnect_user
from . import recovery
from .forms import NewRecoveryCodesForm, RecoverForm
from .routes import safe_next, safe_path
from .sessions import failed, login_limit, start_session

bp = Blueprint("recovery", __name__)

RESET_CODE_USED = _l(
    "You used a reset code. Make new recovery codes now, so that next time you can get back in yourself."
)


def _recovery_limit() -> str:
    return current_app.config["RECOVERY_RATE_LIMIT"]


def _recovery_user_limit() -> str:
    return current_app.config["RECOVERY_USER_RATE_LIMIT"]


@bp.route("/account/recover", methods=["GET", "POST"])
@limiter.limit(_recovery_limit, methods=["POST"], deduct_when=failed)
@limiter.limit(_recovery_user_limit, methods=["POST"], key_func=recovery_username_key, deduct_when=failed)
def recover():
    if current_user.is_authenticated:
        return redirect(url_for("home.dashboard"))
    next_path = safe_path(request.args.get("next"))
    form = RecoverForm()
    if form.validate_on_submit():
        try:
            with committing():
                done = recovery.recover(form.username.data, form.code.data, form.password.data)
        except DomainError as error:
            if error.field == "code":
                form.code.data = ""  # a refused code is not shown back; the username stays
            show_on_form(form, error)
        else:
            disconnect_user(done.user.id)  # every other device's sockets; their sessions ended with the token
            start_session(done.user)
            flash(_("Your new password is set. Every other device has been logged out."), "success")
            if not can(done.user, "keep_recovery_codes"):
                return redirect(safe_next(next_path))  # staff: an admin's reset code; their second factor next
            if done.used == CodeKind.RESET:
                flash(RESET_CODE_USED, "info")
            # How many codes are left, new ones on offer, and "continue" to where they were going.
            return redirect(url_for("recovery.codes", next=safe_next(next_path)))
    return render_template("auth/recover.html", form=form, next_path=next_path)


@bp.route("/account/recovery-codes", methods=["GET", "POST"])
@login_required
@limiter.limit(login_limit, methods=["POST"], deduct_when=failed)
def codes():
    """How many recovery codes are left; new ones for the password. The new codes are in this POST's response
    only (a reload asks to send the form again and then needs the password again)."""
    user = require_page(current_user._get_current_object(), "keep_recovery_codes")
    next_path = safe_path(request.args.get("next"))
    form = NewRecoveryCodesForm()
    if form.validate_on_submit():
        try:
            with committing():
                new_codes = recovery.replace_recovery_codes(user, form.password.data)
        except DomainError as error:
            show_on_form(form, error)
        else:
            return render_template(
                "auth/recovery_codes_new.html",
                codes=new_codes,
                username=user.username,
                continue_url=next_path or url_for("auth.settings"),
                first_time=False,
            )
    return render_template(
        "auth/recovery_codes.html",
        form=form,
        codes_left=recovery.codes_left(user),
        few_codes=recovery.FEW_CODES_LEFT,
        next_path=next_path,
    ), (400 if form.errors else 200)
