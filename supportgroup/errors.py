"""The one error a service raises when a rule of the domain refuses an action.

`code` is stable and machine-readable (sockets send it in the error ack, see docs/protocol.md); `message` is
for people (a lazy translation, so it is rendered in the reader's language); `field` optionally names the
form field the refusal is about. A service may only name a field that every form showing the refusal has;
the route maps any other name (`show_on_form(..., rename=...)`) and a field the form lacks is shown above
the form instead, never a 500.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import flash
from wtforms import Form


class DomainError(Exception):
    """A domain rule refused the action; nothing it did may be kept (the edge rolls back)."""

    def __init__(self, code: str, message: Any, field: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.message = message
        self.field = field

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, field={self.field!r})"


def show_on_form(
    form: Form, error: DomainError, *, rename: Mapping[str, str] | None = None, above_form: bool = False
) -> None:
    """Show a refusal next to the field it names (after `rename`), or as a form-level error.

    A form-level error goes into `form.form_errors` when the page shows those above the form (`above_form`),
    else it is flashed (every page shows flashed messages). Either way `form.errors` is no longer empty.
    """
    message = str(error.message)
    name = (rename or {}).get(error.field or "", error.field)
    if name and name in form:
        field = form[name]
        field.errors = [*field.errors, message]  # a tuple until the form was validated
        return
    if not above_form:
        flash(message, "error")
    form.form_errors.append(message)
