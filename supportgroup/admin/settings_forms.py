"""The platform settings' forms. The rules themselves live in `admin/settings.py` and `safety/resources.validate`
(one set of rules for the files and the editor); these forms only carry what was typed, so nothing is lost."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, FieldList, Form, FormField, StringField, SubmitField, TextAreaField
from wtforms.validators import Length

from ..safety.resources import MAX_RESOURCES
from ..textcheck import CheckedForm
from .settings import MAX_URL_LENGTH

BLANK_ROWS = 2  # empty helplines under the existing ones, to add new ones without scripts


class QuickExitForm(CheckedForm):
    url = StringField(
        _l("Address of the neutral website"),
        # Only a bound on the input: the service refuses beyond MAX_URL_LENGTH with its own words.
        validators=[Length(max=MAX_URL_LENGTH + 100)],
        description=_l("A full address that starts with https://, on another website (for example a weather site)."),
    )
    submit = SubmitField(_l("Save address"))


class TwoFactorForm(CheckedForm):
    required = BooleanField(_l("Peer experts must sign in with a code from an app as well (two-factor sign-in)"))
    submit = SubmitField(_l("Save"))


def _one_line(value: Any) -> Any:
    """A helpline's description is one paragraph: the line ends a text area sends become spaces."""
    return " ".join(value.split("\n")).replace("\r", "") if isinstance(value, str) else value


class HelplineRow(Form):
    """One helpline (a row of the editor). A row left empty is skipped. No rules here: `resources.validate`
    checks every row (characters, lengths, the phone number) and names the field of each problem."""

    name = StringField(_l("Name"))
    phone = StringField(_l("Phone number"))
    hours = StringField(_l("When it can be reached (optional)"))
    description = TextAreaField(_l("What it is for"), filters=[_one_line], render_kw={"rows": 3})
    emergency = BooleanField(_l("An emergency number (for danger right now, like 112)"))
    remove = BooleanField(_l("Remove this helpline"))

    def is_blank(self) -> bool:
        return not any((field.data or "").strip() for field in (self.name, self.phone, self.hours, self.description))


class CrisisResourcesForm(CheckedForm):
    # No length or character rules here: `resources.validate` has them (CheckedForm adds its character check).
    intro = TextAreaField(_l("Introduction (above the helplines)"), render_kw={"rows": 3})
    what_happens = TextAreaField(_l("What happens when you call"), render_kw={"rows": 3})
    resources = FieldList(FormField(HelplineRow), max_entries=MAX_RESOURCES + BLANK_ROWS)
    submit = SubmitField(_l("Save helplines"))

    def kept_rows(self) -> list[tuple[int, HelplineRow]]:
        """(row index, row) of the helplines to store: neither empty nor marked for removal."""
        return [
            (index, entry.form)
            for index, entry in enumerate(self.resources.entries)
            if not entry.form.is_blank() and not entry.form.remove.data
        ]

    def to_data(self) -> dict[str, Any]:
        """What was typed, in the shape `resources.validate` checks (index i: the i-th kept row)."""
        return {
            "intro": self.intro.data or "",
            "what_happens": self.what_happens.data or "",
            "resources": [
                {
                    "name": row.name.data or "",
                    "phone": row.phone.data or "",
                    "hours": row.hours.data or "",
                    "description": row.description.data or "",
                    "emergency": bool(row.emergency.data),
                }
                for _index, row in self.kept_rows()
            ],
        }

    def summary(self) -> list[tuple[str, str, str]]:
        """(where, field id, message) of every error, in the page's order: the list above a long form, so that
        on a phone nobody has to hunt for the row that was refused."""
        found: list[tuple[str, str, str]] = []
        for field in (self.intro,):
            found += [(str(field.label.text), field.id, str(e)) for e in field.errors]
        for index, entry in enumerate(self.resources.entries):
            for field in entry.form:
                where = f"{_l('Helpline %(number)d', number=index + 1)}, {field.label.text}"
                found += [(where, field.id, str(e)) for e in field.errors]
        for field in (self.what_happens,):
            found += [(str(field.label.text), field.id, str(e)) for e in field.errors]
        return found

    def show_problems(self, problems: list[tuple[str | None, Any]]) -> None:
        """Put each of `resources.validate`'s problems on the field it names (its row, as the admin sees it)."""
        kept = self.kept_rows()
        for field, message in problems:
            parts = (field or "").split("-")
            if len(parts) == 3 and parts[0] == "resources" and parts[1].isdigit() and int(parts[1]) < len(kept):
                target = kept[int(parts[1])][1][parts[2]]
            elif field in ("intro", "what_happens"):
                target = self[field]
            else:
                self.form_errors.append(str(message))
                continue
            if str(message) not in target.errors:
                target.errors = [*target.errors, str(message)]
