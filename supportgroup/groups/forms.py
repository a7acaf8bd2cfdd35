from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (DateTimeLocalField, IntegerField, SelectChoice, SelectField, StringField, SubmitField,
                     TextAreaField)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..models import GroupKind

KIND_LABELS = {
    GroupKind.SURVIVORS: _l("Survivors"),
    GroupKind.PERPETRATORS: _l("Perpetrators"),
    GroupKind.MIXED: _l("Mixed"),
    GroupKind.OTHER: _l("Other"),
}
LANGUAGE_LABELS = {"nl": _l("Dutch"), "en": _l("English")}


class GroupForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k.value, label) for k, label in KIND_LABELS.items()])
    language = SelectField(_l("Language"), choices=[SelectChoice(code, label) for code, label in LANGUAGE_LABELS.items()])
    capacity = IntegerField(_l("Capacity"), default=12, validators=[DataRequired(), NumberRange(min=2, max=50)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("Create group"))


class UsernameForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    submit = SubmitField(_l("Add"))


class MeetingForm(FlaskForm):
    title = StringField(_l("Title"), validators=[Optional(), Length(max=120)])
    starts_at = DateTimeLocalField(
        _l("Start (local time)"), format="%Y-%m-%dT%H:%M", validators=[InputRequired()],
        invalid_value_message=_l("Enter a date and a time, for example 2026-12-03 19:30."),
    )
    duration_minutes = IntegerField(_l("Duration in minutes"), default=90,
                                    validators=[DataRequired(), NumberRange(min=15, max=480)])
    timezone = StringField(_l("Timezone"), default="Europe/Amsterdam", validators=[DataRequired(), Length(max=64)])
    submit = SubmitField(_l("Plan meeting"))
