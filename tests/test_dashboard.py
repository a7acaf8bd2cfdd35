"""The coordinator's overview: what needs attention, in a fixed number of queries."""

from sqlalchemy import event

from supportgroup.models import MembershipStatus
from tests.conftest import is_savepoint


def count_queries(db, call):
    statements = []
    listener = lambda *args: is_savepoint(args[2]) or statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        call()
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return len(statements)


def test_coordinator_sees_groups_requests_and_the_coming_week(factory, login_client, db):
    scene = factory.scene()
    scene.group.open_for_requests = True
    waiting = factory.user("newcomer")
    membership = factory.member(scene.group, waiting)
    membership.status = MembershipStatus.PENDING
    db.session.commit()
    html = login_client("coord").get("/home").get_data(as_text=True)
    assert scene.group.name in html and "Sam" in html
    assert "Test group: 1 request to join to approve." in html  # under "Needs attention"
    assert scene.meeting.title in html
    assert f"/attendance/groups/{scene.group.id}" in html


def test_participants_and_peer_experts_keep_their_own_home(factory, login_client):
    scene = factory.scene()
    for name in ("alice", "expert"):
        html = login_client(name).get("/home").get_data(as_text=True)
        assert "Overview" not in html and scene.group.name in html


def test_overview_uses_a_fixed_number_of_queries(factory, login_client, db):
    scene = factory.scene()
    http = login_client("coord")
    few = count_queries(db, lambda: http.get("/home"))
    for n in range(8):
        group = factory.group(f"group {n}")
        factory.moderator(group, scene.expert)
        factory.member(group, factory.user(f"member{n}"))
        factory.meeting(group, title=f"m{n}")
    many = count_queries(db, lambda: http.get("/home"))
    assert few == many
