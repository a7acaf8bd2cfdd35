"""Two-factor sign-in's pages: the second step of logging in, enrolment, and the account's own page for it
(status, new backup codes, turning an optional second factor off).

Logging in (`auth/routes.login`) checks the password, logs the account in and, when a second factor applies,
sends the person here (`begin_second_step`); until a correct code the session reaches nothing else of the account
(`two_factor_gate.py`, and `realtime/connection.py` for sockets). Every wrong code counts against two shared
limits, per account and per address (`TWO_FACTOR_RATE_LIMIT`): only refusals count.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, login_user
from werkzeug.wrappers import Response

from ..edge import committing
from ..errors import DomainError, show_on_form
from ..extensions import limiter
from ..models import CodeKind, User
from ..permissions import Denied
from ..ratelimit_keys import account_key, client_key
from ..two_factor import (
    forget_passed,
    is_enrolled,
    mark_passed,
    may_enrol,
    may_turn_off,
    required_by_role,
    second_factor_due,
    two_factor_required,
)
from . import codes, totp
from .idle import mark_active
from .two_factor_forms import AppCodeForm, SecondStepForm, TurnOffForm

bp = Blueprint("two_factor", __name__)

NEXT_KEY = "_2fa_next"  # where to go once the code is given (a path on this site)
REMEMBER_KEY = "_2fa_remember"  # "Keep me logged in" was ticked: the remember cookie waits for the code


def _limit() -> str:
    return current_app.config["TWO_FACTOR_RATE_LIMIT"]


def _refused(_response) -> bool:
    return bool(g.get("two_factor_code_refused"))


def counts_wrong_codes(view):
    """Wrong codes on any of these pages count together, per account and per address."""
    view = limiter.shared_limit(_limit, "two-factor-account", key_func=account_key, deduct_when=_refused)(view)
    return limiter.shared_limit(_limit, "two-factor-address", key_func=client_key, deduct_when=_refused)(view)


def _show_refusal(form, error: DomainError) -> None:
    if error.code == "wrong_code":
        g.two_factor_code_refused = True
    show_on_form(form, error)


def begin_second_step(user: User, next_url: str, remember: bool) -> Response | None:
    """After a correct password: where the second factor is asked (enrolment first if there is none yet), or
    None when this account signs in with the password alone. Keeps `next` and "Keep me logged in" for later."""
    if not two_factor_required(user):
        return None
    session[NEXT_KEY] = next_url
    session[REMEMBER_KEY] = remember
    return redirect(url_for("two_factor.verify" if is_enrolled(user) else "two_factor.setup"))


def _passed(user: User) -> None:
    """A correct code: the session counts as signed in now, and only now gets the remember cookie if asked. Marked
    passed before `login_user`, whose signal then stamps the account active (`last_active.py`): the login is
    complete now."""
    mark_passed(user)
    with committing():
        login_user(user, remember=bool(session.pop(REMEMBER_KEY, False)))
    mark_active()


def _staff_user() -> User:
    user = current_user._get_current_object()
    if not may_enrol(user):
        raise Denied("forbidden", _("Two-factor sign-in is for staff accounts."))
    return user


@bp.route("/login/code", methods=["GET", "POST"])
@counts_wrong_codes
def verify():
    """The second step of logging in: a code from the app or a backup code."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    user = current_user._get_current_object()
    if not second_factor_due(user):
        return redirect(session.pop(NEXT_KEY, None) or url_for("home.dashboard"))
    if not is_enrolled(user):
        return redirect(url_for("two_factor.setup"))
    form = SecondStepForm()
    if form.validate_on_submit():
        with committing():
            kind = totp.verify(user, form.code.data)
            left = codes.remaining(user, CodeKind.BACKUP) if kind == "backup" else 0
        if kind is None:
            _show_refusal(form, totp.wrong_code())
        else:
            _passed(user)
            if kind == "backup":
                flash(_backup_codes_left(left), "warning" if left <= 3 else "info")
            return redirect(session.pop(NEXT_KEY, None) or url_for("home.dashboard"))
    return render_template("auth/two_factor.html", form=form), 400 if form.errors else 200


def _backup_codes_left(left: int) -> str:
    if left == 0:
        return _("You used your last backup code. Make new ones in Settings, Two-factor sign-in.")
    return ngettext(
        "You used a backup code. %(num)d backup code is left.",
        "You used a backup code. %(num)d backup codes are left.",
        left,
    )


@bp.route("/account/two-factor/setup", methods=["GET", "POST"])
@login_required
@counts_wrong_codes
def setup():
    """Enrolment: the QR code and the secret as text, confirmed with the app's first code; then the backup codes,
    shown once. At the first login after it is required, or on demand from the settings."""
    user = _staff_user()
    if is_enrolled(user):
        return redirect(url_for("two_factor.manage"))
    form = AppCodeForm()
    if form.validate_on_submit():
        try:
            with committing():
                backup = totp.confirm_enrolment(user, form.code.data)
        except DomainError as error:
            _show_refusal(form, error)
        else:
            _passed(user)
            return render_template(
                "auth/two_factor_backup_codes.html",
                codes=backup,
                first_time=True,
                continue_url=session.pop(NEXT_KEY, None) or url_for("two_factor.manage"),
            )
    with committing():
        secret = totp.start_enrolment(user)
    uri = totp.provisioning_uri(user, secret)
    return render_template(
        "auth/two_factor_setup.html",
        form=form,
        qr=totp.qr_svg(uri, _("QR code to scan with your authenticator app")),
        uri=uri,
        secret=totp.grouped(secret),
        required=required_by_role(user),
    ), 400 if form.errors else 200


def _manage_page(backup_form: AppCodeForm | None = None, off_form: TurnOffForm | None = None, status: int = 200):
    user = _staff_user()
    return render_template(
        "auth/two_factor_manage.html",
        enrolled=is_enrolled(user),
        enabled_at=user.totp_enabled_at,
        backup_left=codes.remaining(user, CodeKind.BACKUP),
        may_turn_off=may_turn_off(user),
        backup_form=backup_form or AppCodeForm(prefix="backup"),
        off_form=off_form or TurnOffForm(prefix="off"),
    ), status


@bp.route("/account/two-factor")
@login_required
def manage():
    return _manage_page()


@bp.route("/account/two-factor/backup-codes", methods=["POST"])
@login_required
@counts_wrong_codes
def new_backup_codes():
    """Ten new backup codes for a current code from the app; the old ones stop working."""
    user = _staff_user()
    form = AppCodeForm(prefix="backup")
    if form.validate_on_submit():
        try:
            with committing():
                backup = totp.new_backup_codes(user, form.code.data)
        except DomainError as error:
            _show_refusal(form, error)
        else:
            return render_template(
                "auth/two_factor_backup_codes.html",
                codes=backup,
                first_time=False,
                continue_url=url_for("two_factor.manage"),
            )
    return _manage_page(backup_form=form, status=400)


@bp.route("/account/two-factor/off", methods=["POST"])
@login_required
@counts_wrong_codes
def turn_off():
    """A peer expert who chose a second factor turns it off, with a code."""
    user = _staff_user()
    form = TurnOffForm(prefix="off")
    if form.validate_on_submit():
        try:
            with committing():
                totp.turn_off(user, form.code.data)
        except DomainError as error:
            _show_refusal(form, error)
        else:
            forget_passed()
            flash(_("Two-factor sign-in is off. You log in with your password alone."), "success")
            return redirect(url_for("two_factor.manage"))
    return _manage_page(off_form=form, status=400)
