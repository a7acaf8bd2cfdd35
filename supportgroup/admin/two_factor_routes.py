"""An admin resets a lost second factor: the secret and the backup codes are cleared, every session and socket of
the account ends, the audit log keeps the admin's reason; the person enrols again at the next login.

The account page (`admin/account.html`, `accounts_routes.account_page`) shows the status and the form
(`templates/admin/_two_factor_reset.html`, context: `account` and `reset_form`), never on your own account (the
service refuses that too). After a reset, and with a refusal, the admin is on the account page.
"""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..auth import codes, totp
from ..auth.two_factor_forms import ResetTwoFactorForm
from ..edge import committing
from ..errors import DomainError, show_on_form
from ..extensions import db
from ..models import CodeKind, User
from ..permissions import require_page
from ..realtime.rooms import disconnect_user
from ..two_factor import is_enrolled, required_by_role
from .accounts_routes import account_page
from .blueprint import bp


@bp.app_template_global()
def two_factor_status(account: User) -> dict:
    """What the partial shows of an account's second factor (never the secret)."""
    return {
        "enrolled": is_enrolled(account),
        "enrolling": account.totp_secret is not None and not is_enrolled(account),
        "enabled_at": account.totp_enabled_at,
        "backup_left": codes.remaining(account, CodeKind.BACKUP),
        "required": required_by_role(account),
    }


@bp.app_template_global()
def two_factor_reset_form() -> ResetTwoFactorForm:
    """The reset form for a page that includes the partial without one (a failed reset brings its own)."""
    return ResetTwoFactorForm()


@bp.route("/accounts/<int:user_id>/two-factor/reset", methods=["POST"])
@login_required
def reset_two_factor(user_id: int):
    admin = require_page(current_user, "manage_accounts")  # before the load: nobody else learns which ids exist
    account = db.get_or_404(User, user_id)
    form = ResetTwoFactorForm()
    if form.validate_on_submit():
        try:
            with committing():
                totp.reset(admin, account, form.reason.data)
        except DomainError as error:
            show_on_form(form, error)  # flashed: the form may be gone (nothing left to reset)
        else:
            disconnect_user(account.id)
            flash(_("Two-factor sign-in is reset. The person sets it up again at the next login."), "success")
            return redirect(url_for("admin.account", user_id=account.id))
    return account_page(account, 400, two_factor_form=form)
