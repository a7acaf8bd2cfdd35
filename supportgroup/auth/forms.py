from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField, SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length

from ..textcheck import CheckedForm


class LoginForm(CheckedForm):
    username = StringField(
        _l("Username"),
        validators=[DataRequired(), Length(max=64)],
        render_kw={"autocomplete": "username", "autocapitalize": "none"},
    )
    password = PasswordField(
        _l("Password"), validators=[DataRequired(), Length(max=256)], render_kw={"autocomplete": "current-password"}
    )
    remember = BooleanField(_l("Keep me logged in on this device (only on a device no one else uses)"), default=False)
    submit = SubmitField(_l("Log in"))


class RegisterForm(CheckedForm):
    username = StringField(
        _l("Username"),
        validators=[DataRequired(), Length(max=64)],
        description=_l("Choose a name that does not show who you are: not your real name."),
        render_kw={"autocomplete": "username", "autocapitalize": "none"},
    )
    # The rules for usernames and passwords live in auth.services; the forms only bound the size.
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(max=256)],
        description=_l("At least 10 characters."),
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords do not match."))],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Create account"))


class ChangePasswordForm(CheckedForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(), Length(max=256)],
        render_kw={"autocomplete": "current-password"},
    )
    password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(max=256)], render_kw={"autocomplete": "new-password"}
    )
    confirm = PasswordField(
        _l("Repeat new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords do not match."))],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Change password"))


class LogoutForm(CheckedForm):
    submit = SubmitField(_l("Log out"))


class SettingsForm(CheckedForm):
    # Choices are the zone list (`zone_choices.timezone_choices`), set by the route for the account's zone.
    timezone = SelectField(
        _l("Your timezone"),
        validators=[DataRequired(), Length(max=64)],
        description=_l("Meeting times are shown in this timezone. In the Netherlands, choose the first one."),
        invalid_choice_message=_l("Unknown timezone. Choose one from the list."),
    )
    locale = SelectField(
        _l("Language"),
        choices=[
            SelectChoice("", _l("As my browser says")),
            SelectChoice("nl", "Nederlands"),
            SelectChoice("en", "English"),
        ],
    )
    submit = SubmitField(_l("Save"))


class EraseAccountForm(CheckedForm):
    password = PasswordField(
        _l("Your password"),
        validators=[DataRequired(), Length(max=256)],
        render_kw={"autocomplete": "current-password"},
    )
    confirm = BooleanField(
        _l("I understand that my account, my messages and my places in groups are deleted for good."),
        validators=[DataRequired(message=_l("Please tick the box to confirm."))],
    )
    submit = SubmitField(_l("Delete my account"))


class RecoverForm(CheckedForm):
    """ "Forgot password?": a username, a recovery code or a reset code, and a new password."""

    username = StringField(
        _l("Username"),
        validators=[DataRequired(), Length(max=64)],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    code = StringField(
        _l("Recovery code or reset code"),
        validators=[DataRequired(), Length(max=64)],
        description=_l("Twelve letters and digits, like ABCD-EFGH-2345. Dashes, spaces and small letters are fine."),
        render_kw={"autocomplete": "one-time-code", "autocapitalize": "characters", "spellcheck": "false"},
    )
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(max=256)],
        description=_l("At least 10 characters."),
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords do not match."))],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Set new password"))


class NewRecoveryCodesForm(CheckedForm):
    password = PasswordField(
        _l("Your password"),
        validators=[DataRequired(), Length(max=256)],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("Make new codes"))
