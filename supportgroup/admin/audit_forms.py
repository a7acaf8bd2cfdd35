"""The audit log's filter: a GET form (no CSRF token: it changes nothing, and its address can be shared)."""

from __future__ import annotations

import re
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from ..audit_labels import action_groups
from ..labels import label
from ..models import User
from ..models.audit import AuditAction
from ..textcheck import CheckedForm
from ..usernames import find_user
from .audit_log import AuditFilter, group_choices

# An erased account's pseudonym (32 hex characters) or the first 8 or more of it, as the page shows it.
PSEUDONYM = re.compile(r"[0-9a-f]{8,32}")
FIRST_YEAR, LAST_YEAR = 2000, 2999


def _within_reach(day: date | None) -> None:
    """A day the log could hold: far-off years (0001, 9999) cannot even be turned into UTC."""
    if day is not None and not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValidationError(_("Choose a date between %(first)d and %(last)d.", first=FIRST_YEAR, last=LAST_YEAR))


class AuditFilterForm(CheckedForm):
    class Meta:
        csrf = False

    group = SelectField(_l("Group"), coerce=int, default=0)
    actor = StringField(_l("Who (username)"), validators=[Optional(), Length(max=64)])
    action = SelectField(_l("What"), default="")
    since = DateField(_l("From"), validators=[Optional()])
    until = DateField(_l("Until"), validators=[Optional()])

    def fill_choices(self) -> None:
        """The groups (one query) and the actions, grouped, in the reader's language."""
        self.group.choices = [(0, _("All groups"))] + [
            (gid, _("%(name)s (archived)", name=name) if archived else name) for gid, name, archived in group_choices()
        ]
        groups: dict[str | None, list[tuple[str, str]]] = {None: [("", _("All actions"))]}
        for title, actions in action_groups():
            groups[str(title)] = [(action.value, str(label(action))) for action in actions]
        self.action.choices = groups

    def validate_since(self, field) -> None:
        _within_reach(field.data)

    def validate_until(self, field) -> None:
        _within_reach(field.data)
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(_("The end date is before the start date."))

    def to_filter(self, zone: str) -> AuditFilter | None:
        """The filter, or None with an error on the field when the named account does not exist."""
        actor: User | None = None
        pseudonym: str | None = None
        name = (self.actor.data or "").strip()
        if name:
            actor = find_user(name)
            if actor is None and PSEUDONYM.fullmatch(name.lower()):
                pseudonym = name.lower()
            elif actor is None:
                self.actor.errors = [*self.actor.errors, _("There is no account with this username.")]
                return None
        return AuditFilter(
            group_id=self.group.data or None,
            actor=actor,
            actor_pseudonym=pseudonym,
            action=AuditAction(self.action.data) if self.action.data else None,
            since=self.since.data,
            until=self.until.data,
            zone=zone,
        )
