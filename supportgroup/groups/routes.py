"""Coordinators' pages: groups, their members and moderators, their meetings."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from ..auth.services import find_user
from ..extensions import db
from ..models import Group, GroupKind
from ..permissions import require_group_manager
from ..scheduling import services as scheduling
from . import services
from .forms import GroupForm, MeetingForm, UsernameForm

bp = Blueprint("groups", __name__)


def load_group(group_id: int) -> Group:
    group = db.session.get(Group, group_id)
    if group is None:
        abort(404)
    return group


@bp.route("/")
@login_required
def index():
    require_group_manager(current_user)
    groups = db.session.scalars(select(Group).where(Group.archived_at.is_(None)).order_by(Group.name)).all()
    return render_template("groups/index.html", groups=groups)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    require_group_manager(current_user)
    form = GroupForm()
    if form.validate_on_submit():
        group = services.create_group(form.name.data, GroupKind(form.kind.data), form.language.data,
                                      form.capacity.data, form.description.data or "")
        db.session.commit()
        flash(_("The group has been created."), "success")
        return redirect(url_for("groups.detail", group_id=group.id))
    return render_template("groups/new.html", form=form)


def _render_detail(group: Group, member_form=None, moderator_form=None, meeting_form=None, status=200):
    return render_template(
        "groups/detail.html",
        group=group,
        participants=services.participants(group),
        moderators=services.moderators(group),
        meetings=scheduling.meetings_of_group(group),
        member_form=member_form or UsernameForm(prefix="member"),
        moderator_form=moderator_form or UsernameForm(prefix="moderator"),
        meeting_form=meeting_form or MeetingForm(prefix="meeting"),
    ), status


@bp.route("/<int:group_id>")
@login_required
def detail(group_id: int):
    group = load_group(group_id)
    require_group_manager(current_user)
    return _render_detail(group)


def _user_or_error(form: UsernameForm):
    user = find_user(form.username.data)
    if user is None:
        form.username.errors.append(_("There is no account with this username."))
    return user


@bp.route("/<int:group_id>/members", methods=["POST"])
@login_required
def add_member(group_id: int):
    group = load_group(group_id)
    require_group_manager(current_user)
    form = UsernameForm(prefix="member")
    if form.validate_on_submit() and (user := _user_or_error(form)) is not None:
        try:
            services.add_participant(group, user)
        except services.GroupError as error:
            db.session.rollback()
            form.username.errors.append(str(error.message))
        else:
            db.session.commit()
            flash(_("The participant has been added."), "success")
            return redirect(url_for("groups.detail", group_id=group.id))
    return _render_detail(group, member_form=form, status=400)


@bp.route("/<int:group_id>/moderators", methods=["POST"])
@login_required
def add_moderator(group_id: int):
    group = load_group(group_id)
    require_group_manager(current_user)
    form = UsernameForm(prefix="moderator")
    if form.validate_on_submit() and (user := _user_or_error(form)) is not None:
        try:
            services.assign_moderator(group, user)
        except services.GroupError as error:
            db.session.rollback()
            form.username.errors.append(str(error.message))
        else:
            db.session.commit()
            flash(_("The peer expert now moderates this group."), "success")
            return redirect(url_for("groups.detail", group_id=group.id))
    return _render_detail(group, moderator_form=form, status=400)


@bp.route("/<int:group_id>/meetings", methods=["POST"])
@login_required
def add_meeting(group_id: int):
    group = load_group(group_id)
    require_group_manager(current_user)
    form = MeetingForm(prefix="meeting")
    if form.validate_on_submit():
        try:
            scheduling.create_meeting(group, form.starts_at.data, form.duration_minutes.data,
                                      form.timezone.data.strip(), form.title.data or "")
        except scheduling.MeetingError as error:
            db.session.rollback()
            getattr(form, error.field).errors.append(str(error.message))
        else:
            db.session.commit()
            flash(_("The meeting has been planned."), "success")
            return redirect(url_for("groups.detail", group_id=group.id))
    return _render_detail(group, meeting_form=form, status=400)
