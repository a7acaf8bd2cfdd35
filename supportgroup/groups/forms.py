from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..labels import KIND_LABELS, LANGUAGE_LABELS
from ..textcheck import CheckedForm


def _choices(labels: dict) -> list[SelectChoice]:
    return [SelectChoice(getattr(key, "value", key), label) for key, label in labels.items()]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class GroupForm(CheckedForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    kind = SelectField(_l("Kind"), choices=_choices(KIND_LABELS))
    language = SelectField(_l("Language"), choices=_choices(LANGUAGE_LABELS))
    capacity = IntegerField(_l("Capacity"), default=12, validators=[InputRequired(), NumberRange(min=2, max=50)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])
    house_rules = TextAreaField(
        _l("House rules"),
        validators=[Optional(), Length(max=10000)],
        description=_l(
            "Write them as plain text; the preview below shows them as participants will see them. "
            "When the rules change, members accept them again before their next meeting."
        ),
        render_kw={"rows": 10},
    )
    submit = SubmitField(_l("Create group"))


class GroupSettingsForm(GroupForm):
    waiting_room = BooleanField(_l("Waiting room: participants wait until a peer expert lets them in"))
    premoderation = BooleanField(_l("Pre-moderation: a peer expert approves each message first"))
    open_for_requests = BooleanField(_l("Participants may ask to join from the list of groups"))
    retention_days = IntegerField(
        _l("Keep chat messages for (days)"), default=30, validators=[InputRequired(), NumberRange(min=1, max=365)]
    )
    submit = SubmitField(_l("Save"))


class UsernameForm(CheckedForm):
    """Assigning a peer expert: found by first name or username as the coordinator types."""

    username = StringField(
        _l("Peer expert"),
        validators=[DataRequired(), Length(max=64)],
        description=_l("Type the first 3 letters of their first name or username, then choose."),
        render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"},
    )
    submit = SubmitField(_l("Add"))


class ReferralForm(UsernameForm):
    """Adding a participant: found by username as the coordinator types."""

    username = StringField(
        _l("Username"),
        validators=[DataRequired(), Length(max=64)],
        description=_l("Type the first 3 letters of their username, then choose."),
        render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"},
    )
    organisation = SelectField(_l("Referred by"), coerce=int, default=0)


class InviteForm(CheckedForm):
    expires_at = DateTimeLocalField(_l("Valid until (optional)"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    max_uses = IntegerField(
        _l("How many people may use it (optional)"), validators=[Optional(), NumberRange(min=1, max=500)]
    )
    submit = SubmitField(_l("Make invite code"))


class RedeemForm(CheckedForm):
    code = StringField(
        _l("Invite code"),
        validators=[DataRequired(), Length(max=64)],
        render_kw={"autocomplete": "off", "autocapitalize": "none"},
    )
    submit = SubmitField(_l("Join the group"))


class ReasonForm(CheckedForm):
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=500)])


class LookupForm(CheckedForm):
    alias = StringField(_l("Alias"), validators=[DataRequired(), Length(max=64)])
    reason = StringField(
        _l("Reason for the look-up (written to the audit log)"), validators=[DataRequired(), Length(max=500)]
    )
    submit = SubmitField(_l("Look up"))


class ConflictForm(CheckedForm):
    first = StringField(_l("First username"), validators=[DataRequired(), Length(max=64)])
    second = StringField(_l("Second username"), validators=[DataRequired(), Length(max=64)])
    note = TextAreaField(_l("Note for coordinators"), validators=[Optional(), Length(max=500)])
    submit = SubmitField(_l("Keep these two apart"))


class OrganisationForm(CheckedForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    submit = SubmitField(_l("Add organisation"))


class RenameOrganisationForm(CheckedForm):
    name = StringField(_l("New name"), validators=[DataRequired(), Length(max=120)])
    submit = SubmitField(_l("Rename"))


class ProfileForm(CheckedForm):
    first_name = StringField(_l("First name shown to groups"), validators=[DataRequired(), Length(max=40)])
    story = TextAreaField(_l("Short story shown to your groups"), validators=[Optional(), Length(max=1500)])
    experience_kinds = MultiCheckboxField(_l("Lived experience"), choices=[])
    languages = MultiCheckboxField(_l("Languages"), choices=_choices(LANGUAGE_LABELS))
    trained = BooleanField(_l("Has completed the peer-expert training"))
    trained_on = DateField(_l("Training completed on"), validators=[Optional()])
    submit = SubmitField(_l("Save profile"))
