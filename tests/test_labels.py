"""No page shows a stored code ("perpetrators · nl"): every kind, language, role, status, state, source and
kind of experience reaches a page through `labels.label`. The test walks the main journeys' pages as a
coordinator, a peer expert and a participant, in English and in Dutch, and looks for the codes in the
visible text (not in attributes, where CSS classes and form values may carry them)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from supportgroup.groups import pool
from supportgroup.labels import label, labels
from supportgroup.models import GroupKind, MeetingState, MembershipStatus, Role
from tests.conftest import csrf_token


class _Visible(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "template", "textarea"):
            self.hidden += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template", "textarea"):
            self.hidden -= 1

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def visible_words(html: str) -> set[str]:
    parser = _Visible()
    parser.feed(html)
    # A dotted name is one word: "113.nl" (a helpline's site) is not the language code "nl".
    return set(re.findall(r"[\w-]+(?:\.[\w-]+)*", " ".join(parser.parts)))


# Codes no English or Dutch sentence of ours uses as a lower-case word.
CODES = {
    "en": {"nl", "peer_expert", "former_perpetrator", "child_witness", "waitlisted", "perpetrators", "survivors"},
    "nl": {
        "peer_expert", "former_perpetrator", "child_witness", "waitlisted", "perpetrators", "survivors",
        "mixed", "pending", "active", "banned", "removed", "scheduled", "cancelled", "closed", "referral",
        "participant", "coordinator", "moderator", "addiction", "survivor",
    },
}  # fmt: skip


@pytest.fixture
def journeys(factory, login_client, db):
    scene = factory.scene(MeetingState.SCHEDULED)
    scene.group.kind = GroupKind.PERPETRATORS
    scene.group.open_for_requests = True
    waiting = factory.member(scene.group, factory.user("patient"))
    waiting.status = MembershipStatus.WAITLISTED
    pool.update_profile(
        scene.expert.profile,
        first_name="Sam",
        story="",
        experience_kinds=["former_perpetrator", "child_witness"],
        languages=["nl", "en"],
    )
    db.session.commit()
    coordinator = login_client("coord")
    post_form = lambda page, action, data=None: coordinator.post(  # noqa: E731
        action, data={"csrf_token": csrf_token(coordinator, page), **(data or {})}
    )
    post_form(f"/groups/{scene.group.id}", f"/groups/{scene.group.id}/invites")
    gid = scene.group.id
    return {
        "coord": [
            "/home", "/groups/", f"/groups/{gid}", f"/groups/{gid}/edit", "/groups/new", "/groups/pool",
            f"/groups/{gid}/archive", "/groups/archived", "/schedule/calendar", "/admin/audit",
        ],
        "expert": ["/home", f"/groups/{gid}/about"],
        "alice": ["/home", "/groups/directory", f"/groups/{gid}/about", "/account/alias-lookups"],
    }  # fmt: skip


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_no_page_of_the_main_journeys_shows_a_stored_code(journeys, login_client, lang):
    found = {}
    for username, pages in journeys.items():
        http = login_client(username)
        http.get(f"/home?lang={lang}")
        for page in pages:
            response = http.get(page)
            assert response.status_code == 200, (username, page)
            raw = visible_words(response.get_data(as_text=True)) & CODES[lang]
            if raw:
                found[f"{username} {page}"] = sorted(raw)
    assert not found, found


def test_label_names_every_stored_value(app):
    with app.test_request_context("/?lang=en"):
        for enum in (GroupKind, MembershipStatus, MeetingState, Role):
            for member in enum:
                assert str(label(member)) != member.value, member
        assert str(label("nl", "language")) == "Dutch"
        assert labels(["nl", "en"], "language") == "Dutch, English"
        assert str(label(GroupKind.PERPETRATORS)) == "Perpetrators"
        assert label("xx", "language") == "xx" and label(None) == ""
