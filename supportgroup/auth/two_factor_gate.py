"""The HTTP side of two-factor sign-in's rule: a session that has not passed the second factor its account needs
reaches nothing but the pages in `EXEMPT`. Every other request, to any endpoint (and to no endpoint: a 404, a
method not allowed), is sent to the second step, or to enrolment when the account has no second factor yet.

One `before_request`, so a new page is covered without doing anything; the socket side is the `connect`
handler (`realtime/connection.py`), which asks the same `second_factor_due`.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, redirect, request, session, url_for
from flask_login import current_user

from ..two_factor import is_enrolled, may_enrol, second_factor_due
from .routes import safe_path
from .two_factor_routes import NEXT_KEY

# What a session between password and code may open: the second step and enrolment, leaving (logout, quick
# exit), the login page (it sends a logged-in session on), static files and the load balancer's health checks.
EXEMPT = frozenset(
    {
        "two_factor.verify",
        "two_factor.setup",
        "auth.logout",
        "auth.quick_exit",
        "auth.login",
        "static",
        "health.healthz",
        "health.readyz",
    }
)


def init_two_factor_gate(app: Flask) -> None:
    @app.before_request
    def second_factor_gate():
        if request.endpoint in EXEMPT or not current_user.is_authenticated:
            return None
        user = current_user._get_current_object()
        if not second_factor_due(user):
            return None
        if request.method == "GET" and NEXT_KEY not in session:
            # A session restored from the remember cookie: after the code, back to the page that was asked for
            # (a path on this site only: `//elsewhere` is another site to a browser).
            query = request.query_string.decode("utf-8", "replace")
            if target := safe_path(request.path + (f"?{query}" if query else "")):
                session[NEXT_KEY] = target
        return redirect(url_for("two_factor.verify" if is_enrolled(user) else "two_factor.setup"))

    @app.context_processor
    def two_factor_context() -> dict[str, Callable[[], bool]]:
        """`second_factor_pending()`: the page is shown to a session still owing its code (the navigation then
        offers only logging out); `may_have_two_factor()`: the settings show the two-factor section. Functions,
        so a page that does not ask costs nothing (an error page during an outage asks no database)."""
        return {
            "second_factor_pending": lambda: current_user.is_authenticated and second_factor_due(current_user),
            "may_have_two_factor": lambda: current_user.is_authenticated and may_enrol(current_user),
        }
