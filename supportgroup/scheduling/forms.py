"""Forms for planning, changing and cancelling meetings, and for the personal calendar feed."""

from __future__ import annotations

from datetime import date, timedelta

from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from ..textcheck import CheckedForm
from . import changes, meetings, series, zones
from .zone_choices import timezone_choices

ONCE = "once"


def _choices(pairs: list[tuple]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


REPEAT_CHOICES = [
    (ONCE, _l("Once")),
    (series.WEEKLY, _l("Every week or every few weeks")),
    (series.MONTHLY, _l("Monthly, on a weekday of the month")),
]
WEEKDAY_CHOICES = [
    (0, _l("Monday")),
    (1, _l("Tuesday")),
    (2, _l("Wednesday")),
    (3, _l("Thursday")),
    (4, _l("Friday")),
    (5, _l("Saturday")),
    (6, _l("Sunday")),
]
SAME_DAY = ""  # the weekday left to the first date (the server takes the date's weekday)
WEEK_OF_MONTH_CHOICES = [(1, _l("first")), (2, _l("second")), (3, _l("third")), (4, _l("fourth")), (-1, _l("last"))]
SCOPE_CHOICES = [
    (changes.SCOPE_THIS, _l("Only this meeting")),
    (changes.SCOPE_FOLLOWING, _l("This meeting and the following meetings of the series")),
]
# The recurrence fields that matter for each choice of "Repeats"; the others are ignored.
RELEVANT = {
    ONCE: (),
    series.WEEKLY: ("interval", "weekday", "until", "count"),
    series.MONTHLY: ("interval", "weekday", "week_of_month", "until", "count"),
}
RECURRENCE_FIELDS = ("interval", "weekday", "week_of_month", "until", "count")
DATE_MESSAGE = _l("Enter a date, for example 2026-12-03.")
TIME_MESSAGE = _l("Enter a time, for example 19:30.")


def _optional_weekday(value: object) -> int | None:
    """The weekday select's value: an int 0-6 (checked against the choices), or None for "the date's day"."""
    if value is None or value == SAME_DAY:
        return None
    return int(str(value))


def _day_name(day: date) -> str:
    """The weekday's name as it reads in a sentence ("Friday", "vrijdag")."""
    return format_date(day, "EEEE")


def _known_timezone(form, field) -> None:
    if (field.data or "").strip() not in zones.known_timezones():
        raise ValidationError(_l("Unknown timezone. Use a name such as Europe/Amsterdam."))


class _MeetingFields(CheckedForm):
    title = StringField(_l("Title"), validators=[Optional(), Length(max=120)])
    starts_on = DateField(_l("Date"), validators=[InputRequired()], invalid_value_message=DATE_MESSAGE)
    local_start = TimeField(_l("Start time (local)"), validators=[InputRequired()], invalid_value_message=TIME_MESSAGE)
    duration_minutes = IntegerField(
        _l("Duration in minutes"),
        default=90,
        validators=[
            InputRequired(),
            NumberRange(
                min=meetings.MIN_DURATION,
                max=meetings.MAX_DURATION,
                message=_l("A meeting lasts between 15 minutes and 8 hours."),
            ),
        ],
    )
    # A list, not typed (`zone_choices`); the meeting's own zone stays offered when editing it (`offer_zones`).
    timezone = SelectField(
        _l("Timezone"),
        default="Europe/Amsterdam",
        description=_l("The zone the time is in. In the Netherlands, choose the first one."),
        validators=[DataRequired(), _known_timezone],
        invalid_choice_message=_l("Unknown timezone. Choose one from the list."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.offer_zones(self.timezone.data)

    def offer_zones(self, current: str | None) -> None:
        self.timezone.choices = timezone_choices(current)


class NewMeetingForm(_MeetingFields):
    """One form for a one-off meeting or a recurring series."""

    repeat = RadioField(_l("Repeats"), choices=_choices(REPEAT_CHOICES), default=ONCE)
    interval = IntegerField(
        _l("Every how many weeks or months"),
        default=1,
        validators=[
            InputRequired(),
            NumberRange(min=1, max=series.MAX_INTERVAL, message=_l("Repeat every 1 to 12 weeks or months.")),
        ],
    )
    weekday = SelectField(
        _l("Day of the week"),
        choices=[SelectChoice(SAME_DAY, _l("The day of the date above")), *_choices(WEEKDAY_CHOICES)],
        coerce=_optional_weekday,
        default=None,
    )
    week_of_month = SelectField(
        _l("Week of the month (monthly)"), choices=_choices(WEEK_OF_MONTH_CHOICES), coerce=int, default=1
    )
    until = DateField(_l("Last date (optional)"), validators=[Optional()], invalid_value_message=DATE_MESSAGE)
    count = IntegerField(
        _l("Or: number of meetings (optional)"),
        description=_l("Without an end, meetings are planned 26 weeks ahead."),
        validators=[
            Optional(),
            NumberRange(min=1, max=series.MAX_COUNT, message=_l("A series has between 1 and 52 meetings.")),
        ],
    )
    submit = SubmitField(_l("Plan"))

    def validate(self, extra_validators=None) -> bool:
        """Validate everything, then forget errors of recurrence fields that do not apply to the choice."""
        super().validate(extra_validators)
        relevant = RELEVANT.get(self.repeat.data, ())
        for name in RECURRENCE_FIELDS:
            if name not in relevant:
                self[name].errors = []
        self._check_first_weekday()
        return not any(field.errors for field in self)

    def _check_first_weekday(self) -> None:
        """A weekly series starts on its weekday: a first date on another day is refused on the date field
        (the form keeps everything typed). A monthly one starts on the first matching day from the date on."""
        first, chosen = self.starts_on.data, self.weekday.data
        if self.repeat.data != series.WEEKLY or first is None or chosen is None or self.weekday.errors:
            return
        if first.weekday() != chosen:
            message = _l(
                "%(date)s is a %(day)s, not a %(chosen)s. Choose a %(chosen)s as the first date, "
                "or set the day of the week to %(day)s.",
                date=format_date(first, "d MMMM y"),
                day=_day_name(first),
                chosen=_day_name(first + timedelta(days=(chosen - first.weekday()) % 7)),
            )
            self.starts_on.errors = [*self.starts_on.errors, message]

    def chosen_weekday(self) -> int:
        """The series' weekday: the one chosen, else the first date's."""
        return self.starts_on.data.weekday() if self.weekday.data is None else self.weekday.data

    def validate_until(self, field) -> None:
        if field.data and self.starts_on.data and field.data < self.starts_on.data:
            raise ValidationError(_l("The end date lies before the start."))


class EditMeetingForm(_MeetingFields):
    scope = RadioField(_l("Change"), choices=_choices(SCOPE_CHOICES), default=changes.SCOPE_THIS)
    submit = SubmitField(_l("Save changes"))


class CancelMeetingForm(CheckedForm):
    reason = TextAreaField(
        _l("Reason (members will see this)"),
        validators=[DataRequired(message=_l("Tell the members why the meeting is cancelled.")), Length(max=300)],
    )
    scope = RadioField(_l("Cancel"), choices=_choices(SCOPE_CHOICES), default=changes.SCOPE_THIS)
    submit = SubmitField(_l("Cancel meeting"))


class FeedForm(CheckedForm):
    enable = SubmitField(_l("Turn on my calendar feed"))
    renew = SubmitField(_l("Make a new address (the old one stops working)"))
    disable = SubmitField(_l("Turn off my calendar feed"))


class FeedAlarmForm(CheckedForm):
    """The reminder in calendar files (the values are `feeds.ALARM_MINUTES`, "" for none)."""

    alarm = SelectField(
        _l("Remind me"),
        choices=[
            SelectChoice("", _l("No reminder")),
            SelectChoice("15", _l("15 minutes before")),
            SelectChoice("60", _l("1 hour before")),
            SelectChoice("1440", _l("1 day before")),
        ],
        description=_l("Your calendar app reminds you of each meeting, under the same neutral name."),
    )
    save = SubmitField(_l("Save reminder"))
