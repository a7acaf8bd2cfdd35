"""Attendance: recorded from joins and leaves of the live chat; reports for coordinators and peer experts."""

import re
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from supportgroup.attendance import services as attendance
from supportgroup.attendance.reports import minutes_present
from supportgroup.models import Attendance, MeetingState, MembershipStatus, Role, utcnow
from tests.chat_helpers import join
from tests.conftest import is_savepoint


def stays(db, meeting=None):
    db.session.expire_all()
    query = select(Attendance).order_by(Attendance.id)
    if meeting is not None:
        query = query.where(Attendance.meeting_id == meeting.id)
    return list(db.session.scalars(query))


@contextmanager
def count_queries(db):
    statements = []

    def before(_conn, _cursor, statement, _params, _context, _many):
        if not is_savepoint(statement):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


def add_stay(db, meeting, membership, start_minute, end_minute):
    db.session.add(
        Attendance(
            meeting_id=meeting.id,
            membership_id=membership.id,
            joined_at=meeting.starts_at + timedelta(minutes=start_minute),
            left_at=meeting.starts_at + timedelta(minutes=end_minute),
        )
    )
    db.session.commit()


# --- recording -------------------------------------------------------------------------------------------


def test_join_and_leave_record_one_closed_stay(factory, socket_client, db):
    scene = factory.scene()
    alice = socket_client("alice")
    before = utcnow()
    join(alice, scene.meeting)
    [stay] = stays(db)
    assert stay.membership_id == scene.memberships["alice"].id and stay.meeting_id == scene.meeting.id
    assert stay.left_at is None
    assert alice.emit("leave", {"meeting_id": scene.meeting.id}, callback=True)["ok"]
    after = utcnow()
    [stay] = stays(db)
    assert before <= stay.joined_at <= stay.left_at <= after


def test_joining_twice_on_one_socket_keeps_one_stay(factory, socket_client, db):
    scene = factory.scene()
    alice = socket_client("alice")
    join(alice, scene.meeting)
    join(alice, scene.meeting)
    assert len(stays(db)) == 1


def test_two_sockets_of_one_member_count_once(factory, socket_client, db):
    scene = factory.scene()
    first, second = socket_client("alice"), socket_client("alice")
    join(first, scene.meeting)
    join(second, scene.meeting)
    [stay] = stays(db)
    assert stay.left_at is None
    first.emit("leave", {"meeting_id": scene.meeting.id}, callback=True)
    [stay] = stays(db)
    assert stay.left_at is None, "the member is still there on the other socket"
    second.disconnect()
    [stay] = stays(db)
    assert stay.left_at is not None


def test_disconnect_closes_the_stay(factory, socket_client, db):
    scene = factory.scene()
    alice, bob = socket_client("alice"), socket_client("bob")
    join(alice, scene.meeting)
    join(bob, scene.meeting)
    alice.disconnect()
    by_member = {s.membership_id: s for s in stays(db)}
    assert by_member[scene.memberships["alice"].id].left_at is not None
    assert by_member[scene.memberships["bob"].id].left_at is None


def test_leaving_and_coming_back_is_a_second_stay(factory, socket_client, db):
    scene = factory.scene()
    alice = socket_client("alice")
    join(alice, scene.meeting)
    alice.emit("leave", {"meeting_id": scene.meeting.id}, callback=True)
    join(alice, scene.meeting)
    rows = stays(db)
    assert len(rows) == 2 and rows[0].left_at is not None and rows[1].left_at is None


def test_refused_join_records_nothing(factory, socket_client, db):
    scene = factory.scene()
    scene.memberships["alice"].status = MembershipStatus.REMOVED
    db.session.commit()
    ack = socket_client("alice").emit("join", {"meeting_id": scene.meeting.id}, callback=True)
    assert ack["ok"] is False
    ack = socket_client("eve").emit("join", {"meeting_id": scene.meeting.id}, callback=True)
    assert ack["ok"] is False
    assert stays(db) == []


def test_disconnect_after_logout_still_closes_the_stay(factory, socket_client, login_client, app, db):
    """On disconnect current_user may be anonymous: the socket's own data closes the stay."""
    from tests.conftest import AuthActions, socket_test_client

    scene = factory.scene()
    http = login_client("alice")
    sio = socket_test_client(app, http)
    join(sio, scene.meeting)
    AuthActions(http).logout()
    if sio.is_connected():
        sio.disconnect()
    [stay] = stays(db)
    assert stay.left_at is not None


def test_closing_a_meeting_closes_open_stays(factory, socket_client, db):
    scene = factory.scene()
    join(socket_client("alice"), scene.meeting)
    join(socket_client("expert"), scene.meeting)
    scene.meeting.state = MeetingState.CLOSED
    scene.meeting.closed_at = utcnow()
    assert attendance.close_open_attendance(scene.meeting) == 2
    db.session.commit()
    closed_at = scene.meeting.closed_at
    assert all(s.left_at == closed_at for s in stays(db))
    assert attendance.close_open_attendance(scene.meeting) == 0


def test_minutes_present_counts_overlaps_once():
    start = utcnow()
    spans = [
        (start, start + timedelta(minutes=30)),
        (start + timedelta(minutes=20), start + timedelta(minutes=40)),
        (start + timedelta(minutes=60), start + timedelta(minutes=65)),
    ]
    assert minutes_present(spans) == 45
    assert minutes_present([]) == 0


# --- reports ---------------------------------------------------------------------------------------------


@pytest.fixture
def held(factory, db):
    """A closed meeting an hour ago: alice stayed 45 minutes (in two stays), bob was absent, the expert came."""
    scene = factory.scene()
    meeting = scene.meeting
    meeting.starts_at = utcnow() - timedelta(hours=2)
    meeting.state = MeetingState.CLOSED
    meeting.closed_at = meeting.starts_at + timedelta(minutes=90)
    for membership in scene.group.memberships:  # members since yesterday: they could attend
        membership.created_at = utcnow() - timedelta(days=1)
    db.session.commit()
    add_stay(db, meeting, scene.memberships["alice"], 5, 35)
    add_stay(db, meeting, scene.memberships["alice"], 40, 55)
    expert_membership = next(m for m in scene.group.memberships if m.is_moderator)
    add_stay(db, meeting, expert_membership, 0, 90)
    scene.alias = {name: m.alias for name, m in scene.memberships.items()}
    return scene


def test_coordinator_sees_names_and_minutes(held, login_client):
    page = login_client("coord").get(f"/attendance/meetings/{held.meeting.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert held.alias["alice"] in html and "Sam" in html
    row = re.search(rf"{re.escape(held.alias['alice'])}.*?</tr>", html, re.S).group(0)
    assert '<td class="num">45</td>' in row
    absent = re.search(r'<ul class="list" id="absent">(.*?)</ul>', html, re.S).group(1)
    assert held.alias["bob"] in absent and held.alias["alice"] not in absent
    assert re.search(r'id="participants-present">1<', html)
    assert re.search(r'id="active-participants">2<', html)
    for username in ("alice", "bob", "expert"):
        assert f">{username}<" not in html


def test_coordinator_sees_a_member_over_time(held, login_client, factory, db):
    later = factory.meeting(held.group, MeetingState.CLOSED, starts_in=-timedelta(minutes=30), title="Later")
    assert later.id
    coord = login_client("coord")
    html = coord.get(f"/attendance/members/{held.memberships['alice'].id}").get_data(as_text=True)
    assert held.alias["alice"] in html
    assert re.search(r'id="attended">1<', html) and re.search(r'id="missed">1<', html)
    bob = coord.get(f"/attendance/members/{held.memberships['bob'].id}").get_data(as_text=True)
    assert re.search(r'id="attended">0<', bob) and re.search(r'id="missed">2<', bob)


def test_peer_expert_of_the_group_sees_counts_only(held, login_client):
    expert = login_client("expert")
    page = expert.get(f"/attendance/meetings/{held.meeting.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert re.search(r'id="participants-present">1<', html)
    assert re.search(r'id="active-participants">2<', html)
    assert held.alias["bob"] not in html and held.alias["alice"] not in html
    assert 'id="absent"' not in html
    chart = expert.get(f"/attendance/groups/{held.group.id}")
    assert chart.status_code == 200
    chart_html = chart.get_data(as_text=True)
    assert "<svg" in chart_html
    assert held.alias["bob"] not in chart_html and held.alias["alice"] not in chart_html
    # One member's history is for coordinators only.
    assert expert.get(f"/attendance/members/{held.memberships['alice'].id}").status_code == 404


def test_peer_expert_of_another_group_is_refused(held, factory, login_client):
    other = factory.group("Other group")
    factory.moderator(other, factory.user("expert2", Role.PEER_EXPERT, first_name="Kim"))
    http = login_client("expert2")
    assert http.get(f"/attendance/meetings/{held.meeting.id}").status_code == 404
    assert http.get(f"/attendance/groups/{held.group.id}").status_code == 404
    assert http.get(f"/attendance/members/{held.memberships['alice'].id}").status_code == 404
    # Their own group's chart is fine.
    assert http.get(f"/attendance/groups/{other.id}").status_code == 200


def test_peer_expert_whose_training_lapsed_is_refused(held, login_client, db):
    held.expert.profile.trained = False
    db.session.commit()
    assert login_client("expert").get(f"/attendance/groups/{held.group.id}").status_code == 404


def test_participants_never_see_attendance(held, login_client):
    for username in ("alice", "bob", "eve"):
        http = login_client(username)
        for path in (
            f"/attendance/meetings/{held.meeting.id}",
            f"/attendance/groups/{held.group.id}",
            f"/attendance/members/{held.memberships['alice'].id}",
            f"/attendance/members/{held.memberships['bob'].id}",
        ):
            response = http.get(path)
            assert response.status_code == 404, (username, path)
            html = response.get_data(as_text=True)
            assert held.alias["alice"] not in html and held.alias["bob"] not in html
        home = http.get("/home").get_data(as_text=True)
        assert "/attendance/" not in home
        others = [alias for name, alias in held.alias.items() if name != username]
        assert not any(alias in home for alias in others)


def test_anonymous_visitors_are_sent_to_login(held, client):
    response = client.get(f"/attendance/groups/{held.group.id}")
    assert response.status_code in (302, 401)


def test_unknown_ids_are_not_found(held, login_client):
    coord = login_client("coord")
    for path in ("/attendance/meetings/999999", "/attendance/groups/999999", "/attendance/members/999999"):
        assert coord.get(path).status_code == 404


# --- the chart -------------------------------------------------------------------------------------------


def make_history(factory, db, group, memberships, counts):
    """Closed meetings a week apart, oldest first, with `counts[i]` of `memberships` present in meeting i."""
    meetings = []
    for i, count in enumerate(counts):
        meeting = factory.meeting(
            group, MeetingState.CLOSED, starts_in=-timedelta(days=7 * (len(counts) - i)), title=f"Week {i}"
        )
        for membership in memberships[:count]:
            db.session.add(
                Attendance(
                    meeting_id=meeting.id,
                    membership_id=membership.id,
                    joined_at=meeting.starts_at,
                    left_at=meeting.starts_at + timedelta(minutes=60),
                )
            )
        meetings.append(meeting)
    db.session.commit()
    return meetings


def svg_of(html):
    match = re.search(r"<svg\b.*?</svg>", html, re.S)
    assert match, "no inline SVG"
    return match.group(0)


def test_group_chart_is_an_accessible_svg_whose_numbers_match(factory, login_client, db):
    scene = factory.scene(MeetingState.CANCELLED)  # a cancelled meeting is not on the chart
    people = [scene.memberships["alice"], scene.memberships["bob"]]
    counts = [2, 0, 1, 2]
    meetings = make_history(factory, db, scene.group, people, counts)
    # Someone joining twice in one meeting counts once.
    db.session.add(
        Attendance(
            meeting_id=meetings[2].id,
            membership_id=people[0].id,
            joined_at=meetings[2].starts_at + timedelta(minutes=70),
            left_at=meetings[2].starts_at + timedelta(minutes=80),
        )
    )
    db.session.commit()
    for username in ("coord", "expert"):
        response = login_client(username).get(f"/attendance/groups/{scene.group.id}")
        assert response.status_code == 200
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        html = response.get_data(as_text=True)
        svg = svg_of(html)
        assert "<script" not in svg.lower() and "style=" not in svg.lower() and "on" + "load" not in svg.lower()
        assert "<title" in svg and "<desc" in svg and 'role="img"' in svg
        assert [int(n) for n in re.findall(r'data-count="(\d+)"', svg)] == counts
        assert [int(n) for n in re.findall(r'<text class="value"[^>]*>(\d+)</text>', svg)] == counts
        assert [int(n) for n in re.findall(r'<td class="num participants">(\d+)</td>', html)] == counts
        assert [int(n) for n in re.findall(r'data-meeting="(\d+)"', svg)] == [m.id for m in meetings]
        # Taller bar for more people.
        heights = [float(h) for h in re.findall(r'<rect [^>]*height="([\d.]+)"', svg)]
        assert heights[0] == heights[3] > heights[2] > heights[1] == 0
        assert scene.memberships["alice"].alias not in html


def test_group_chart_without_meetings(factory, login_client):
    scene = factory.scene(MeetingState.SCHEDULED)
    scene.meeting.starts_at = utcnow() + timedelta(days=3)
    from supportgroup.extensions import db

    db.session.commit()
    html = login_client("coord").get(f"/attendance/groups/{scene.group.id}").get_data(as_text=True)
    assert "<svg" not in html


def queries_for(db, http, path):
    http.get(path)  # warm up (login reload, lazy loads that happen once per process)
    with count_queries(db) as statements:
        assert http.get(path).status_code == 200
    return len(statements)


def test_group_chart_queries_do_not_grow_with_meetings(factory, login_client, db):
    scene = factory.scene(MeetingState.CANCELLED)
    people = [scene.memberships["alice"], scene.memberships["bob"]]
    make_history(factory, db, scene.group, people, [2, 1, 0])
    big = factory.group("Big group")
    big_people = [factory.member(big, factory.user(f"member{n:02d}")) for n in range(6)]
    make_history(factory, db, big, big_people, [n % 7 for n in range(20)])
    coord = login_client("coord")
    small_count = queries_for(db, coord, f"/attendance/groups/{scene.group.id}")
    big_count = queries_for(db, coord, f"/attendance/groups/{big.id}")
    assert small_count == big_count
    assert small_count <= 6


def test_meeting_and_member_report_queries_are_fixed(factory, login_client, db):
    scene = factory.scene(MeetingState.CANCELLED)
    few = make_history(factory, db, scene.group, [scene.memberships["alice"], scene.memberships["bob"]], [2, 1, 0])
    big = factory.group("Big group", capacity=30)
    people = [factory.member(big, factory.user(f"member{n:02d}")) for n in range(20)]
    many = make_history(factory, db, big, people, [20] * 20)
    coord = login_client("coord")
    assert queries_for(db, coord, f"/attendance/meetings/{few[0].id}") == queries_for(
        db, coord, f"/attendance/meetings/{many[0].id}"
    )
    assert queries_for(db, coord, f"/attendance/members/{scene.memberships['alice'].id}") == queries_for(
        db, coord, f"/attendance/members/{people[0].id}"
    )


def test_closing_the_meeting_ends_open_stays(factory, socket_client, login_client, db):
    from supportgroup.models import Attendance
    from tests.conftest import csrf_token

    scene = factory.scene()
    alice = socket_client("alice")
    join(alice, scene.meeting)
    expert = login_client("expert")
    page = f"/meetings/{scene.meeting.id}"
    expert.post(f"{page}/close", data={"csrf_token": csrf_token(expert, page)})
    stays = db.session.query(Attendance).filter_by(membership_id=scene.memberships["alice"].id).all()
    assert len(stays) == 1 and stays[0].left_at is not None
