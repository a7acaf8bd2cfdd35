"""Language choice: the user's own setting, else the browser's Accept-Language, else English.

A socket chooses once, at connect, and keeps the choice for its events (no database read per message).

A visitor can switch with `?lang=nl` (kept in the session) on any page.
"""

from __future__ import annotations

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import Babel, get_locale
from flask_login import current_user

# Socket-session key: the language a socket chose at connect (realtime/connection.py `on_connect`).
SOCKET_LOCALE_KEY = "sg_locale"


def select_locale() -> str:
    supported = current_app.config["LANGUAGES"]
    if not has_request_context():  # the CLI and background jobs
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if getattr(request, "sid", None) is not None and session.get(SOCKET_LOCALE_KEY) in supported:
        # A socket event: the language chosen at connect, so that no message (an error ack during a
        # database outage above all) needs to load the user.
        return session[SOCKET_LOCALE_KEY]
    requested = request.args.get("lang")
    if requested is not None and requested in supported:
        session["lang"] = requested
        return requested
    if session.get("lang") in supported:
        return session["lang"]
    if current_user and current_user.is_authenticated and current_user.locale in supported:
        return current_user.locale
    return request.accept_languages.best_match(supported) or current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user.timezone
    return current_app.config["DEFAULT_TIMEZONE"]


# Times are 24-hour in every language (English too): the one place that sets how `format_time`,
# `format_datetime` and their Jinja filters (`timeformat`, `datetimeformat`) show a time when no pattern is given.
DATE_FORMATS = {
    "time": "short",
    "date": "medium",
    "datetime": "medium",
    "time.short": "HH:mm",
    "time.medium": "HH:mm:ss",
    "time.long": "HH:mm:ss z",
    "time.full": "HH:mm:ss zzzz",
    "date.short": None,
    "date.medium": None,
    "date.long": None,
    "date.full": None,
    "datetime.short": "d MMM y, HH:mm",
    "datetime.medium": "d MMMM y, HH:mm",
    "datetime.long": "d MMMM y, HH:mm z",
    "datetime.full": "EEEE d MMMM y, HH:mm zzzz",
}


def init_babel(app: Flask, babel: Babel) -> None:
    translations = str(app.root_path + "/translations")
    babel.date_formats = dict(DATE_FORMATS)  # before init_app, which keeps a mapping it is given
    babel.init_app(
        app,
        locale_selector=select_locale,
        timezone_selector=select_timezone,
        default_translation_directories=translations,
    )
    app.context_processor(lambda: {"get_locale": get_locale})
