"""The admin console's forms: finding accounts, creating staff, and each change to an account (with its reason)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..auth.accounts import STAFF_ROLES_TO_CREATE
from ..labels import ROLE_LABELS
from ..models import Role
from ..textcheck import CheckedForm
from .accounts import ACTIVE_FILTERS, STATUS_FILTERS

REASON_MAX = 500


def _reason_field(label=None) -> TextAreaField:
    return TextAreaField(
        label or _l("Reason"),
        validators=[
            DataRequired(message=_l("Please give a reason: it is kept in the audit log.")),
            Length(max=REASON_MAX),
        ],
        description=_l("Kept in the audit log. Write why, not personal details."),
        render_kw={"rows": 2, "maxlength": REASON_MAX},
    )


def _role_choices(roles) -> list[SelectChoice]:
    return [SelectChoice(role.value, ROLE_LABELS[role]) for role in roles]


class AccountSearchForm(CheckedForm):
    """The accounts list's filters, read from the query string (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    q = StringField(_l("Username contains"), validators=[Optional(), Length(max=32)])
    role = SelectField(_l("Role"), choices=[SelectChoice("", _l("Any role")), *_role_choices(Role)], default="")
    status = SelectField(
        _l("Status"),
        choices=[SelectChoice("", _l("Any status")), *(SelectChoice(k, v) for k, v in STATUS_FILTERS.items())],
        default="",
    )
    active = SelectField(
        _l("Last active"),
        choices=[SelectChoice("", _l("Any time")), *(SelectChoice(k, v) for k, v in ACTIVE_FILTERS.items())],
        default="",
    )
    submit = SubmitField(_l("Search"))


class CreateStaffForm(CheckedForm):
    username = StringField(
        _l("Username"),
        validators=[DataRequired(), Length(max=64)],
        description=_l("3 to 32 letters, digits, dots, dashes or underscores. The person logs in with it."),
        render_kw={"autocomplete": "off", "autocapitalize": "none"},
    )
    role = SelectField(_l("Role"), choices=_role_choices(STAFF_ROLES_TO_CREATE))
    first_name = StringField(
        _l("First name (peer experts)"),
        validators=[Optional(), Length(max=40)],
        description=_l("Shown to their groups. Needed for a peer expert; leave empty for other roles."),
    )
    submit = SubmitField(_l("Create account and make activation link"))


class RoleForm(CheckedForm):
    role = SelectField(_l("New role"), choices=_role_choices(Role))
    first_name = StringField(
        _l("First name (when the account becomes a peer expert)"),
        validators=[Optional(), Length(max=40)],
        description=_l("Shown to their groups."),
    )
    reason = _reason_field()
    submit = SubmitField(_l("Change role"))


class ReasonForm(CheckedForm):
    """Disable, enable, a reset code, a new activation link: each needs only the reason."""

    reason = _reason_field()
    submit = SubmitField(_l("Confirm"))


class ResetCodeForm(CheckedForm):
    """A coordinator's (or admin's) way to a participant's reset code: the username and the reason."""

    username = StringField(
        _l("Username"),
        validators=[DataRequired(), Length(max=64)],
        render_kw={"autocomplete": "off", "autocapitalize": "none"},
    )
    reason = _reason_field()
    submit = SubmitField(_l("Make reset code"))
