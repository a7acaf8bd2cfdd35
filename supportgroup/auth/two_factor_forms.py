"""Forms of two-factor sign-in: a code (the second step, enrolment, new backup codes, turning it off) and an
admin's reset with its reason."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from ..textcheck import CheckedForm

_APP_CODE = {"autocomplete": "one-time-code", "inputmode": "numeric", "autocapitalize": "none", "spellcheck": "false"}


class SecondStepForm(CheckedForm):
    """The second step of logging in: the app's code or one backup code (letters and digits)."""

    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=64)],
        description=_l("The 6-digit code from your authenticator app, or one of your backup codes."),
        render_kw={"autocomplete": "one-time-code", "autocapitalize": "none", "spellcheck": "false"},
    )
    submit = SubmitField(_l("Continue"))


class AppCodeForm(CheckedForm):
    """A current code from the authenticator app (enrolment, new backup codes)."""

    code = StringField(
        _l("6-digit code from the app"), validators=[DataRequired(), Length(max=16)], render_kw=_APP_CODE
    )
    submit = SubmitField(_l("Confirm"))


class TurnOffForm(CheckedForm):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=64)],
        description=_l("A code from your authenticator app, or one of your backup codes."),
        render_kw={"autocomplete": "one-time-code", "autocapitalize": "none", "spellcheck": "false"},
    )
    submit = SubmitField(_l("Turn off two-factor sign-in"))


class ResetTwoFactorForm(CheckedForm):
    reason = TextAreaField(
        _l("Reason"),
        validators=[DataRequired(), Length(max=500)],
        description=_l("For the audit log: how the person asked, and how you knew it was them."),
        render_kw={"rows": 3},
    )
    submit = SubmitField(_l("Reset two-factor sign-in"))
