"""Which characters a person's text may hold, for socket payloads and web forms alike.

Refused everywhere: control characters (Unicode category Cc) but newline and tab where text may span lines;
lone surrogates (Cs: not characters at all; JSON can carry one as `"\\ud800"`, but neither UTF-8 nor
PostgreSQL can store it, so it used to end as a server error); and the 66 noncharacters (U+FDD0..U+FDEF and
the last two code points of every plane). Private-use and not yet assigned code points pass: new emoji are
unassigned in an older Unicode database.

`is_blank` decides whether text shows *anything*: whitespace, format characters (Cf: zero-width space, joiners,
bidi marks, the BOM...) and the other default-ignorable code points (variation selectors, Hangul fillers, ...)
render as nothing, so a message of only those is empty. Text is never rewritten here: a zero-width joiner
inside an emoji sequence stays where the author put it.
"""

from __future__ import annotations

import re
import unicodedata

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, ValidationError

INVALID_CHARACTERS = _l("The text contains characters that are not allowed.")

# Default_Ignorable_Code_Point (Unicode DerivedCoreProperties) that are not Cf, plus the braille blank.
_INVISIBLE_RANGES = (
    (0x034F, 0x034F),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x2800, 0x2800),
    (0x2065, 0x2065),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0xE0000, 0xE0FFF),
)


def _refused(allowed_controls: str) -> re.Pattern[str]:
    controls = "".join(f"\\x{cp:02x}" for cp in [*range(0x20), *range(0x7F, 0xA0)] if chr(cp) not in allowed_controls)
    nonchars = "".join(f"\\U{plane:04x}fffe-\\U{plane:04x}ffff" for plane in range(17))
    return re.compile(f"[{controls}\\ud800-\\udfff\\ufdd0-\\ufdef{nonchars}]")


_REFUSED = {False: _refused(""), True: _refused("\n\t")}  # one regex pass: `send` checks every message


def bad_character(text: str, multiline: bool = False) -> str | None:
    """The first character that is not allowed in `text`, or None."""
    match = _REFUSED[multiline].search(text)
    return match.group() if match else None


def is_invisible(char: str) -> bool:
    if char.isspace() or unicodedata.category(char) == "Cf":
        return True
    cp = ord(char)
    return any(low <= cp <= high for low, high in _INVISIBLE_RANGES)


def is_blank(text: str) -> bool:
    """Whether `text` shows nothing at all (empty, or only whitespace and invisible characters)."""
    return all(is_invisible(char) for char in text)


class PlainText:
    """WTForms validator: refuse characters `bad_character` refuses (`multiline` for text areas)."""

    def __init__(self, multiline: bool = False, message=None):
        self.multiline = multiline
        self.message = message or INVALID_CHARACTERS

    def __call__(self, form, field) -> None:
        data = field.data
        if isinstance(data, str) and bad_character(data, self.multiline) is not None:
            raise ValidationError(self.message)


class Visible:
    """WTForms validator for a required text: only whitespace or invisible characters counts as empty."""

    def __init__(self, message=None):
        self.message = message

    def __call__(self, form, field) -> None:
        data = field.data
        if isinstance(data, str) and data and is_blank(data):
            raise ValidationError(self.message or _l("This field is required."))


class CheckedForm(FlaskForm):
    """A form whose every text field is checked, so no form can forget it (all our forms derive from this).

    Text areas may span lines (newline and tab pass; the CRLF that browsers send for a text area's line ends
    becomes a newline first, HTML's own rule), other text fields may not; a required text field that
    shows nothing (only invisible characters) gets its "required" message. Passwords are left alone: they are
    never shown or stored, only hashed, and a refused character could lock someone out of their account.
    Werkzeug decodes form bodies with `errors="replace"`, so broken UTF-8 arrives as U+FFFD, which is allowed.
    """

    def validate(self, extra_validators=None) -> bool:
        extra = {name: list(validators) for name, validators in (extra_validators or {}).items()}
        for name, field in self._fields.items():
            if not isinstance(field, StringField) or isinstance(field, PasswordField):
                continue
            multiline = isinstance(field, TextAreaField)
            if multiline and isinstance(field.data, str):
                field.data = field.data.replace("\r\n", "\n")
            checks: list[PlainText | Visible] = [PlainText(multiline=multiline)]
            required = next((v for v in field.validators if isinstance(v, (DataRequired, InputRequired))), None)
            if required is not None:
                checks.append(Visible(required.message))
            extra[name] = [*extra.get(name, ()), *checks]
        return super().validate(extra)
