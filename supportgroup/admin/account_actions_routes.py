"""Changes to one account, each with a required reason and audited: role, disable, enable, a new activation
link, a reset code (admins, from the account page); and the reset-code page coordinators use for participants.

Load, authorize, act in a service (`auth/accounts.py`, `auth/issued_codes.py`), commit once, then take away the
rooms a lost right carried, in every server process (`realtime.rooms.revoke_rooms`; for a disabled account
every socket, its user room too). A refusal is shown on the account page, next to the form it is about.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from ..auth import accounts as account_services
from ..auth import issued_codes
from ..edge import committing
from ..errors import DomainError, show_on_form
from ..extensions import db
from ..models import CodeKind, Role, User
from ..permissions import Denied, require_account_manager, require_page
from ..realtime.rooms import disconnect_user, revoke_rooms
from ..usernames import find_user
from .accounts_routes import account_page, shown_once
from .blueprint import bp, section
from .forms import ReasonForm, ResetCodeForm, RoleForm

section(
    "admin.reset_code",
    _l("Reset code"),
    _l("A participant forgot their password: make a one-time code to give them by phone or in person."),
    "issue_reset_codes",
)


def _load(user_id: int) -> tuple[User, User]:
    admin = require_account_manager(current_user)
    return admin, db.get_or_404(User, user_id)


def _done(account: User, message: str, *, takes_rights: bool):
    if takes_rights:
        revoke_rooms(user_id=account.id)  # after the commit: in every process (a failure is retried, not shown)
    flash(message, "success")
    return redirect(url_for("admin.account", user_id=account.id))


@bp.route("/accounts/<int:user_id>/role", methods=["POST"])
@login_required
def change_role(user_id: int):
    admin, account = _load(user_id)
    form = RoleForm(prefix="role")
    if form.validate_on_submit():
        try:
            with committing():
                sessions_ended = account_services.set_role(
                    admin, account, Role(form.role.data), form.reason.data, first_name=form.first_name.data
                )
        except DomainError as error:
            show_on_form(form, error)
        else:
            if sessions_ended:  # the new role needs a second factor: no socket opened without one goes on
                disconnect_user(account.id)
            return _done(account, _("The role has been changed."), takes_rights=True)
    return account_page(account, 400, role_form=form)


def _set_enabled(user_id: int, enabled: bool):
    admin, account = _load(user_id)
    name = "enable" if enabled else "disable"
    form = ReasonForm(prefix=name)
    if form.validate_on_submit():
        try:
            with committing():
                account_services.set_enabled(admin, account, enabled, form.reason.data)
        except DomainError as error:
            show_on_form(form, error)
        else:
            if enabled:
                return _done(account, _("The account is enabled again."), takes_rights=False)
            return _done(
                account, _("The account is disabled: every session and connection of it has ended."), takes_rights=True
            )
    return account_page(account, 400, **{f"{name}_form": form})


@bp.route("/accounts/<int:user_id>/disable", methods=["POST"])
@login_required
def disable(user_id: int):
    return _set_enabled(user_id, False)


@bp.route("/accounts/<int:user_id>/enable", methods=["POST"])
@login_required
def enable(user_id: int):
    return _set_enabled(user_id, True)


@bp.route("/accounts/<int:user_id>/activation-link", methods=["POST"])
@login_required
def new_activation_link(user_id: int):
    admin, account = _load(user_id)
    form = ReasonForm(prefix="activation")
    if form.validate_on_submit():
        try:
            with committing():
                token, expires_at = issued_codes.issue_activation(admin, account, form.reason.data)
        except DomainError as error:
            show_on_form(form, error)
        else:
            return shown_once(CodeKind.ACTIVATION, account, token, expires_at)
    return account_page(account, 400, activation_form=form)


@bp.route("/accounts/<int:user_id>/reset-code", methods=["POST"])
@login_required
def account_reset_code(user_id: int):
    admin, account = _load(user_id)
    form = ReasonForm(prefix="reset")
    if form.validate_on_submit():
        try:
            with committing():
                code, expires_at = issued_codes.issue_reset_code(admin, account, form.reason.data)
        except DomainError as error:
            show_on_form(form, error)
        else:
            return shown_once(CodeKind.RESET, account, code, expires_at)
    return account_page(account, 400, reset_form=form)


@bp.route("/reset-code", methods=["GET", "POST"])
@login_required
def reset_code():
    """A coordinator gives a participant who forgot their password a reset code (an admin may use it for any
    account). The service refuses a coordinator any account but a participant's."""
    actor = require_page(current_user, "issue_reset_codes")
    form = ResetCodeForm()
    if form.validate_on_submit():
        account = find_user(form.username.data)
        if account is None:
            form.username.errors.append(_("There is no account with this username."))
        else:
            try:
                with committing():
                    code, expires_at = issued_codes.issue_reset_code(actor, account, form.reason.data)
            except Denied as error:
                form.username.errors.append(str(error.message))
            except DomainError as error:
                show_on_form(form, error)
            else:
                return shown_once(CodeKind.RESET, account, code, expires_at)
    return render_template("admin/reset_code.html", form=form), 400 if form.errors else 200
