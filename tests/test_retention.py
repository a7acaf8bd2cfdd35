"""Retention: transcripts of closed meetings are hard-deleted after their group's retention period."""

from datetime import timedelta

from supportgroup import periodic
from supportgroup.models import (
    Alert,
    HandoverNote,
    Incident,
    Meeting,
    MeetingState,
    Message,
    Report,
    SafetyCheck,
    utcnow,
)
from supportgroup.safety.retention import purge


def _transcript(db, meeting, author, reporter, tag):
    """Messages of every status in `meeting`, with a report and an alert on the first."""
    rows = [
        Message(
            meeting_id=meeting.id, seq=1, author_membership_id=author.id, client_id=f"{tag}-1", text=f"{tag} visible"
        ),
        Message(
            meeting_id=meeting.id,
            seq=2,
            author_membership_id=author.id,
            client_id=f"{tag}-2",
            text=f"{tag} deleted",
            deleted_at=utcnow(),
        ),
        Message(
            meeting_id=meeting.id,
            seq=3,
            author_membership_id=author.id,
            client_id=f"{tag}-3",
            text=f"{tag} pending",
            status="pending",
            held_reason="premoderation",
        ),
        Message(
            meeting_id=meeting.id,
            seq=4,
            author_membership_id=author.id,
            client_id=f"{tag}-4",
            text=f"{tag} rejected",
            status="rejected",
        ),
    ]
    db.session.add_all(rows)
    db.session.flush()
    db.session.add(
        Report(meeting_id=meeting.id, message_id=rows[0].id, reporter_membership_id=reporter.id, reason="report")
    )
    db.session.add(Alert(meeting_id=meeting.id, message_id=rows[0].id, category="danger"))
    db.session.add(SafetyCheck(meeting_id=meeting.id, membership_id=reporter.id))
    db.session.commit()
    return rows


def _meeting(factory, db, group, state, closed_days_ago=None):
    meeting = factory.meeting(group, state)
    if closed_days_ago is not None:
        meeting.closed_at = utcnow() - timedelta(days=closed_days_ago)
        meeting.starts_at = meeting.closed_at - timedelta(hours=2)
    db.session.commit()
    return meeting


def _texts(db):
    return {m.text for m in db.session.query(Message)}


def test_purge_deletes_expired_transcripts_and_keeps_the_rest(factory, db):
    scene = factory.scene(MeetingState.CLOSED)
    alice, bob = scene.memberships["alice"], scene.memberships["bob"]
    group = scene.group
    old = _meeting(factory, db, group, MeetingState.CLOSED, closed_days_ago=31)
    recent = _meeting(factory, db, group, MeetingState.CLOSED, closed_days_ago=29)
    still_open = _meeting(factory, db, group, MeetingState.OPEN)
    still_open.starts_at = utcnow() - timedelta(days=60)  # open for ever: never purged while open
    db.session.commit()
    _transcript(db, old, alice, bob, "old")
    _transcript(db, recent, alice, bob, "recent")
    _transcript(db, still_open, alice, bob, "open")

    counts = purge()
    db.session.commit()

    assert counts["messages"] == 4 and counts["reports"] == 1 and counts["alerts"] == 1
    assert counts["safety_checks"] == 1
    texts = _texts(db)
    assert not any(t.startswith("old") for t in texts)
    assert {t.split()[0] for t in texts} == {"recent", "open"} and len(texts) == 8
    assert db.session.query(Report).filter_by(meeting_id=old.id).count() == 0
    assert db.session.query(Alert).filter_by(meeting_id=old.id).count() == 0
    assert db.session.query(SafetyCheck).filter_by(meeting_id=old.id).count() == 0
    assert db.session.query(Report).count() == 2 and db.session.query(Alert).count() == 2
    assert db.session.get(Meeting, old.id) is not None  # the meeting itself (schedule, attendance) stays

    # A second run finds nothing more to do.
    assert set(purge().values()) == {0}


def test_the_period_is_the_groups_own(factory, db):
    scene = factory.scene(MeetingState.CLOSED)
    alice, bob = scene.memberships["alice"], scene.memberships["bob"]
    scene.group.retention_days = 7
    db.session.commit()
    eight_days = _meeting(factory, db, scene.group, MeetingState.CLOSED, closed_days_ago=8)
    six_days = _meeting(factory, db, scene.group, MeetingState.CLOSED, closed_days_ago=6)
    _transcript(db, eight_days, alice, bob, "eight")
    _transcript(db, six_days, alice, bob, "six")

    other = factory.group("Other group")
    carol = factory.member(other, factory.user("carol"))
    dave = factory.member(other, factory.user("dave"))
    other_old = _meeting(factory, db, other, MeetingState.CLOSED, closed_days_ago=8)  # default: 30 days
    _transcript(db, other_old, carol, dave, "other")

    purge()
    db.session.commit()
    assert {t.split()[0] for t in _texts(db)} == {"six", "other"}


def test_incidents_follow_their_own_period(factory, db, app):
    scene = factory.scene(MeetingState.CLOSED)
    old = _meeting(factory, db, scene.group, MeetingState.CLOSED, closed_days_ago=100)
    snapshot = [{"id": 1, "author": "Quiet Heron", "text": "kept for safeguarding", "created_at": "x"}]
    kept = Incident(
        group_id=scene.group.id,
        meeting_id=old.id,
        note="n",
        snapshot=snapshot,
        created_at=utcnow() - timedelta(days=100),
    )
    expired = Incident(
        group_id=scene.group.id,
        meeting_id=old.id,
        note="n",
        snapshot=snapshot,
        created_at=utcnow() - timedelta(days=366),
    )
    db.session.add_all([kept, expired])
    db.session.commit()
    kept_id = kept.id

    counts = purge()
    db.session.commit()
    assert counts["incidents"] == 1
    assert [i.id for i in db.session.query(Incident)] == [kept_id]

    app.config["INCIDENT_RETENTION_DAYS"] = 90
    assert purge()["incidents"] == 1
    db.session.commit()
    assert db.session.query(Incident).count() == 0


def test_handover_notes_older_than_the_period_go(factory, db):
    scene = factory.scene(MeetingState.CLOSED)
    db.session.add_all(
        [
            HandoverNote(group_id=scene.group.id, note="old note", created_at=utcnow() - timedelta(days=31)),
            HandoverNote(group_id=scene.group.id, note="new note", created_at=utcnow() - timedelta(days=2)),
        ]
    )
    db.session.commit()
    assert purge()["handover_notes"] == 1
    db.session.commit()
    assert [n.note for n in db.session.query(HandoverNote)] == ["new note"]


def test_purge_uses_the_given_time(factory, db):
    scene = factory.scene(MeetingState.CLOSED)
    meeting = _meeting(factory, db, scene.group, MeetingState.CLOSED, closed_days_ago=1)
    _transcript(db, meeting, scene.memberships["alice"], scene.memberships["bob"], "m")
    assert purge()["messages"] == 0
    assert purge(now=utcnow() + timedelta(days=30))["messages"] == 4
    db.session.commit()
    assert db.session.query(Message).count() == 0


def test_purge_command_prints_counts_and_no_content(runner, factory, db):
    scene = factory.scene(MeetingState.CLOSED)
    old = _meeting(factory, db, scene.group, MeetingState.CLOSED, closed_days_ago=40)
    _transcript(db, old, scene.memberships["alice"], scene.memberships["bob"], "secret-words")

    result = runner.invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    assert "messages=4" in result.output and "reports=1" in result.output and "alerts=1" in result.output
    assert "secret-words" not in result.output
    db.session.expire_all()
    assert db.session.query(Message).count() == 0  # committed


def test_background_job_runs_purge_and_commits(app, factory, db, monkeypatch):
    from supportgroup.safety import retention

    scene = factory.scene(MeetingState.CLOSED)
    old = _meeting(factory, db, scene.group, MeetingState.CLOSED, closed_days_ago=40)
    _transcript(db, old, scene.memberships["alice"], scene.memberships["bob"], "job")

    started = []

    def fake_start(target, *args, **kwargs):
        started.append(target)

    monkeypatch.setattr(periodic.socketio, "start_background_task", fake_start)
    retention.start_purge_job(app)
    assert len(started) == 1
    retention.start_purge_job(app)  # once per app
    assert len(started) == 1

    counts = retention.run_purge_once(app)  # what each round of the loop does
    assert counts["messages"] == 4
    db.session.expire_all()
    assert db.session.query(Message).count() == 0
