"""Factories for test data, built through the same services the app uses."""

from __future__ import annotations

from datetime import timedelta

from supportgroup.auth.services import create_user
from supportgroup.extensions import db
from supportgroup.groups import enrolment, lifecycle
from supportgroup.models import Group, GroupKind, Meeting, MeetingState, Membership, Role, User, utcnow


class Factory:
    def __init__(self, password: str):
        self.password = password

    def user(
        self, username: str, role: Role = Role.PARTICIPANT, *, trained: bool = True, first_name: str | None = None
    ) -> User:
        if role == Role.PEER_EXPERT and first_name is None:
            first_name = username.capitalize()
        user = create_user(username, self.password, role, first_name=first_name, trained=trained)
        db.session.commit()
        return user

    def group(
        self, name: str = "Test group", kind: GroupKind = GroupKind.SURVIVORS, capacity: int = 12, language: str = "en"
    ) -> Group:
        group = lifecycle.create_group(name, kind, language, capacity)
        db.session.commit()
        return group

    def member(self, group: Group, user: User, *, accept_rules: bool = True) -> Membership:
        membership = enrolment.add_participant(group, user)
        if accept_rules:
            enrolment.accept_house_rules(membership)
        db.session.commit()
        return membership

    def moderator(self, group: Group, user: User) -> Membership:
        membership = enrolment.assign_moderator(group, user)
        db.session.commit()
        return membership

    def meeting(
        self,
        group: Group,
        state: MeetingState = MeetingState.OPEN,
        starts_in: timedelta = timedelta(0),
        title: str = "Test meeting",
    ) -> Meeting:
        meeting = Meeting(
            group=group,
            starts_at=utcnow() + starts_in,
            duration_minutes=90,
            timezone="Europe/Amsterdam",
            state=state,
            title=title,
        )
        db.session.add(meeting)
        db.session.commit()
        return meeting

    def scene(self, state: MeetingState = MeetingState.OPEN):
        """A group with peer expert `expert`, participants `alice` and `bob`, outsider `eve`, a meeting."""
        group = self.group()
        expert = self.user("expert", Role.PEER_EXPERT, first_name="Sam")
        alice, bob = self.user("alice"), self.user("bob")
        eve = self.user("eve")
        coordinator = self.user("coord", Role.COORDINATOR)
        self.moderator(group, expert)
        memberships = {"alice": self.member(group, alice), "bob": self.member(group, bob)}
        meeting = self.meeting(group, state)
        return Scene(group, meeting, expert, alice, bob, eve, coordinator, memberships)


class Scene:
    def __init__(self, group, meeting, expert, alice, bob, eve, coordinator, memberships):
        self.group = group
        self.meeting = meeting
        self.expert = expert
        self.alice = alice
        self.bob = bob
        self.eve = eve
        self.coordinator = coordinator
        self.memberships = memberships
