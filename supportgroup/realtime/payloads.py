"""Parsing socket payloads at the edge: wrong types, missing fields and oversized values stop here.

A tiny schema of our own: each event names its fields; `parse` returns clean values or raises
`PayloadError` with a readable message. Nothing is written before a payload has parsed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from ..errors import DomainError
from ..textcheck import INVALID_CHARACTERS, bad_character, is_blank

CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


class PayloadError(DomainError):
    """A socket payload that does not fit its schema (`invalid_payload`, or a field's own code)."""

    def __init__(self, message: object, code: str = "invalid_payload") -> None:
        super().__init__(code, message)


@dataclass(frozen=True)
class Int:
    required: bool = True
    minimum: int = 0
    maximum: int = 2**31 - 1

    def clean(self, name: str, value: Any) -> int | None:
        if value is None and not self.required:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise PayloadError(_l("The field %(name)s must be a whole number.", name=name))
        if not self.minimum <= value <= self.maximum:
            raise PayloadError(_l("The field %(name)s is out of range.", name=name))
        return value


@dataclass(frozen=True)
class ClientId:
    def clean(self, name: str, value: Any) -> str:
        if not isinstance(value, str) or not CLIENT_ID_RE.fullmatch(value):
            raise PayloadError(_l("The field %(name)s must be 8 to 64 letters, digits, '-' or '_'.", name=name))
        return value


@dataclass(frozen=True)
class Text:
    """Chat text: plain, 1..max characters, no control characters but newline and tab, no lone surrogates or
    noncharacters (`textcheck`). Text that shows nothing (only whitespace or invisible characters) is empty."""

    max_length: int

    def clean(self, name: str, value: Any) -> str:
        if not isinstance(value, str):
            raise PayloadError(_l("The field %(name)s must be text.", name=name))
        text = value.replace("\r\n", "\n").strip()
        if is_blank(text):
            raise PayloadError(_l("The message is empty."), code="empty_message")
        if len(text) > self.max_length:
            raise PayloadError(
                _l("The message is too long (at most %(max)d characters).", max=self.max_length),
                code="message_too_long",
            )
        if bad_character(text, multiline=True) is not None:
            raise invalid_characters(_l("The message contains characters that are not allowed."))
        return text


def invalid_characters(message=INVALID_CHARACTERS) -> PayloadError:
    """A lone surrogate, a noncharacter or a control character (`textcheck.bad_character`)."""
    return PayloadError(message, code="invalid_characters")


def parse(data: Any, fields: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise PayloadError(_l("The request must be an object."))
    unknown = set(data) - set(fields)
    if unknown:
        raise PayloadError(_l("Unknown field: %(name)s.", name=sorted(map(str, unknown))[0]))
    cleaned = {}
    for name, field in fields.items():
        if name not in data and getattr(field, "required", True):
            raise PayloadError(_l("The field %(name)s is missing.", name=name))
        cleaned[name] = field.clean(name, data.get(name))
    return cleaned


@dataclass(frozen=True)
class Bool:
    def clean(self, name: str, value: Any) -> bool:
        if not isinstance(value, bool):
            raise PayloadError(_l("The field %(name)s must be true or false.", name=name))
        return value


@dataclass(frozen=True)
class Reason:
    """A short plain-text reason (for reports, mutes, removals): one line; only invisible characters is none."""

    max_length: int = 300
    required: bool = False

    def clean(self, name: str, value: Any) -> str:
        if value is None and not self.required:
            return ""
        if not isinstance(value, str):
            raise PayloadError(_l("The field %(name)s must be text.", name=name))
        text = value.strip()
        if is_blank(text):
            if self.required:
                raise PayloadError(_l("Please give a reason."), code="reason_required")
            return ""
        if len(text) > self.max_length:
            raise PayloadError(_l("The reason is too long or has characters that are not allowed."))
        if bad_character(text) is not None:
            raise invalid_characters()
        return text


MEMBER_RE = re.compile(r"^[A-Za-z0-9_-]{8,32}$")


@dataclass(frozen=True)
class Member:
    """A membership's public id (as in a Person); `nullable` allows null (e.g. to take back the floor)."""

    required: bool = True
    nullable: bool = False

    def clean(self, name: str, value: Any) -> str | None:
        if value is None and (self.nullable or not self.required):
            return None
        if not isinstance(value, str) or not MEMBER_RE.fullmatch(value):
            raise PayloadError(_l("The field %(name)s must be a member id.", name=name))
        return value
