"""Gap detection in the browser (issue #12 review, docs/protocol.md §7): js/chat/ and js/moderator/ against a real
server, whose heartbeat sends `sync` every 2 s.

- A participant let in from the waiting room gets the recent history (the waiting join must not move the
  replay point: nothing is sent while waiting).
- A deletion the page heard live (`message_deleted`) is counted: the next `sync` asks no `catch_up`.
- What only moderators receive, lost on the way (stored here without any emit, as a crash between commit
  and emit leaves it), reaches the console: a held message through the catch_up that its id asks for, a
  report (which allocates no id) through the catch_up a moderator's page makes every 5th sync; a row the
  moderator is working in stays as it is.
- A catch_up's snapshot is read before its ack leaves: a report or alert raised, or one resolved, in between
  (its live event reaching the page first) is neither undone nor redone by that older snapshot.
"""

from __future__ import annotations

import json
import re
import time

import pytest
from sqlalchemy import select

from supportgroup.extensions import db
from supportgroup.models import Meeting, Membership
from supportgroup.realtime import messages as services
from tests.browser.conftest import LIVE_INPUT, login

pytestmark = pytest.mark.browser


def membership(scene, user) -> Membership:
    return db.session.scalar(
        select(Membership).where(Membership.group_id == scene.group.id, Membership.user_id == user.id)
    )


def store_without_emit(scene, user, client_id: str, text: str, **kind) -> int:
    """Stored and committed in the server's database, and never emitted."""
    meeting = db.session.get(Meeting, scene.meeting.id)
    seq = services.post_message(meeting, membership(scene, user), client_id, text, **kind).seq
    db.session.commit()
    return seq


class Frames:
    """This page's `catch_up` frames sent and `sync` frames received (watched before the page connects)."""

    def __init__(self, page):
        self.page = page
        self.catch_ups: list[str] = []
        self.syncs: list[str] = []
        page.on("websocket", self._watch)

    def _watch(self, ws) -> None:
        ws.on("framesent", lambda f: self.catch_ups.append(f) if isinstance(f, str) and '"catch_up"' in f else None)
        ws.on("framereceived", lambda f: self.syncs.append(f) if isinstance(f, str) and '"sync"' in f else None)

    def wait_syncs(self, count: int, deleted: int | None = None, timeout: float = 10.0) -> None:
        """Wait for `count` more `sync`s (saying `deleted`, when given): the server's heartbeat is its own clock."""
        start = len(self.syncs)
        deadline = time.monotonic() + timeout
        while sum(deleted is None or sync_payload(f)["deleted"] == deleted for f in self.syncs[start:]) < count:
            assert time.monotonic() < deadline, "no sync from the server"
            self.page.wait_for_timeout(100)


def sync_payload(frame: str) -> dict:
    """`42["sync",{...}]` -> the payload."""
    return json.loads(frame[frame.index("[") :])[1]


def open_meeting(new_page, name: str, meeting_id: int, ready: str = LIVE_INPUT):
    """Log in, open the meeting (skipping a participant's safety check) and wait for `ready`; returns the page
    and its Frames."""
    page = new_page()
    frames = Frames(page)
    login(page, name)
    page.goto(f"/meetings/{meeting_id}")
    page.locator(f"{ready}, #safety-check").first.wait_for(timeout=10000)
    skip = page.get_by_role("button", name="Skip the check")
    if skip.count():
        skip.click()
    page.locator(ready).wait_for(timeout=10000)
    return page, frames


def test_a_participant_let_in_from_the_waiting_room_sees_the_recent_history(factory, live, new_page):
    scene = factory.scene()
    scene.group.waiting_room = True
    db.session.commit()
    for number in range(3):
        store_without_emit(scene, scene.bob, f"history-{number:04d}", f"Earlier line {number}")
    expert, _ = open_meeting(new_page, "expert", scene.meeting.id)
    alice, _ = open_meeting(new_page, "alice", scene.meeting.id, ready="#waiting-room:not([hidden])")

    expert.locator("#waiting-list button").first.click()
    alice.locator(LIVE_INPUT).wait_for(timeout=10000)
    for number in range(3):
        alice.locator("#messages .message .text", has_text=f"Earlier line {number}").wait_for(timeout=5000)
    assert alice.locator("#messages .message").count() == 3


def test_a_deletion_heard_live_asks_no_catch_up(factory, live, new_page):
    scene = factory.scene()
    expert, _ = open_meeting(new_page, "expert", scene.meeting.id)
    alice, frames = open_meeting(new_page, "alice", scene.meeting.id)
    alice.locator("#message-input").fill("A line to take back")
    alice.locator("#send-button").click()
    line = expert.locator("#messages .message", has_text="A line to take back")
    line.wait_for()
    alice.locator("#messages .message .text", has_text="A line to take back").wait_for()
    frames.wait_syncs(1)  # the page is up to date
    before = len(frames.catch_ups)

    line.get_by_role("button", name="Actions for this message").click()
    line.get_by_role("button", name="Delete").click()  # the expert deletes it: alice hears `message_deleted`
    alice.locator("#messages .message", has_text="A line to take back").wait_for(state="detached")
    frames.wait_syncs(2, deleted=1)
    assert frames.catch_ups[before:] == []


def test_the_console_recovers_what_only_moderators_receive(factory, live, new_page):
    scene = factory.scene()
    expert, frames = open_meeting(new_page, "expert", scene.meeting.id)
    held = store_without_emit(
        scene, scene.bob, "held-00001", "Held and never announced", status="pending", held_reason="premoderation"
    )
    pending = expert.locator("#pending-list li", has_text="Held and never announced")
    pending.wait_for(timeout=5000)  # its id moved `sync.last_id`: the catch_up's snapshot brings it

    # The moderator starts rejecting it and types a reason; later snapshots leave that row alone.
    pending.get_by_role("button", name="Reject").click()
    reason = pending.locator("form.confirm input")
    reason.fill("Half-typed reason")

    visible = store_without_emit(scene, scene.bob, "line-00001", "A line someone reports")
    expert.locator("#messages .message .text", has_text="A line someone reports").wait_for(timeout=5000)
    meeting = db.session.get(Meeting, scene.meeting.id)
    services.report_message(services.find_message(meeting, visible), membership(scene, scene.alice), "Not kind")
    db.session.commit()  # a report allocates no message id: only the every-5th-sync catch_up finds it
    started = time.monotonic()
    expert.locator("#report-list li", has_text="Not kind").wait_for(timeout=15000)
    print(f"\nFIGURES report lost on the way shown in the console after {time.monotonic() - started:.1f}s")
    assert reason.input_value() == "Half-typed reason" and reason.is_visible()
    assert expert.locator("#pending-list li").count() == 1 and held
    assert len(frames.catch_ups) >= 2


class HeldCatchUp:
    """A proxy between the page and the server's websocket (Playwright's route) that, once armed, holds the
    ack of the page's next `catch_up` until released: the server has read its snapshot, the page has not
    seen it, and live events still pass, as they do when the server emits while its handler returns."""

    def __init__(self, page):
        self.armed = False
        self.ack_id: str | None = None
        self.held: list = []  # [(route, frame)]
        page.route_web_socket(re.compile(r"/socket\.io/"), self._route)

    def _route(self, ws) -> None:
        server = ws.connect_to_server()
        ws.on_message(lambda frame: self._to_server(server, frame))
        server.on_message(lambda frame: self._to_page(ws, frame))

    def _to_server(self, server, frame) -> None:
        match = re.match(r'42(\d+)\["catch_up"', frame) if isinstance(frame, str) else None
        if match and self.armed and self.ack_id is None:
            self.ack_id = match.group(1)
        server.send(frame)

    def _to_page(self, ws, frame) -> None:
        if self.ack_id is not None and isinstance(frame, str) and frame.startswith(f"43{self.ack_id}["):
            self.held.append((ws, frame))
            return
        ws.send(frame)

    def wait_held(self, page, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.held:
            assert time.monotonic() < deadline, "no catch_up ack to hold"
            page.wait_for_timeout(50)

    def release(self) -> None:
        self.armed, self.ack_id = False, None
        for ws, frame in self.held:
            ws.send(frame)
        self.held = []


def test_an_older_catch_up_snapshot_neither_undoes_nor_redoes_live_moderation(factory, live, new_page):
    scene = factory.scene()
    reported = store_without_emit(scene, scene.bob, "line-00001", "A line reported earlier")
    store_without_emit(scene, scene.bob, "line-00002", "A line reported in the gap")
    meeting = db.session.get(Meeting, scene.meeting.id)
    services.report_message(services.find_message(meeting, reported), membership(scene, scene.alice), "Earlier one")
    db.session.commit()
    proxy: list[HeldCatchUp] = []

    def proxied_page():
        page = new_page()
        proxy.append(HeldCatchUp(page))
        return page

    expert, _ = open_meeting(proxied_page, "expert", scene.meeting.id)
    held = proxy[0]
    alice, _ = open_meeting(new_page, "alice", scene.meeting.id)
    alice.locator("#message-input").fill("ik wil niet meer leven")
    alice.locator("#message-input").press("Enter")
    first_report = expert.locator("#report-list li", has_text="Earlier one")
    first_alert = expert.locator("#alert-list .alert-item", has_text="ik wil niet meer leven")
    first_report.wait_for(timeout=5000)
    first_alert.wait_for(timeout=5000)

    # The next catch_up (asked for by a line stored without an emit) is answered; its ack is held.
    held.armed = True
    store_without_emit(scene, scene.bob, "line-00003", "A line only the catch_up brings")
    held.wait_held(expert)

    # Meanwhile, live: a new report and a new alert arrive, the earlier ones are resolved.
    line = alice.locator("#messages .message", has_text="A line reported in the gap")
    line.get_by_role("button", name="Actions for this message").click()
    line.get_by_role("button", name="Report").click()
    line.locator(".report-form input").fill("Raised in the gap")
    line.get_by_role("button", name="Send report").click()
    alice.locator("#message-input").fill("ik zie het niet meer zitten")
    alice.locator("#message-input").press("Enter")
    new_report = expert.locator("#report-list li", has_text="Raised in the gap")
    new_alert = expert.locator("#alert-list .alert-item", has_text="ik zie het niet meer zitten")
    new_report.wait_for(timeout=5000)
    new_alert.wait_for(timeout=5000)
    first_report.get_by_role("button", name="Resolved").click()
    first_alert.get_by_role("button", name="Seen").click()
    first_report.wait_for(state="detached")
    first_alert.wait_for(state="detached")

    # The older snapshot arrives (it also brings the line): the console stays as the live events left it.
    held.release()
    expert.locator("#messages .message .text", has_text="A line only the catch_up brings").wait_for(timeout=5000)
    assert new_report.count() == 1 and new_alert.count() == 1
    assert first_report.count() == 0 and first_alert.count() == 0
    assert expert.locator("#report-list li").count() == 1
    assert expert.locator("#alert-list .alert-item").count() == 1
