"""`/activate/<token>`: a new staff member sets their own first password with the link an admin handed them.

The GET only looks at the link (it stays unspent until the password is set); the POST spends it, sets the
password, logs the person in and goes to the dashboard. A link that is expired, used, replaced or wrong gets
one page saying so, with what to do. Failed POSTs count against the login rate limit, as failed logins do.
`auth/routes.py` registers the view on the `auth` blueprint (`auth.activate`).
"""

from __future__ import annotations

from flask import redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length

from ..edge import committing
from ..errors import DomainError, show_on_form
from ..extensions import limiter
from ..textcheck import CheckedForm
from . import issued_codes
from .sessions import failed, login_limit, start_session


class ActivationForm(CheckedForm):
    password = PasswordField(
        _l("Choose a password"),
        validators=[DataRequired(), Length(max=256)],
        description=_l("At least 10 characters. Only you know it: nobody else ever sees it."),
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords do not match."))],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Set my password"))


def _dead_link():
    return render_template("auth/activation_dead.html"), 404


@limiter.limit(login_limit, methods=["POST"], deduct_when=failed)
def activate(token: str):
    user = issued_codes.activatable(token)
    if user is None:
        return _dead_link()
    form = ActivationForm()
    if form.validate_on_submit():
        try:
            with committing():
                user = issued_codes.activate(token, form.password.data)
        except DomainError as error:
            if error.code == "activation_link_dead":
                return _dead_link()
            show_on_form(form, error)
        else:
            start_session(user)  # a new session: nothing carried over from whoever used this browser before
            return redirect(url_for("home.dashboard"))
    return render_template("auth/activate.html", form=form, username=user.username), 400 if form.errors else 200
