"""`/healthz` and `/readyz` for load balancers, and the migration that every process runs at boot.

The endpoints answer an unauthenticated client without a cookie, are never cached, and a failure says
which check failed but nothing about addresses, connection strings or exceptions.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import uuid

import pytest
from sqlalchemy import create_engine, event, text

from supportgroup.extensions import db as _db
from supportgroup.health.boot import MIGRATION_LOCK
from tests.conftest import make_app
from tests.live import ROOT, app_env, free_port


def _assert_uncached_and_cookieless(response) -> None:
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


def test_healthz_answers_without_touching_the_database(app, client):
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731  (conn, cursor, statement, ...)
    event.listen(_db.engine, "before_cursor_execute", listener)
    try:
        response = client.get("/healthz")
    finally:
        event.remove(_db.engine, "before_cursor_execute", listener)
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}
    _assert_uncached_and_cookieless(response)
    assert statements == []


def test_readyz_checks_the_database_and_redis(app, client, backend):
    response = client.get("/readyz")
    assert response.status_code == 200
    expected = {"database": "ok", **({"redis": "ok"} if backend.redis_url else {})}
    assert response.get_json() == {"status": "ready", "checks": expected}
    _assert_uncached_and_cookieless(response)
    assert client.head("/readyz").status_code == 200


def test_probes_are_not_rate_limited(app, client):
    """A load balancer probes every few seconds from one address, for ever."""
    for _ in range(30):
        assert client.get("/readyz").status_code == 200
        assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize("broken", ["redis", "message_queue", "database"])
def test_readyz_says_which_check_failed_and_nothing_more(backend, redis_prefix, caplog, broken):
    """A separate app whose Redis, message queue (another Redis) or database is unreachable (a closed
    port): 503, the check named."""
    port = free_port()  # bound and released at once: nothing listens there
    overrides = {}
    if broken == "redis":
        overrides["REDIS_URL"] = f"redis://127.0.0.1:{port}/13"
    elif broken == "database":
        overrides["SQLALCHEMY_DATABASE_URI"] = f"postgresql+psycopg://sg:s3cret@127.0.0.1:{port}/sg_deploy_gone"
    app = make_app(backend, redis_prefix, **overrides)
    if broken == "message_queue":
        # Set after the app is built: Flask-SocketIO's one SocketIO object would keep a queue given to
        # init_app for every later app (and its test client refuses to work with a queue).
        app.config["SOCKETIO_MESSAGE_QUEUE"] = f"redis://127.0.0.1:{port}/13"
    caplog.set_level(logging.WARNING, logger="supportgroup.health")
    try:
        response = app.test_client().get("/readyz")
        healthz = app.test_client().get("/healthz")
    finally:
        with app.app_context():
            _db.session.remove()
            _db.engine.dispose()
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable" and body["checks"][broken] == "failed"
    if broken != "database":
        assert body["checks"]["database"] == "ok"
    _assert_uncached_and_cookieless(response)
    assert healthz.status_code == 200  # liveness does not depend on the database or Redis
    raw = response.get_data(as_text=True)
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("supportgroup"))
    for secret in (str(port), "127.0.0.1", "s3cret", "sg_deploy_gone", "refused"):
        assert secret not in raw and secret not in logged
    assert "Error" not in raw and "Traceback" not in logged
    assert f"readiness check {broken} failed" in logged  # with the exception's class name only


@pytest.fixture
def fresh_schema(schema):
    """An empty PostgreSQL schema of its own, so migrating from nothing leaves the shared one alone."""
    name = f"sg_boot_{uuid.uuid4().hex[:8]}"
    engine = create_engine(schema.database_url)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {name}"))
    separator = "&" if "?" in schema.database_url else "?"
    yield f"{schema.database_url}{separator}options=-csearch_path%3D{name}", engine, name
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {name} CASCADE"))
    engine.dispose()


@pytest.mark.scaleout_only
def test_processes_starting_together_migrate_once(fresh_schema, redis_prefix):
    """Three processes run the boot migration at the same moment on an empty schema: the advisory lock
    makes them take turns, so all succeed and the schema is at the newest revision."""
    url, engine, schema = fresh_schema
    env = app_env(url, None, redis_prefix, mode="production", SECRET_KEY="boot-test-" + "k" * 32)
    command = [sys.executable, "-m", "supportgroup.health.boot"]
    runs = [
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for _ in range(3)
    ]
    outputs = [run.communicate(timeout=120)[0].decode() for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0], "\n".join(outputs)
    # Alembic logs "Running upgrade" for each revision it applies: one process applied them all.
    applied = [output.count("Running upgrade") for output in outputs]
    assert sorted(applied)[:2] == [0, 0] and sorted(applied)[2] > 0
    with engine.connect() as conn:
        version = conn.execute(text(f"SELECT version_num FROM {schema}.alembic_version")).scalar_one()
        head = conn.execute(text("SELECT version_num FROM public.alembic_version")).scalar_one()  # conftest's
        held = conn.execute(
            text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = :low"),
            {"low": MIGRATION_LOCK & 0xFFFFFFFF},
        ).scalar_one()
    assert version == head
    assert held == 0  # released when each process finished
