"""Operations commands."""

from supportgroup.models import Group, Meeting, MeetingState, Membership, Role, User
from tests.chat_helpers import join


def test_create_user_asks_for_the_password(runner, db):
    result = runner.invoke(
        args=["create-user", "Coordinator2", "--role", "coordinator"],
        input="a long enough password\na long enough password\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.query(User).one()
    assert (user.username, user.role) == ("coordinator2", Role.COORDINATOR)
    assert "a long enough password" not in result.output.replace("Password", "")


def test_seed_demo_refuses_to_run_in_production(backend, redis_prefix):
    from config import ProductionConfig
    from tests.conftest import make_app

    class Production(ProductionConfig):
        SECRET_KEY = "x" * 40

    app = make_app(backend, redis_prefix)
    app.config["ENV_NAME"] = Production.ENV_NAME
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code != 0 and "development" in result.output


def test_create_user_makes_a_peer_expert_profile(runner, db):
    result = runner.invoke(
        args=[
            "create-user",
            "noor",
            "--role",
            "peer_expert",
            "--first-name",
            "Noor",
            "--trained",
            "--password",
            "a long enough password",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.query(User).one()
    assert user.profile.first_name == "Noor" and user.profile.trained


def test_create_user_refuses_bad_input_cleanly(runner, db, factory):
    factory.user("taken")
    for args in (["taken"], ["x"], ["fine-name", "--role", "king"]):
        result = runner.invoke(args=["create-user", *args, "--password", "a long enough password"])
        assert result.exit_code != 0
        assert "Traceback" not in result.output
    assert runner.invoke(args=["create-user", "shortpw", "--password", "short"]).exit_code != 0
    assert db.session.query(User).count() == 1


def test_seed_demo_is_idempotent(runner, db, app):
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    counts = [db.session.query(model).count() for model in (User, Group, Membership, Meeting)]
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0, second.output
    assert [db.session.query(model).count() for model in (User, Group, Membership, Meeting)] == counts
    assert counts[0] == 10 and counts[1] == 2


def test_seed_demo_content(runner, db):
    runner.invoke(args=["seed-demo"])
    usernames = {u.username for u in db.session.query(User)}
    assert usernames == {"admin", "coordinator", "expert1", "expert2", *(f"participant{n}" for n in range(1, 7))}
    for group in db.session.query(Group):
        members = db.session.query(Membership).filter_by(group_id=group.id).all()
        assert sum(m.is_moderator for m in members) == 1 and sum(not m.is_moderator for m in members) == 3
        states = [m.state for m in db.session.query(Meeting).filter_by(group_id=group.id)]
        assert MeetingState.OPEN in states and states.count(MeetingState.SCHEDULED) >= 1
    expert1 = db.session.query(User).filter_by(username="expert1").one()
    participant1 = db.session.query(User).filter_by(username="participant1").one()
    group_of = {m.user_id: m.group_id for m in db.session.query(Membership)}
    assert group_of[expert1.id] == group_of[participant1.id]


def test_demo_password_logs_in(runner, app, auth):
    runner.invoke(args=["seed-demo"])
    assert auth.login("participant1", app.config["DEMO_PASSWORD"]).status_code == 302


def test_the_demo_admin_logs_in_with_the_password_alone_and_opens_the_accounts(runner, app, login_client, db):
    runner.invoke(args=["seed-demo"])
    admin = db.session.query(User).filter_by(username="admin").one()
    assert admin.role == Role.ADMIN and admin.is_enabled
    http = login_client("admin", app.config["DEMO_PASSWORD"])
    assert http.get("/admin/accounts").status_code == 200


def test_demo_chat_works_at_once_between_expert1_and_participant1(runner, app, db):
    from tests.conftest import AuthActions, socket_test_client

    runner.invoke(args=["seed-demo"])
    meeting = (
        db.session.query(Meeting)
        .filter_by(state=MeetingState.OPEN)
        .join(Meeting.group)
        .filter(Group.name == "Verder zonder geweld")
        .one()
    )
    sockets = {}
    for name in ("expert1", "participant1"):
        http = app.test_client()
        assert AuthActions(http).login(name, app.config["DEMO_PASSWORD"]).status_code == 302
        sockets[name] = socket_test_client(app, http)
        join(sockets[name], meeting)
    ack = sockets["participant1"].emit(
        "send", {"meeting_id": meeting.id, "client_id": "demo-0001", "text": "Hallo"}, callback=True
    )
    assert ack["ok"]
    got = [p["args"] for p in sockets["expert1"].get_received() if p["name"] == "message"]
    assert [m["text"] for m in got] == ["Hallo"]


def test_seed_demo_forced_outside_development_gives_no_staff_account_a_known_password(backend, redis_prefix):
    """`seed-demo --force` in production: no demo admin, and the coordinator and peer experts await activation
    (a known password opens no staff account); the demo participants and groups are there."""
    from supportgroup.auth import services
    from supportgroup.auth.accounts import is_awaiting_activation
    from supportgroup.extensions import db
    from tests.conftest import make_app

    app = make_app(backend, redis_prefix)
    app.config["ENV_NAME"] = "production"
    result = app.test_cli_runner().invoke(args=["seed-demo", "--force"])
    assert result.exit_code == 0, result.output
    assert "No demo admin was made." in result.output
    with app.app_context():
        users = {u.username: u for u in db.session.query(User)}
        assert "admin" not in users and db.session.query(Group).count() == 2
        for name in ("coordinator", "expert1", "expert2"):
            assert is_awaiting_activation(users[name])
            assert services.authenticate(name, app.config["DEMO_PASSWORD"]) is None
        assert services.authenticate("participant1", app.config["DEMO_PASSWORD"]) is not None
