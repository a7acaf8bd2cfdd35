"""Coordinators' pages: groups, their settings, members, moderators, invites and requests."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from ..edge import committing
from ..errors import DomainError, show_on_form
from ..extensions import db
from ..models import Group, GroupKind, Invite, Membership, MembershipStatus, Organisation
from ..permissions import require_group_manager
from ..realtime.rooms import revoke_rooms
from ..scheduling import listings
from ..usernames import find_user
from . import (  # noqa: F401  (archive_routes, json_routes, member_routes, organisation_routes, pool_routes: more routes on bp)
    alias_services,
    archive_routes,
    conflicts,
    enrolment,
    invites,
    json_routes,
    lifecycle,
    member_routes,
    organisation_routes,
    pool,
    pool_routes,
    roster,
    rules_text,
)
from .blueprint import bp
from .forms import GroupForm, GroupSettingsForm, InviteForm, LookupForm, ReasonForm, ReferralForm, UsernameForm
from .rules_text import render_rules

bp.add_app_template_global(render_rules, "render_rules")  # the participant's page and the editor's preview


def _organisation_choices() -> list[tuple[int, str]]:
    names = db.session.execute(select(Organisation.id, Organisation.name).order_by(Organisation.name)).all()
    return [(0, _("No organisation")), *[(i, n) for i, n in names]]


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
    if _previewing():
        return _with_preview("groups/new.html", form)
    if form.validate_on_submit():
        with committing():
            group = lifecycle.create_group(
                form.name.data,
                GroupKind(form.kind.data),
                form.language.data,
                form.capacity.data,
                form.description.data or "",
                form.house_rules.data or "",
                actor=current_user,
            )
        flash(_("The group has been created."), "success")
        return redirect(url_for("groups.detail", group_id=group.id))
    return render_template("groups/new.html", form=form, preview=render_rules(form.house_rules.data or ""))


def _previewing() -> bool:
    return request.method == "POST" and "preview" in request.form


def _with_preview(template: str, form, **context):
    """The form as typed, nothing saved, with the rules shown as participants would see them."""
    return render_template(template, form=form, preview=render_rules(form.house_rules.data or ""), **context)


def _render_detail(group: Group, status: int = 200, **forms):
    referral_form = forms.get("member_form") or ReferralForm(prefix="member")
    referral_form.organisation.choices = _organisation_choices()
    newest_first = Invite.created_at.desc()
    group_invites = db.session.scalars(select(Invite).where(Invite.group_id == group.id).order_by(newest_first))
    return render_template(
        "groups/detail.html",
        group=group,
        participants=roster.participants(group),
        moderators=roster.moderators(group),
        active_count=roster.active_participant_count(group),
        meetings=listings.meetings_of_group(group),
        invites=list(group_invites),
        organisations=dict(_organisation_choices()),
        member_form=referral_form,
        moderator_form=forms.get("moderator_form") or UsernameForm(prefix="moderator"),
        invite_form=forms.get("invite_form") or InviteForm(prefix="invite"),
        lookup_form=forms.get("lookup_form") or LookupForm(prefix="lookup"),
        looked_up=forms.get("looked_up"),
        action_form=ReasonForm(),
    ), status


@bp.route("/<int:group_id>")
@login_required
def detail(group_id: int):
    group = db.get_or_404(Group, group_id)
    require_group_manager(current_user)
    return _render_detail(group)


@bp.route("/<int:group_id>/edit", methods=["GET", "POST"])
@login_required
def edit(group_id: int):
    group = db.get_or_404(Group, group_id)
    require_group_manager(current_user)
    form = GroupSettingsForm(obj=group)
    if request.method == "GET":
        form.kind.data = group.kind.value
        form.house_rules.data = rules_text.legacy_html_to_text(group.house_rules)  # rules stored as HTML
    if _previewing():
        return _with_preview("groups/edit.html", form, group=group)
    if form.validate_on_submit():
        try:
            with committing():
                promoted = lifecycle.update_group(
                    group,
                    name=form.name.data,
                    kind=GroupKind(form.kind.data),
                    language=form.language.data,
                    capacity=form.capacity.data,
                    description=form.description.data or "",
                    house_rules=form.house_rules.data or "",
                    waiting_room=form.waiting_room.data,
                    premoderation=form.premoderation.data,
                    retention_days=form.retention_days.data,
                    open_for_requests=form.open_for_requests.data,
                    actor=current_user,
                )
        except DomainError as error:
            show_on_form(form, error)
        else:
            flash(_("The group has been saved."), "success")
            if promoted:
                flash(_("%(n)d people moved up from the waitlist.", n=len(promoted)), "info")
            return redirect(url_for("groups.detail", group_id=group.id))
    preview = render_rules(form.house_rules.data or "")
    return render_template("groups/edit.html", group=group, form=form, preview=preview), 400 if form.errors else 200


def _user_or_error(form):
    user = find_user(form.username.data)
    if user is None:
        form.username.errors.append(_("There is no account with this username."))
    return user


@bp.route("/<int:group_id>/members", methods=["POST"])
@login_required
def add_member(group_id: int):
    group = db.get_or_404(Group, group_id)
    require_group_manager(current_user)
    form = ReferralForm(prefix="member")
    form.organisation.choices = _organisation_choices()
    if form.validate_on_submit() and (user := _user_or_error(form)) is not None:
        organisation = db.session.get(Organisation, form.organisation.data) if form.organisation.data else None
        try:
            with committing():
                membership = enrolment.add_participant(group, user, organisation, actor=current_user)
        except conflicts.ConflictRefused as refused:
            # The coordinator sees why; the participant never would.
            form.username.errors.append(
                _("Not added: this account is banned from this group.")
                if refused.reason == "banned"
                else _("Not added: a recorded conflict with a current member of this group.")
            )
        except DomainError as error:
            form.username.errors.append(str(error.message))
        else:
            flash(
                _("The participant has been added.")
                if membership.status == MembershipStatus.ACTIVE
                else _("The group is full: the participant is on the waitlist."),
                "success",
            )
            return redirect(url_for("groups.detail", group_id=group.id))
    return _render_detail(group, status=400, member_form=form)


@bp.route("/<int:group_id>/moderators", methods=["POST"])
@login_required
def add_moderator(group_id: int):
    group = db.get_or_404(Group, group_id)
    require_group_manager(current_user)
    form = UsernameForm(prefix="moderator")
    if form.validate_on_submit() and (user := _user_or_error(form)) is not None:
        try:
            with committing():
                enrolment.assign_moderator(group, user, actor=current_user)
                clashes = pool.double_bookings_if_assigned(group, user)
        except DomainError as error:
            form.username.errors.append(str(error.message))
        else:
            flash(_("The peer expert now moderates this group."), "success")
            for first, second in clashes:
                flash(
                    _(
                        "Double booking: %(a)s and %(b)s overlap for this peer expert.",
                        a=f"{first.group.name} {first.starts_at:%Y-%m-%d %H:%M} UTC",
                        b=f"{second.group.name} {second.starts_at:%Y-%m-%d %H:%M} UTC",
                    ),
                    "warning",
                )
            return redirect(url_for("groups.detail", group_id=group.id))
    return _render_detail(group, status=400, moderator_form=form)


@bp.route("/<int:group_id>/invites", methods=["POST"])
@login_required
def add_invite(group_id: int):
    group = db.get_or_404(Group, group_id)
    require_group_manager(current_user)
    form = InviteForm(prefix="invite")
    if form.validate_on_submit():
        expires = None
        if form.expires_at.data:
            expires = form.expires_at.data.replace(tzinfo=ZoneInfo(current_user.timezone)).astimezone(ZoneInfo("UTC"))
        try:
            with committing():
                invite = invites.create_invite(group, current_user, expires, form.max_uses.data)
        except DomainError as error:
            show_on_form(form, error)
        else:
            flash(_("New invite code: %(code)s", code=invite.code), "success")
            return redirect(url_for("groups.detail", group_id=group.id))
    return _render_detail(group, status=400, invite_form=form)


@bp.route("/invites/<int:invite_id>/revoke", methods=["POST"])
@login_required
def revoke_invite(invite_id: int):
    invite = db.get_or_404(Invite, invite_id)
    require_group_manager(current_user)
    if ReasonForm().validate_on_submit():
        with committing():
            invites.revoke_invite(invite, current_user)
        flash(_("The invite code has been withdrawn."), "success")
    return redirect(url_for("groups.detail", group_id=invite.group_id))


@bp.route("/<int:group_id>/lookup", methods=["POST"])
@login_required
def lookup(group_id: int):
    group = db.get_or_404(Group, group_id)
    require_group_manager(current_user)
    form = LookupForm(prefix="lookup")
    looked_up = None
    if form.validate_on_submit():
        try:
            with committing():
                looked_up = alias_services.lookup_alias(group, form.alias.data, current_user, form.reason.data)
        except DomainError as error:
            show_on_form(form, error)
    return _render_detail(group, status=200 if looked_up else 400, lookup_form=form, looked_up=looked_up)


def _membership_action(membership_id: int, act, done: str):
    membership = db.get_or_404(Membership, membership_id)
    require_group_manager(current_user)
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            with committing():
                promoted = act(membership, form.reason.data or "")
        except DomainError as error:
            flash(str(error.message), "error")
        else:
            # Out of the rooms of this group's live meetings that the change took away (removal, ban, an
            # unassigned peer expert), in every process; their other groups' meetings go on.
            revoke_rooms(user_id=membership.user_id, group_id=membership.group_id)
            flash(done, "success")
            if promoted:
                flash(_("%(n)d people moved up from the waitlist.", n=len(promoted)), "info")
    return redirect(url_for("groups.detail", group_id=membership.group_id))


@bp.route("/memberships/<int:membership_id>/approve", methods=["POST"])
@login_required
def approve(membership_id: int):
    return _membership_action(
        membership_id,
        lambda m, _r: enrolment.approve_request(m, current_user) and None,
        _("The request has been approved."),
    )


@bp.route("/memberships/<int:membership_id>/decline", methods=["POST"])
@login_required
def decline(membership_id: int):
    return _membership_action(
        membership_id, lambda m, _r: enrolment.decline_request(m, current_user), _("The request has been declined.")
    )


def _end(status: MembershipStatus):
    return lambda membership, reason: enrolment.end_membership(membership, current_user, status, reason)


@bp.route("/memberships/<int:membership_id>/remove", methods=["POST"])
@login_required
def remove(membership_id: int):
    return _membership_action(membership_id, _end(MembershipStatus.REMOVED), _("The member has been removed."))


@bp.route("/memberships/<int:membership_id>/ban", methods=["POST"])
@login_required
def ban(membership_id: int):
    return _membership_action(membership_id, _end(MembershipStatus.BANNED), _("The member has been banned."))


@bp.route("/memberships/<int:membership_id>/close-referral", methods=["POST"])
@login_required
def close_referral(membership_id: int):
    return _membership_action(
        membership_id,
        lambda m, _r: enrolment.close_referral(m, current_user),
        _("The referral is closed; the membership continues."),
    )
