"""The peer-expert pool and conflict screening (coordinators). Organisations: `organisation_routes.py`."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import aliased

from ..audit import AuditAction, record
from ..edge import committing
from ..errors import DomainError, show_on_form
from ..extensions import db
from ..models import EnrolmentConflict, Role, User
from ..permissions import can_record_training, require_group_manager, require_profile_editor
from ..realtime.rooms import revoke_rooms
from ..usernames import find_user
from . import pool
from .blueprint import bp
from .conflicts import record_conflict, remove_conflict
from .forms import ConflictForm, ProfileForm


@bp.route("/pool")
@login_required
def pool_index():
    require_group_manager(current_user)
    return render_template("groups/pool.html", entries=pool.pool_overview(), kinds=pool.EXPERIENCE_KINDS)


@bp.route("/pool/<int:user_id>/edit", methods=["GET", "POST"])
@login_required
def edit_profile(user_id: int):
    expert = db.get_or_404(User, user_id)
    if expert.role != Role.PEER_EXPERT or expert.profile is None:
        abort(404)  # only peer experts have a profile: any other account id is one that has none
    require_profile_editor(current_user, expert)
    is_staff = can_record_training(current_user)
    form = ProfileForm(obj=expert.profile)
    form.experience_kinds.choices = list(pool.EXPERIENCE_KINDS.items())
    if not is_staff:
        del form.trained, form.trained_on  # only coordinators record training
    if form.validate_on_submit():
        try:
            with committing():
                pool.update_profile(
                    expert.profile,
                    first_name=form.first_name.data,
                    story=form.story.data or "",
                    experience_kinds=form.experience_kinds.data,
                    languages=form.languages.data,
                    trained=form.trained.data if is_staff else None,
                    trained_on=form.trained_on.data if is_staff else None,
                    actor=current_user,
                )
        except DomainError as error:
            show_on_form(form, error)
        else:
            revoke_rooms(user_id=user_id)  # untrained: out of the moderators' rooms, in every process
            flash(_("The profile has been saved."), "success")
            return redirect(url_for("groups.pool_index") if is_staff else url_for("home.dashboard"))
    return render_template("groups/profile.html", expert=expert, form=form), 400 if form.errors else 200


def _conflict_rows():
    low, high = aliased(User), aliased(User)
    return db.session.execute(
        select(EnrolmentConflict, low.username, high.username)
        .join(low, low.id == EnrolmentConflict.user_low_id)
        .join(high, high.id == EnrolmentConflict.user_high_id)
        .order_by(EnrolmentConflict.created_at.desc())
    ).all()


@bp.route("/conflicts", methods=["GET", "POST"])
@login_required
def conflicts():
    require_group_manager(current_user)
    form = ConflictForm()
    if form.validate_on_submit():
        first, second = find_user(form.first.data), find_user(form.second.data)
        if first is None:
            form.first.errors.append(_("There is no account with this username."))
        if second is None:
            form.second.errors.append(_("There is no account with this username."))
        if first and second:
            try:
                with committing():
                    _conflict, shared = record_conflict(first, second, form.note.data or "", current_user)
            except DomainError as error:
                show_on_form(form, error)
            else:
                flash(_("Recorded: these two accounts will not be placed in the same group."), "success")
                for group in shared:
                    flash(_("Attention: both are already in %(group)s.", group=group.name), "warning")
                return redirect(url_for("groups.conflicts"))
    status = 400 if request.method == "POST" else 200
    rows = _conflict_rows()
    with committing():  # the list says which accounts must never meet (former partners): an audited read
        record(
            current_user, AuditAction.VIEW_CONFLICTS, "conflicts", "all", reason=f"keep-apart list, {len(rows)} pairs"
        )
    return render_template("groups/conflicts.html", rows=rows, form=form, delete_form=FlaskForm()), status


@bp.route("/conflicts/<int:conflict_id>/delete", methods=["POST"])
@login_required
def delete_conflict(conflict_id: int):
    require_group_manager(current_user)
    conflict = db.get_or_404(EnrolmentConflict, conflict_id)
    if FlaskForm().validate_on_submit():
        with committing():
            remove_conflict(conflict, current_user)
        flash(_("The record has been removed."), "success")
    return redirect(url_for("groups.conflicts"))
