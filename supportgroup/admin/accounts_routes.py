"""The console's accounts pages (admins): the list, one account, and creating a staff account.

The changes to one account (role, disable, enable, reset code, activation link) post to
`account_actions_routes.py`, which shows their refusals on this module's account page (`account_page`).
"""

from __future__ import annotations

from flask import render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from ..auth import accounts as account_services
from ..auth import issued_codes
from ..auth.two_factor_forms import ResetTwoFactorForm
from ..edge import committing
from ..errors import DomainError, show_on_form
from ..extensions import db
from ..models import CodeKind, Role, User
from ..permissions import may_issue_reset_code, require_account_manager, require_page
from ..two_factor import may_enrol
from .accounts import AccountFilters, list_accounts
from .blueprint import bp, section
from .forms import AccountSearchForm, CreateStaffForm, ReasonForm, RoleForm

section(
    "admin.accounts",
    _l("Accounts"),
    _l("Find an account; create staff accounts; change a role; disable an account; give a reset code."),
    "manage_accounts",
)

CURSOR_MAX = 64


def _cursor(name: str) -> str | None:
    value = request.args.get(name)
    return value[:CURSOR_MAX] if value else None


@bp.route("/accounts")
@login_required
def accounts():
    require_page(current_user, "manage_accounts")
    form = AccountSearchForm(request.args)
    if request.args and not form.validate():
        return render_template("admin/accounts.html", form=form, page=None, filters=AccountFilters()), 400
    filters = AccountFilters(
        q=(form.q.data or "").strip(),
        role=form.role.data or "",
        status=form.status.data or "",
        active=form.active.data or "",
    )
    page = list_accounts(filters, after=_cursor("after"), before=_cursor("before"))
    return render_template("admin/accounts.html", form=form, page=page, filters=filters)


def account_page(account: User, status: int = 200, **forms):
    """The account page, with fresh forms but those given (a refused one keeps its input and errors)."""
    role_form = forms.get("role_form") or RoleForm(prefix="role", formdata=None, role=account.role.value)
    context = {
        "account": account,
        "awaiting_activation": account_services.is_awaiting_activation(account),
        "two_factor": account.totp_enabled_at is not None,
        # A peer expert's first name, which their groups see (never an alias: participants' aliases stay out).
        "shown_first_name": account.profile.first_name
        if account.profile and account.role == Role.PEER_EXPERT
        else None,
        "role_form": role_form,
        # Your own account: no role change, no disabling (the services refuse them too), no reset code.
        "is_self": account.id == current_user.id,
        "may_give_reset_code": may_issue_reset_code(current_user, account),
    }
    for name in ("disable", "enable", "reset", "activation"):
        context[f"{name}_form"] = forms.get(f"{name}_form") or ReasonForm(prefix=name, formdata=None)
    # The second factor's reset (`two_factor_routes.py`); its partial calls its form `reset_form`, which on this page
    # is the reset code's: account.html hands this one over under that name.
    context["two_factor_form"] = forms.get("two_factor_form") or ResetTwoFactorForm(formdata=None)
    context["two_factor_applies"] = may_enrol(account)  # staff: participants never have a second factor
    return render_template("admin/account.html", **context), status


@bp.route("/accounts/<int:user_id>")
@login_required
def account(user_id: int):
    require_page(current_user, "manage_accounts")
    return account_page(db.get_or_404(User, user_id))


def shown_once(kind: CodeKind, account: User, secret: str, expires_at, *, new_account: bool = False):
    """The page that shows an activation link or a reset code, the only time anyone sees it (never stored in
    clear, never in a redirect's URL; the page itself is never cached: `Cache-Control: no-store`)."""
    return render_template(
        "admin/code_shown.html",
        kind=kind.value,
        account=account,
        secret=secret,
        expires_at=expires_at,
        new_account=new_account,
    )


@bp.route("/accounts/new", methods=["GET", "POST"])
@login_required
def create_account():
    admin = require_account_manager(current_user)
    form = CreateStaffForm()
    if form.validate_on_submit():
        try:
            with committing():
                user = account_services.create_staff(
                    admin, form.username.data, Role(form.role.data), form.first_name.data
                )
                token, expires_at = issued_codes.issue_activation(admin, user, "new account")
        except DomainError as error:
            show_on_form(form, error)
        else:
            return shown_once(CodeKind.ACTIVATION, user, token, expires_at, new_account=True)
    return render_template("admin/account_new.html", form=form), 400 if form.errors else 200
