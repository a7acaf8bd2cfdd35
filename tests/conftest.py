"""Test fixtures: `app`, `client`, `runner`, `db`, factories, login helpers, socket clients.

Every test that uses `app` runs on each backend:
- "embedded": SQLite in a temporary file, presence and rate limits in memory;
- "scale-out": PostgreSQL (`TEST_DATABASE_URL`) with Redis (`TEST_REDIS_URL`) for presence, rate limits
  and (in the live-server tests) the Socket.IO message queue.
Without those variables the scale-out runs skip with the reason; in CI (`CI` set) they are required.
The schema is made by the migrations (so every run also proves they work), then each test starts
from empty tables: a test that runs in-process only works inside one outer transaction that is rolled back
at its end (the app's commits release savepoints, see `_rolled_back`); a test that needs really committed
data (marked `committed` or `live`, or using `live_servers`) gets the tables emptied before it instead.
"""

from __future__ import annotations

import contextlib
import contextvars
import gc
import os
import re
import socket
import threading
import types
import uuid
import weakref
from dataclasses import dataclass

import pytest
import redis as redis_lib
from flask.testing import FlaskClient
from flask_socketio.test_client import SocketIOTestClient
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import event, text
from sqlalchemy.engine import Connection

from config import TestingConfig
from supportgroup import create_app
from supportgroup.extensions import db as _db
from supportgroup.extensions import socketio

from . import live
from .factories import Factory

DEFAULT_PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Backend:
    name: str
    database_url: str
    redis_url: str | None


def _scaleout_params():
    url, redis_url = os.environ.get("TEST_DATABASE_URL"), os.environ.get("TEST_REDIS_URL")
    if url and redis_url:
        return [pytest.param("scale-out", id="postgresql+redis")]
    reason = "scale-out backend needs TEST_DATABASE_URL (PostgreSQL) and TEST_REDIS_URL (Redis); .ci/run sets both"
    if os.environ.get("CI"):
        raise pytest.UsageError(f"CI must exercise PostgreSQL and Redis: {reason}")
    return [pytest.param("scale-out", id="postgresql+redis", marks=pytest.mark.skip(reason=reason))]


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives Chromium with Playwright (runs once, on the embedded backend)")
    config.addinivalue_line(
        "markers",
        "committed: needs really committed data (background workers, a second "
        "connection, the database files): tables emptied before, not rolled back",
    )


def pytest_collection_modifyitems(config, items):
    """Tests marked `scaleout_only` (several processes) do not apply to the embedded backend, and browser
    tests (marked `browser`) run on the embedded backend only: deselect the other variants."""
    keep, drop = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("backend") if callspec is not None else None
        embedded = backend == "embedded"
        scaleout = backend == "scale-out"
        unwanted = (embedded and item.get_closest_marker("scaleout_only")) or (
            scaleout and item.get_closest_marker("browser")
        )
        (drop if unwanted else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_sessionfinish(session, exitstatus):
    """Close the sockets still open at the end of the run, as the process's exit would, and say how many.

    Each test closes what it opens (apps: `_close_made_apps`), but a client kept by a library's background thread
    or a session fixture can outlive its test; the final garbage collection would then turn its ResourceWarning
    into an error of the whole run (pytest collects unraisable warnings at exit), at random."""
    left = [obj for obj in gc.get_objects() if isinstance(obj, socket.socket) and obj.fileno() != -1]
    for sock in left:
        sock.close()
    if left:
        print(f"\nconftest: closed {len(left)} socket(s) still open at the end of the run")


def _normalise_pg(url: str) -> str:
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


@pytest.fixture(scope="session", params=[pytest.param("embedded", id="sqlite"), *_scaleout_params()])
def backend(request, tmp_path_factory) -> Backend:
    if request.param == "embedded":
        path = tmp_path_factory.mktemp("db") / "test.sqlite"
        return Backend("embedded", f"sqlite:///{path}", None)
    return Backend("scale-out", _normalise_pg(os.environ["TEST_DATABASE_URL"]), os.environ["TEST_REDIS_URL"])


@pytest.fixture(scope="session")
def redis_prefix() -> str:
    return f"sgtest-{uuid.uuid4().hex[:8]}"


def isolated(call, *args, **kwargs):
    """Run `call` outside the test's app context, so it pushes its own, as a real request does.

    Flask reuses an already-pushed app context for a request; `g` (and Flask-Login's cached user)
    would then leak from one simulated request or user into the next.
    """
    return contextvars.Context().run(call, *args, **kwargs)


class IsolatedClient(FlaskClient):
    def open(self, *args, **kwargs):
        return isolated(super().open, *args, **kwargs)


class IsolatedSocketClient(SocketIOTestClient):
    def __init__(self, *args, **kwargs):
        isolated(super().__init__, *args, **kwargs)

    def connect(self, *args, **kwargs):
        return isolated(super().connect, *args, **kwargs)

    def disconnect(self, *args, **kwargs):
        return isolated(super().disconnect, *args, **kwargs)

    def emit(self, *args, **kwargs):
        return isolated(super().emit, *args, **kwargs)


def make_app(backend: Backend, redis_prefix: str, **overrides):
    config = {
        "SQLALCHEMY_DATABASE_URI": backend.database_url,
        "REDIS_URL": backend.redis_url,
        "REDIS_PREFIX": redis_prefix,
        **overrides,
    }
    app = create_app(TestingConfig, config)
    app.test_client_class = IsolatedClient
    _made_apps.append(app)
    return app


_made_apps: list = []


def _redis_clients(app) -> list[redis_lib.Redis]:
    """The Redis clients an app holds (stores, rate limits, activity stamps, ...), found by walking what its
    extensions refer to, so a new store needs no line here."""
    found, seen, todo, visits = [], set(), [(value, 0) for value in app.extensions.values()], 0
    while todo and visits < 50_000:
        obj, depth = todo.pop()
        if id(obj) in seen or depth > 8 or isinstance(obj, SKIPPED_KINDS) or obj is app:
            continue
        seen.add(id(obj))
        visits += 1
        if isinstance(obj, redis_lib.Redis):
            found.append(obj)
            continue
        todo.extend((ref, depth + 1) for ref in gc.get_referents(obj))
    return found


SKIPPED_KINDS = (str, bytes, int, float, type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType)


def close_app_connections(app) -> None:
    """Close the Redis connections and database pools an app holds. A test app dropped with open sockets leaves
    them to the garbage collector, whose ResourceWarning (an error in this suite) then lands on whichever test,
    or the session's end, happens to collect them: after a private Redis or PostgreSQL was stopped, at random."""
    uses_redis = any(str(value).startswith(("redis://", "rediss://", "unix://")) for value in app.config.values())
    for client in _redis_clients(app) if uses_redis else []:
        client.close()
        client.connection_pool.disconnect()
    with app.app_context():
        for engine in _db.engines.values():
            engine.dispose()


def close_made_apps(nodeid: str) -> None:
    """Close every app made since the last call, and forget Flask-SocketIO's test clients.

    Flask-SocketIO's test client registers each client in a class-level dict and never removes it: each client kept
    its app (and the app its engine, templates, caches) for the rest of the run. The heap grew by about 400 MB per
    thousand socket tests, and with it the cost of every later garbage collection, hence of every later test."""
    while _made_apps:
        app = _made_apps.pop()
        close_app_connections(app)
        _closed_apps.append((weakref.ref(app), nodeid))
    SocketIOTestClient.clients.clear()


# Apps of finished tests, weakly, with the test that made each: `_close_made_apps` checks that they are gone.
_closed_apps: list[tuple[weakref.ref, str]] = []
LEAK_CHECK_EVERY = 100  # closed apps; a full collection costs a few tenths of a second


def apps_outliving_their_tests() -> list[str]:
    """The tests whose apps are still alive after a full garbage collection at two checks in a row (something
    global keeps them). Call it between tests: pytest holds the running test's fixture values until its teardown
    is over. The app the global `socketio` was last given is kept until the next `init_app`: one app, not one per
    test. An app alive at one check gets one more: a background thread (a browser test's) may still hold it."""
    gc.collect()
    last = getattr(getattr(socketio, "sockio_mw", None), "flask_app", None)
    alive = [(ref, nodeid) for ref, nodeid in _closed_apps if ref() is not None and ref() is not last]
    _closed_apps.clear()
    kept = [nodeid for ref, nodeid in alive if ref in _alive_at_last_check]
    _alive_at_last_check.clear()
    _alive_at_last_check.update(ref for ref, _nodeid in alive)
    _closed_apps.extend(alive)
    return kept


_alive_at_last_check: set[weakref.ref] = set()


@pytest.fixture(autouse=True)
def _close_made_apps(request):
    """Every app a test made (the `app` fixture's and any `make_app` of its own) is closed after it, and every
    `LEAK_CHECK_EVERY` apps those of the earlier tests must be gone: a kept app slows every later test."""
    if len(_closed_apps) >= LEAK_CHECK_EVERY:
        kept = apps_outliving_their_tests()
        assert not kept, f"{len(kept)} app(s) outlived their tests (something global keeps them): {kept[:5]}"
    yield
    close_made_apps(request.node.nodeid)


def socket_test_client(app, http_client=None) -> IsolatedSocketClient:
    return IsolatedSocketClient(app, socketio, flask_test_client=http_client or app.test_client())


@pytest.fixture(scope="session")
def schema(backend, redis_prefix):
    """Build the schema once per backend by running the migrations on an empty database."""
    from flask_migrate import upgrade

    app = make_app(backend, redis_prefix)
    with app.app_context():
        if backend.name == "scale-out":
            with _db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade()
        _db.engine.dispose()
    return backend


def _empty_tables() -> None:
    tables = [t.name for t in reversed(_db.metadata.sorted_tables)]
    with _db.engine.begin() as conn:
        if _db.engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))


_SAVEPOINT = re.compile(r"(SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT) ", re.IGNORECASE)


def is_savepoint(statement: str) -> bool:
    """A savepoint of the test's outer transaction (`_rolled_back`), not the app's: statement counts skip it."""
    return _SAVEPOINT.match(statement) is not None


# Per backend: True when a test committed rows that are still there (the next test empties the tables first).
_tables_dirty: dict[str, bool] = {}


def _needs_commits(request) -> bool:
    """Live servers, background workers, a second connection or the database files need committed data."""
    node = request.node
    return bool(
        node.get_closest_marker("committed")
        or node.get_closest_marker("live")
        or node.get_closest_marker("browser")
        or {"live_servers", "live"} & set(request.fixturenames)
    )


class _JoinedSession(FlaskSession):
    """A session on the test's one connection. Flask-SQLAlchemy's session picks the app's engine even when the
    session was given a connection: use the connection. A session opened in another thread (a background task)
    would share that connection across threads: it is noted, and the test fails (mark it `committed`)."""

    owner_thread: int = 0
    foreign_threads: list[str]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if threading.get_ident() != self.owner_thread:
            self.foreign_threads.append(threading.current_thread().name)

    def get_bind(self, *args, **kwargs):
        return self.bind if self.bind is not None else super().get_bind(*args, **kwargs)


def _sqlite_savepoints(engine) -> None:
    """pysqlite begins transactions by itself and not before a SAVEPOINT: leave BEGIN to SQLAlchemy (as
    SQLAlchemy's docs on SAVEPOINT with pysqlite say), so the outer transaction really holds the savepoints."""

    @event.listens_for(engine, "connect")
    def _no_driver_transactions(dbapi_connection, _record):
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN")

    engine.dispose()  # a connection made before the listeners would keep pysqlite's handling


def _reset_sequences(conn: Connection) -> None:
    """PostgreSQL sequences are not rolled back: start the ids at 1 again, as TRUNCATE ... RESTART IDENTITY did."""
    names = (
        conn.execute(
            text(
                "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename) "
                "FROM pg_sequences WHERE schemaname = current_schema()"
            )
        )
        .scalars()
        .all()
    )
    if names:
        conn.execute(text("SELECT " + ", ".join(f"setval('{name}', 1, false)" for name in names)))


@contextlib.contextmanager
def _rolled_back():
    """Everything the test writes happens inside one outer transaction, rolled back at the end.

    The session joins that transaction with `join_transaction_mode="create_savepoint"` (SQLAlchemy's recipe for
    test suites): the app's `db.session.commit()` releases a savepoint, its rollback returns to one.

    One trap: a simulated request's savepoint may sit inside one the test's own session holds open, so a
    `db.session.rollback()` or `remove()` in the test after a request also undoes what the request committed.
    To check what a request kept, read again with `db.session.expire_all()`, never after a rollback."""
    from supportgroup.safety import scrub

    engine = _db.engine
    if engine.dialect.name == "sqlite":
        _sqlite_savepoints(engine)
    connection = engine.connect()
    outer = connection.begin()
    if engine.dialect.name == "postgresql":
        _reset_sequences(connection)
    session_class = type(
        "TestSession", (_JoinedSession,), {"owner_thread": threading.get_ident(), "foreign_threads": []}
    )
    app_session = _db.session
    _db.session = _db._make_scoped_session(
        {"bind": connection, "join_transaction_mode": "create_savepoint", "class_": session_class}
    )
    # Nothing reaches the database files, so there is nothing to checkpoint or vacuum, and both would wait on the
    # outer transaction's locks from another connection: a checkpoint on SQLite's, PostgreSQL's VACUUM 5 s per
    # table whose empty end it tries to cut off (its truncation lock). Tests of the files are `committed`.
    request_checkpoint, scrub.Checkpointer.request = scrub.Checkpointer.request, lambda self: None
    vacuum, scrub.vacuum = scrub.vacuum, lambda engine: None
    try:
        yield
    finally:
        scrub.Checkpointer.request = request_checkpoint
        scrub.vacuum = vacuum
        _db.session.remove()
        _db.session = app_session
        if outer.is_active:
            outer.rollback()
        connection.close()
    assert not session_class.foreign_threads, (
        f"a background task ({session_class.foreign_threads}) used the database: mark the test `committed`"
    )


def _flush_redis(url: str | None, prefix: str) -> None:
    if not url:
        return
    client = redis_lib.Redis.from_url(url)
    keys = list(client.scan_iter(f"{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def app_overrides() -> dict:
    """Override in a test module (or with `@pytest.mark.parametrize`) to change config for `app`."""
    return {}


@pytest.fixture
def app(request, schema, redis_prefix, app_overrides):
    app = make_app(schema, redis_prefix, **app_overrides)
    committed = _needs_commits(request)
    with app.app_context():
        if committed or _tables_dirty.get(schema.name, True):
            _empty_tables()
        _tables_dirty[schema.name] = committed
        _flush_redis(schema.redis_url, redis_prefix)
        live.rolled_back_test = None if committed else request.node.nodeid
        try:
            with contextlib.nullcontext() if committed else _rolled_back():
                yield app
        finally:
            live.rolled_back_test = None
        _db.session.remove()
        _db.engine.dispose()
    _flush_redis(schema.redis_url, redis_prefix)


@pytest.fixture(autouse=True)
def _outside_writes_dirty_the_tables(request):
    """A test without `app` (its own app, a command in a subprocess) may have committed rows: empty before the next."""
    yield
    if "app" not in request.fixturenames:
        _tables_dirty.clear()


@pytest.fixture
def db(app):
    return _db


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def factory(app) -> Factory:
    return Factory(DEFAULT_PASSWORD)


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client, path: str = "/login") -> str:
    response = client.get(path)
    match = CSRF_RE.search(response.get_data(as_text=True))
    assert match, f"no CSRF token on {path}: {response.status_code} {response.get_data(as_text=True)[:300]}"
    return match.group(1)


class AuthActions:
    """Log in and out over HTTP, as a browser would (with the CSRF token)."""

    def __init__(self, client):
        self._client = client

    def login(self, username: str, password: str = DEFAULT_PASSWORD, **extra):
        token = csrf_token(self._client, "/login")
        query = extra.pop("query", "")
        return self._client.post(
            f"/login{query}", data={"csrf_token": token, "username": username, "password": password, **extra}
        )

    def logout(self):
        token = csrf_token(self._client, "/home")
        return self._client.post("/logout", data={"csrf_token": token})


@pytest.fixture
def auth(client) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def login_client(app):
    """A new, logged-in HTTP client for a username: `login_client("participant1")`."""

    def make(username: str, password: str = DEFAULT_PASSWORD):
        http = app.test_client()
        response = AuthActions(http).login(username, password)
        assert response.status_code == 302, f"login of {username} failed"
        return http

    return make


@pytest.fixture
def socket_client(app, login_client):
    """A Socket.IO test client for a logged-in user: `socket_client("participant1")`."""
    clients = []

    def make(username: str, password: str = DEFAULT_PASSWORD):
        http = login_client(username, password)
        sio = socket_test_client(app, http)
        clients.append(sio)
        return sio

    yield make
    for sio in clients:
        if sio.is_connected():
            sio.disconnect()


@pytest.fixture
def live_server_env() -> dict:
    """Extra environment for live servers; override in a module that needs other limits."""
    return {}


@pytest.fixture
def live_servers(app, schema, redis_prefix, tmp_path, live_server_env):
    """Start real server processes (`python serve.py`) on free loopback ports: `live_servers()`."""
    from tests.live import LiveServer

    servers = []

    def start():
        server = LiveServer(
            schema.database_url,
            schema.redis_url,
            redis_prefix,
            tmp_path / f"server{len(servers)}.log",
            extra_env=live_server_env,
        )
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def sockets():
    """Track live Socket.IO clients so each test closes its own: `sockets(server.socket(http))`."""
    opened = []

    def track(sock):
        opened.append(sock)
        return sock

    yield track
    for sock in opened:
        sock.close()
