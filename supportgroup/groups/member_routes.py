"""Participants' own pages: join with an invite, ask to join, a group's page, house rules, alias, leave."""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select

from ..edge import committing
from ..errors import DomainError
from ..extensions import db
from ..models import Group, Membership, MembershipStatus
from ..permissions import Denied, membership_of, require_authenticated
from ..realtime.rooms import revoke_rooms
from . import alias_services, enrolment, invites, roster
from .blueprint import bp
from .forms import RedeemForm


def _own_membership(group: Group):
    membership = membership_of(current_user, group.id)
    if membership is None or membership.status not in roster.CURRENT_STATUSES:
        raise Denied("not_member", _("You are not a member of this group."))
    return membership


@bp.route("/join", methods=["GET", "POST"])
@bp.route("/join/<code>", methods=["GET", "POST"])
@login_required
def join(code: str | None = None):
    require_authenticated(current_user)
    form = RedeemForm(data={"code": code} if code else None)
    invited_to = None
    if code and request.method == "GET":
        # An invite link (perhaps just after logging in or registering): name the group it leads to, and take
        # someone who is already in that group straight to it. Joining itself stays a button press (a POST).
        invite = invites.find_invite(code)
        problem = invites.invite_problem(invite) if invite is not None else None
        if invite is None or problem is not None:
            form.code.errors = [
                str(problem or _("This invite code is not valid. Check the code, or ask for a new one."))
            ]
        else:
            membership = membership_of(current_user, invite.group_id)
            if membership is not None and membership.status in roster.CURRENT_STATUSES:
                flash(_("You are already in this group."), "info")
                return redirect(url_for("groups.about", group_id=invite.group_id))
            invited_to = invite.group
    if form.validate_on_submit():
        try:
            with committing():
                membership = invites.redeem_invite(form.code.data, current_user)
        except DomainError as error:  # includes a neutral ConflictRefused
            form.code.errors.append(str(error.message))
        else:
            if membership.status == MembershipStatus.WAITLISTED:
                flash(_("The group is full for now: you are on the waitlist and move up when a place frees."), "info")
            else:
                flash(_("Welcome to the group. You take part as %(alias)s.", alias=membership.alias), "success")
            return redirect(url_for("groups.about", group_id=membership.group_id))
    return render_template("groups/join.html", form=form, invited_to=invited_to), 400 if form.errors else 200


@bp.route("/directory")
@login_required
def directory():
    groups = db.session.scalars(
        select(Group).where(Group.open_for_requests.is_(True), Group.archived_at.is_(None)).order_by(Group.name)
    ).all()
    mine = {g.id for g, _m in roster.groups_of(current_user)}
    return render_template("groups/directory.html", groups=groups, mine=mine, form=FlaskForm())


@bp.route("/<int:group_id>/request", methods=["POST"])
@login_required
def request_to_join(group_id: int):
    group = db.get_or_404(Group, group_id)
    require_authenticated(current_user)
    if not group.open_for_requests or group.is_archived:
        # A group that is not in the directory is, to a stranger, one that does not exist.
        abort(404)
    if FlaskForm().validate_on_submit():
        try:
            with committing():
                enrolment.request_to_join(group, current_user)
        except DomainError as error:
            flash(str(error.message), "error")
        else:
            flash(_("Your request has been sent. A coordinator will answer it."), "success")
    return redirect(url_for("groups.directory"))


@bp.route("/<int:group_id>/about")
@login_required
def about(group_id: int):
    group = db.get_or_404(Group, group_id)
    membership = _own_membership(group)
    return render_template(
        "groups/about.html",
        group=group,
        membership=membership,
        moderators=roster.moderators(group),
        rules_accepted=enrolment.has_accepted_rules(membership),
        can_redraw=membership.role.value == "participant" and not alias_services.has_attended(membership),
        form=FlaskForm(),
    )


def _self_action(group_id: int, act: Callable[[Membership], object], done: str | Callable[[Membership], str]):
    group = db.get_or_404(Group, group_id)
    membership = _own_membership(group)
    if FlaskForm().validate_on_submit():
        try:
            with committing():
                act(membership)
        except DomainError as error:
            flash(str(error.message), "error")
        else:
            flash(done if isinstance(done, str) else done(membership), "success")
    return membership


@bp.route("/<int:group_id>/rules", methods=["POST"])
@login_required
def accept_rules(group_id: int):
    _self_action(group_id, enrolment.accept_house_rules, _("Thank you. You have accepted the house rules."))
    return redirect(url_for("groups.about", group_id=group_id))


@bp.route("/<int:group_id>/alias", methods=["POST"])
@login_required
def redraw_alias(group_id: int):
    _self_action(group_id, alias_services.redraw_alias, lambda m: _("Your new alias is %(alias)s.", alias=m.alias))
    return redirect(url_for("groups.about", group_id=group_id))


@bp.route("/<int:group_id>/leave", methods=["POST"])
@login_required
def leave(group_id: int):
    membership = _self_action(group_id, enrolment.leave_group, _("You have left the group."))
    revoke_rooms(user_id=membership.user_id, group_id=group_id)  # their open meeting pages hear no more
    return redirect(url_for("home.dashboard"))
