"""The partner organisations (coordinators and admins): list, add, rename, remove. The console's start page
(`admin/settings_routes.py`) links the list too."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..edge import committing
from ..errors import DomainError, show_on_form
from ..extensions import db
from ..models import Organisation
from ..permissions import require_group_manager
from . import enrolment, organisations
from .blueprint import bp
from .forms import OrganisationForm, RenameOrganisationForm


def _rename_form(organisation: Organisation) -> RenameOrganisationForm:
    return RenameOrganisationForm(prefix=f"org{organisation.id}", data={"name": organisation.name})


def _page(form: OrganisationForm | None = None, failed: RenameOrganisationForm | None = None, failed_id: int = 0):
    listed = db.session.scalars(select(Organisation).order_by(Organisation.name)).all()
    rows = [
        (o, failed if o.id == failed_id and failed is not None else _rename_form(o), organisations.referrals(o))
        for o in listed
    ]
    form = form or OrganisationForm()
    status = 400 if form.errors or failed is not None else 200
    return render_template("groups/organisations.html", rows=rows, form=form, failed_id=failed_id), status


@bp.route("/organisations", methods=["GET", "POST"], endpoint="organisations")
@login_required
def organisations_page():
    require_group_manager(current_user)
    form = OrganisationForm()
    if form.validate_on_submit():
        try:
            with committing():
                enrolment.create_organisation(form.name.data, current_user)
        except DomainError as error:
            show_on_form(form, error)
        else:
            flash(_("The organisation has been added."), "success")
            return redirect(url_for("groups.organisations"))
    return _page(form)


@bp.route("/organisations/<int:organisation_id>/rename", methods=["POST"])
@login_required
def rename_organisation(organisation_id: int):
    organisation = db.get_or_404(Organisation, organisation_id)
    require_group_manager(current_user)
    form = RenameOrganisationForm(prefix=f"org{organisation.id}")
    if form.validate_on_submit():
        try:
            with committing():
                organisations.rename_organisation(organisation, form.name.data, current_user)
        except IntegrityError:  # the same name saved at the same moment by someone else
            form.name.errors = [_("Another organisation already has this name.")]
        except DomainError as error:
            show_on_form(form, error)
        else:
            flash(_("The organisation has been renamed."), "success")
            return redirect(url_for("groups.organisations"))
    return _page(failed=form, failed_id=organisation.id)


@bp.route("/organisations/<int:organisation_id>/remove", methods=["POST"])
@login_required
def remove_organisation(organisation_id: int):
    organisation = db.get_or_404(Organisation, organisation_id)
    require_group_manager(current_user)
    if FlaskForm().validate_on_submit():
        try:
            with committing():
                organisations.remove_organisation(organisation, current_user)
        except DomainError as error:
            flash(str(error.message), "error")
        else:
            flash(_("The organisation has been removed."), "success")
    return redirect(url_for("groups.organisations"))
