"""Archiving a group and undoing it: a page that asks first, the list of archived groups, restore."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..edge import committing
from ..errors import DomainError
from ..extensions import db
from ..models import Group
from ..permissions import require_group_manager
from ..realtime.rooms import revoke_rooms
from . import lifecycle, roster
from .blueprint import bp
from .forms import ReasonForm


@bp.route("/<int:group_id>/archive", methods=["GET", "POST"])
@login_required
def archive(group_id: int):
    group = db.get_or_404(Group, group_id)
    require_group_manager(current_user)
    form = ReasonForm()
    if form.validate_on_submit():
        with committing():
            lifecycle.archive_group(group, current_user)
        revoke_rooms(group_id=group.id)  # whatever rights archiving ends (permissions.py decides)
        flash(_("The group has been archived. You can restore it from the archived groups."), "success")
        return redirect(url_for("groups.index"))
    page = render_template(
        "groups/archive.html", group=group, form=form, active_count=roster.active_participant_count(group)
    )
    return page, 400 if form.errors else 200


@bp.route("/archived")
@login_required
def archived():
    require_group_manager(current_user)
    return render_template("groups/archived.html", groups=lifecycle.archived_groups(), form=ReasonForm())


@bp.route("/<int:group_id>/restore", methods=["POST"])
@login_required
def restore(group_id: int):
    group = db.get_or_404(Group, group_id)
    require_group_manager(current_user)
    if ReasonForm().validate_on_submit():
        try:
            with committing():
                lifecycle.restore_group(group, current_user)
        except DomainError as error:
            flash(str(error.message), "error")
        else:
            flash(_("The group has been restored. Its members can take part again."), "success")
    return redirect(url_for("groups.detail", group_id=group.id))
