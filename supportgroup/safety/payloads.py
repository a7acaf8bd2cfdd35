"""Payload fields of the safeguarding socket events (same contract as `realtime/payloads.py`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from ..realtime.payloads import Int, PayloadError, invalid_characters
from ..textcheck import bad_character, is_blank


@dataclass(frozen=True)
class IdList:
    """A list of 1..`max_items` server ids (ints), duplicates ignored."""

    max_items: int = 50

    def clean(self, name: str, value: Any) -> list[int]:
        if not isinstance(value, list) or not 1 <= len(value) <= self.max_items:
            raise PayloadError(
                _l("The field %(name)s must be a list of 1 to %(max)d ids.", name=name, max=self.max_items)
            )
        item = Int(minimum=1)  # required: it returns an int or raises, never None
        return sorted({number for v in value if (number := item.clean(name, v)) is not None})


@dataclass(frozen=True)
class Note:
    """A moderator's note: plain text, 1..`max_length` characters; newlines and tabs allowed."""

    max_length: int = 2000

    def clean(self, name: str, value: Any) -> str:
        if not isinstance(value, str):
            raise PayloadError(_l("The field %(name)s must be text.", name=name))
        text = value.replace("\r\n", "\n").strip()
        if is_blank(text):
            raise PayloadError(_l("Please write a note."), code="note_required")
        if bad_character(text, multiline=True) is not None:
            raise invalid_characters()
        if len(text) > self.max_length:
            raise PayloadError(
                _l(
                    "The note is too long (at most %(max)d characters) or has characters that are not allowed.",
                    max=self.max_length,
                )
            )
        return text
