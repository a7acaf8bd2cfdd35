"""Error pages: a calm message and an incident id, never a stack trace."""

from __future__ import annotations

import logging
import secrets

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

log = logging.getLogger("supportgroup.errors")


# Refusals that mean "this is not yours": on a URL that names an object by id, a 403 would tell a stranger that
# the object exists where a wrong id gets 404. Both get the same 404 (staff see every group and meeting anyway).
HIDES_EXISTENCE = frozenset({"forbidden", "not_member"})


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json" or request.path.startswith("/api/")


def _names_an_object() -> bool:
    return any(isinstance(value, int) for value in (request.view_args or {}).values())


def _is_staff() -> bool:
    from flask_login import current_user

    from ..permissions import can_manage_groups

    return can_manage_groups(current_user)


def _not_found():
    return _render(404, "not_found", _("This page does not exist."))


def init_error_handlers(app: Flask) -> None:
    from ..errors import DomainError
    from ..extensions import db
    from ..permissions import Denied

    @app.errorhandler(Denied)
    def denied(error: Denied):
        db.session.rollback()
        if error.status == 404 or (
            error.status == 403 and error.code in HIDES_EXISTENCE and _names_an_object() and not _is_staff()
        ):
            return _not_found()  # one answer for "no such id" and "not yours", whatever raised it
        return _render(error.status, error.code, str(error.message))

    @app.errorhandler(DomainError)
    def refused(error: DomainError):
        """A service's refusal that no route showed on a form: its message, not a 500."""
        db.session.rollback()
        return _render(400, error.code, str(error.message))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        db.session.rollback()
        messages = {
            400: _("The request could not be understood."),
            401: _("Please log in first."),
            403: _("You do not have permission to see this page."),
            404: _("This page does not exist."),
            405: _("This action is not possible here."),
            413: _("What you sent is too large."),
            429: _("Too many attempts. Please wait a moment and try again."),
        }
        message = messages.get(error.code or 500, _("Something went wrong."))
        return _render(error.code or 500, error.name.lower().replace(" ", "_"), message)

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        db.session.rollback()
        incident = secrets.token_hex(4)
        # The traceback goes to the log with the incident id (SQL parameters are hidden by the engine
        # option hide_parameters); the person sees only the id.
        log.exception("unhandled error, incident %s, endpoint %s", incident, request.endpoint)
        return _render(500, "internal_error", _("Something went wrong on our side."), incident)


def _render(status: int, code: str, message: str, incident: str | None = None):
    if _wants_json():
        error = {"code": code, "message": message}
        if incident:
            error["incident"] = incident
        return jsonify({"ok": False, "error": error}), status
    return render_template("error.html", status=status, message=message, incident=incident), status
