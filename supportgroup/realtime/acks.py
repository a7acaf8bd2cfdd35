"""The acknowledgements every socket event answers with: `{"ok": true, ...}` or an error (docs/protocol.md)."""

from __future__ import annotations

import logging

from flask_babel import lazy_gettext as _l

from ..extensions import db
from .unavailable import outage

log = logging.getLogger("supportgroup.chat")

# Used when even the translation of an error fails: an error acknowledgement must always go out.
_PLAIN_ENGLISH = "Something went wrong on our side. Please try again."


def error_ack(code: str, message: object, **extra: object) -> dict:
    """`{"ok": false, "error": ...}`. Never needs the database: a socket's language was chosen at connect and
    is kept in its session (`i18n.select_locale`); if the message still cannot be rendered, plain English."""
    try:
        text = str(message)
    except Exception:
        text = _PLAIN_ENGLISH
    return {"ok": False, "error": {"code": code, "message": text, **extra}}


def rollback_quietly() -> None:
    """Roll back; when the database is gone the rollback fails too, and the error ack must still go out."""
    try:
        db.session.rollback()
    except Exception:
        try:
            db.session.close()  # gives the broken connection back (invalidated)
        except Exception:
            pass


def failure_ack(name: str, error: Exception) -> dict:
    """The ack for an unexpected failure: `unavailable` when the database or Redis cannot be reached (one log
    line, no traceback: an outage would write one per event), else `internal_error` with the traceback."""
    if outage(error):
        log.warning("socket event %s failed: %s unreachable (%s)", name, outage(error), type(error).__name__)
        return error_ack("unavailable", _l("The service is unavailable for a moment. Please try again."))
    log.exception("socket event %s failed", name)
    return error_ack("internal_error", _l("Something went wrong on our side. Please try again."))


def rate_limited_ack() -> dict:
    return error_ack("rate_limited", _l("You are sending too fast. Please wait a moment."))
