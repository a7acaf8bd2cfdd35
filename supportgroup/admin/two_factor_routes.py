"""An admin resets a lost second factor: the secret and the backup codes are cleared, every session and socket of
the account ends, the audit log keeps the admin's reason; the person enrols again at the next login.

`templates/admin/_two_factor_reset.html` is the status and the form (context: `account`, the User); the
accounts pages include it, and `admin.two_factor` is a small page of its own with it.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..auth import codes, totp
from ..auth.routes import safe_path
from ..auth.two_factor_forms import ResetTwoFactorForm
from ..edge import committing
from ..errors import DomainError, show_on_form
from ..extensions import db
from ..models import CodeKind, User
from ..permissions import require_page
from ..realtime.rooms import disconnect_user
from ..two_factor import is_enrolled, required_by_role
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


def _page(account: User, form: ResetTwoFactorForm, status: int = 200):
    return render_template("admin/two_factor.html", account=account, reset_form=form), status


@bp.route("/accounts/<int:user_id>/two-factor")
@login_required
def two_factor(user_id: int):
    account = db.get_or_404(User, user_id)
    require_page(current_user, "manage_accounts")
    return _page(account, two_factor_reset_form())


@bp.route("/accounts/<int:user_id>/two-factor/reset", methods=["POST"])
@login_required
def reset_two_factor(user_id: int):
    account = db.get_or_404(User, user_id)
    admin = require_page(current_user, "manage_accounts")
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
            back = safe_path(request.form.get("next"))
            return redirect(back or url_for("admin.two_factor", user_id=account.id))
    return _page(account, form, status=400)
