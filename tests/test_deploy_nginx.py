"""The production deployment, for real: Debian's nginx in front of two gunicorn processes.

Runs the shipped files, not copies: `deploy/gunicorn.conf.py` (gevent worker, migration at boot) and
`deploy/nginx/supportgroup.conf`, with only its ports, certificate and log paths substituted (a
self-signed certificate for 127.0.0.1, so the app runs in production mode with Secure cookies). Through
nginx: /readyz, a chat between a participant and a peer expert, and then the participant's process is
stopped as `systemctl stop` does (SIGTERM): its socket reconnects through nginx to the other process,
and `join` with `after` replays what it missed, nothing lost or doubled.

Both clients come from 127.0.0.1, so `ip_hash` sends both to one process; the peer expert's socket
connects straight to the other process, so that it survives the stop and messages cross processes.
Needs /usr/sbin/nginx and openssl: skipped without them on a dev machine, a failure in CI.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests
import socketio

from tests import live
from tests.conftest import CSRF_RE, DEFAULT_PASSWORD
from tests.live import ROOT, Gunicorn, ServerProcess, free_port

pytestmark = pytest.mark.live

NGINX = "/usr/sbin/nginx"
OPENSSL = "/usr/bin/openssl"
NGINX_SITE = ROOT / "deploy" / "nginx" / "supportgroup.conf"
GRACEFUL_TIMEOUT = 2  # seconds a stopping process gives open connections (10 in production)
# The shipped `sg_private` log format: time, method, first path segment, status, bytes, duration, and the
# app process(es) nginx tried with their statuses; nothing about the client.
ACCESS_LINE = re.compile(
    r'(?P<time>\S+) (?P<method>[A-Z]+) (?P<area>/\S*|-) (?P<status>\d{3}) \d+ [\d.]+ '
    r'"(?P<upstream>[^"]*)" "(?P<upstream_status>[^"]*)"'
)


def nodelay_probe(environ, start_response):
    """A WSGI app for gunicorn that reports TCP_NODELAY on the connection it was served on."""
    value = environ["gunicorn.socket"].getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [f"TCP_NODELAY={int(bool(value))}".encode()]


@pytest.fixture(scope="module")
def nginx_binary() -> str:
    missing = [path for path in (NGINX, OPENSSL) if not Path(path).exists()]
    if missing:
        reason = (
            f"the nginx deployment test needs {' and '.join(missing)} (apt-get install nginx openssl; "
            "make test and .ci/run install them)"
        )
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the nginx deployment test: {reason}")
        pytest.skip(reason)
    return NGINX


class Edge(ServerProcess):
    """The site as browsers see it: https through nginx (LiveServer's `socket`; starts nothing)."""

    def __init__(self, url: str):
        self.url = url

    def login(self, username: str, password: str) -> requests.Session:
        """Log in over https as a browser does under our Referrer-Policy: with no Referer."""
        http = requests.Session()
        page = http.get(self.url + "/login", timeout=5).text
        token = CSRF_RE.search(page).group(1)
        response = http.post(
            self.url + "/login",
            data={"csrf_token": token, "username": username, "password": password},
            allow_redirects=False,
            timeout=10,
        )
        assert response.status_code == 302, f"login of {username} failed: {response.status_code}"
        return http


def app_env(schema, redis_prefix: str) -> dict[str, str]:
    return live.app_env(
        schema.database_url,
        schema.redis_url,
        redis_prefix,
        mode="production",
        SECRET_KEY=secrets.token_urlsafe(48),
        TRUSTED_PROXIES="1",
        GRACEFUL_TIMEOUT=str(GRACEFUL_TIMEOUT),
    )


def site_config(upstreams: list[str], tls_port: int, http_port: int, cert: Path, key: Path, logs: Path) -> str:
    """The shipped site file with this test's ports and paths; each substitution must apply exactly once."""
    text = NGINX_SITE.read_text()
    substitutions = [
        (r"server 127\.0\.0\.1:8001\b", f"server {upstreams[0]}"),
        (r"server 127\.0\.0\.1:8002\b", f"server {upstreams[1]}"),
        (r"listen 443 ssl;", f"listen 127.0.0.1:{tls_port} ssl;"),
        (r"listen \[::\]:443 ssl;", ""),
        (r"listen 80;", f"listen 127.0.0.1:{http_port};"),
        (r"listen \[::\]:80;", ""),
        (r"/etc/letsencrypt/live/example\.org/fullchain\.pem", str(cert)),
        (r"/etc/letsencrypt/live/example\.org/privkey\.pem", str(key)),
        (r"/var/log/nginx/supportgroup\.access\.log", str(logs / "access.log")),
        # The shipped site logs only critical errors (they name the client); this test wants to see why an
        # upstream failed, so its log keeps errors, printed when the test fails.
        (r"supportgroup\.error\.log crit;", "supportgroup.error.log error;"),
        (r"/var/log/nginx/supportgroup\.error\.log", str(logs / "error.log")),
    ]
    for pattern, replacement in substitutions:
        text, count = re.subn(pattern, replacement, text)
        assert count == 1, f"{pattern!r} should occur once in {NGINX_SITE.name}, found {count}"
    return text


def main_config(prefix: Path) -> str:
    """nginx.conf around the site: one foreground process as the current user, everything in `prefix`."""
    temp = "\n".join(
        f"    {kind}_temp_path {prefix / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""daemon off;
master_process off;
worker_processes 1;
pid {prefix / 'nginx.pid'};
error_log stderr notice;
events {{ worker_connections 256; }}
http {{
{temp}
    access_log off;
    include {prefix / 'supportgroup.conf'};
}}
"""


class Nginx(ServerProcess):
    stop_signal = signal.SIGQUIT  # graceful

    def __init__(self, binary: str, prefix: Path, upstreams: list[str]):
        self.prefix = prefix
        self.tls_port, self.http_port = free_port(), free_port()
        self.cert, key = prefix / "cert.pem", prefix / "key.pem"
        subprocess.run(
            [
                OPENSSL,
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1",
                "-keyout",
                str(key),
                "-out",
                str(self.cert),
            ],
            check=True,
            capture_output=True,
        )
        (prefix / "supportgroup.conf").write_text(
            site_config(upstreams, self.tls_port, self.http_port, self.cert, key, prefix)
        )
        (prefix / "nginx.conf").write_text(main_config(prefix))
        self.access_log = prefix / "access.log"
        command = [binary, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", "stderr"]
        check = subprocess.run([*command, "-t"], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
        super().__init__(command, None, prefix / "nginx.log", self.tls_port)
        self.url = f"https://127.0.0.1:{self.tls_port}"
        self.wait_for_port()

    def access_entries(self, area: str, match=lambda entry: True, timeout: float = 5) -> list[dict]:
        """Access-log entries of one first path segment ("/login"), waiting for one that `match`es."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.access_log.read_text() if self.access_log.exists() else ""
            entries = [ACCESS_LINE.fullmatch(line) for line in text.splitlines()]
            assert all(entries), f"unexpected access log format:\n{text}"
            entries = [e.groupdict() for e in entries if e["area"] == area]
            if any(match(e) for e in entries) or time.monotonic() > deadline:
                return entries
            time.sleep(0.05)


@pytest.fixture
def deployment(nginx_binary, app, schema, redis_prefix, tmp_path, monkeypatch):
    """Two gunicorn processes (booting, and migrating, at the same moment) behind nginx."""
    env = app_env(schema, redis_prefix)
    processes = [Gunicorn(env, tmp_path / f"gunicorn{n}.log") for n in (1, 2)]
    nginx = None
    try:
        for process in processes:
            process.wait_until_up()
        (tmp_path / "nginx").mkdir()
        nginx = Nginx(nginx_binary, tmp_path / "nginx", [p.address for p in processes])
        # requests and websocket-client trust the test's certificate authority (the self-signed cert).
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(nginx.cert))
        monkeypatch.setenv("WEBSOCKET_CLIENT_CA_BUNDLE", str(nginx.cert))
        yield nginx, processes
    finally:
        if nginx is not None:
            nginx.stop()
        for process in processes:
            process.terminate()  # all at once: each takes a second or two
        for process in processes:
            process.stop()
        # pytest shows a fixture's output only when the test failed: then these logs say why.
        for path in sorted(tmp_path.glob("gunicorn*.log")) + sorted(tmp_path.glob("nginx/*.log")):
            tail = path.read_text(errors="replace").splitlines()[-60:]
            print(f"--- {path.relative_to(tmp_path)}", *tail, sep="\n")


def chat_ids(sock, meeting_id: int) -> list[int]:
    return [m["id"] for m in sock.events("message") if m["meeting_id"] == meeting_id]


def say(sock, meeting_id: int, client_id: str, text: str) -> dict:
    ack = sock.call("send", {"meeting_id": meeting_id, "client_id": client_id, "text": text}, timeout=10)
    assert ack["ok"], ack
    return ack


def reconnect(edge: Edge, http: requests.Session, within: float = 15):
    """Connect again as the browser's Socket.IO client does after a lost connection: retry with a growing
    delay (its reconnectionDelay 1 s, doubling, at most 5 s) until one attempt succeeds.

    A handshake may fail while nginx still counts the stopped process as up (a connect that hangs on
    some networks instead of being refused); the failed attempts are printed, with the time of success."""
    started, delay, failures = time.monotonic(), 0.5, []
    while True:
        try:
            sock = edge.socket(http)
        except socketio.exceptions.ConnectionError as error:
            failures.append(f"{time.monotonic() - started:.2f}s: {error!r}")
            assert time.monotonic() - started + delay < within, f"no reconnect within {within}s: {failures}"
            time.sleep(delay)
            delay = min(delay * 2, 5)
            continue
        print(
            f"TIMING reconnected through nginx {time.monotonic() - started:.2f}s after the first try; "
            f"failed attempts before: {failures or 'none'}"
        )
        return sock


@pytest.mark.scaleout_only
def test_chat_through_nginx_survives_stopping_a_process(factory, deployment, sockets):
    nginx, processes = deployment
    scene = factory.scene()
    meeting_id = scene.meeting.id
    edge = Edge(nginx.url)

    # The load balancer's view, and plain HTTP sent to HTTPS.
    ready = requests.get(nginx.url + "/readyz", timeout=5)
    assert ready.status_code == 200 and ready.json() == {
        "status": "ready",
        "checks": {"database": "ok", "redis": "ok", "message_queue_listener": "ok"},
    }
    assert ready.headers["Cache-Control"] == "no-store" and "Set-Cookie" not in ready.headers
    redirect = requests.get(f"http://127.0.0.1:{nginx.http_port}/login", allow_redirects=False, timeout=5)
    assert redirect.status_code == 301 and redirect.headers["Location"] == "https://127.0.0.1/login"

    # Which process does 127.0.0.1 stick to? The access log names it (and nothing about the client).
    alice_http = edge.login("alice", DEFAULT_PASSWORD)
    logins = nginx.access_entries("/login", lambda e: e["method"] == "POST")
    upstream = {e["upstream"] for e in logins}
    assert len(logins) == 2 and len(upstream) == 1 and upstream <= {p.address for p in processes}, logins
    home = next(p for p in processes if p.address in upstream)
    other = next(p for p in processes if p is not home)

    # The participant through nginx (WebSocket, so on `home`); the peer expert straight to `other`.
    expert_http = edge.login("expert", DEFAULT_PASSWORD)
    alice = sockets(edge.socket(alice_http))
    expert = sockets(other.socket(expert_http))
    assert expert.call("join", {"meeting_id": meeting_id})["ok"]
    assert alice.call("join", {"meeting_id": meeting_id})["ok"]
    assert say(alice, meeting_id, "alice-0001", "hello from behind nginx")["id"] == 1
    expert.wait_for("message", lambda m: m["id"] == 1 and m["text"] == "hello from behind nginx")
    assert say(expert, meeting_id, "expert-0001", "welcome")["id"] == 2
    alice.wait_for("message", lambda m: m["id"] == 2)

    # `systemctl stop` of the participant's process: SIGTERM, open connections closed after the grace.
    stopped_at = time.monotonic()
    home.terminate()
    home.process.wait(timeout=GRACEFUL_TIMEOUT + 10)
    deadline = time.monotonic() + 5
    while alice.client.connected and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not alice.client.connected
    print(f"\nTIMING participant disconnected {time.monotonic() - stopped_at:.2f}s after its process's SIGTERM")

    # Said while the participant was away.
    for number in (3, 4, 5):
        assert say(expert, meeting_id, f"expert-{number:04d}", f"while you were away {number}")["id"] == number

    # Reconnect through nginx (which now reaches `other`), from the last message seen.
    last_seen = chat_ids(alice, meeting_id)[-1]
    assert last_seen == 2
    again = sockets(reconnect(edge, alice_http))
    joined = again.call("join", {"meeting_id": meeting_id, "after": last_seen})
    assert joined["ok"]
    assert [m["id"] for m in joined["messages"]] == [3, 4, 5]
    assert say(again, meeting_id, "alice-0002", "I am back")["id"] == 6
    expert.wait_for("message", lambda m: m["id"] == 6)
    assert say(expert, meeting_id, "expert-0006", "good to see you")["id"] == 7
    for sock in (again, expert):  # its own message too reaches each socket through the queue, not at once
        sock.wait_for("message", lambda m: m["id"] == 7)

    # Everything exactly once, in order: before the stop, the replay, then live.
    seen = chat_ids(alice, meeting_id) + [m["id"] for m in joined["messages"]] + chat_ids(again, meeting_id)
    assert seen == list(range(1, 8))
    assert chat_ids(expert, meeting_id) == list(range(1, 8))

    # nginx logs a WebSocket when it ends: the reconnect's handshake was answered by the other process
    # (after a refused try at the stopped one, when nginx had not yet marked it down).
    again.close()

    def reconnected(entry: dict) -> bool:
        return entry["upstream"].endswith(other.address) and entry["upstream_status"].endswith("101")

    handshakes = nginx.access_entries("/socket.io", reconnected)
    assert any(reconnected(e) for e in handshakes), handshakes
    print("nginx handshakes (processes tried, statuses):", [(e["upstream"], e["upstream_status"]) for e in handshakes])
    # No error while serving (the stopped process's last moments aside: its worker is killed mid-socket).
    for process in processes:
        served = process.log().split("Handling signal: term")[0]
        assert "Traceback" not in served, served


def test_gunicorn_serves_with_tcp_nodelay(tmp_path):
    """The shipped gunicorn settings leave TCP_NODELAY on every accepted connection (no Nagle delay)."""
    env = {**os.environ, "MIGRATE_AT_BOOT": "0"}
    server = Gunicorn(env, tmp_path / "probe.log", app="tests.test_deploy_nginx:nodelay_probe")
    try:
        server.wait_until_up("/")
        assert requests.get(server.url + "/", timeout=5).text == "TCP_NODELAY=1"
        assert "gevent" in server.log()
    finally:
        server.stop()


def test_login_over_https_without_a_referer(factory, client):
    """What a browser does under our Referrer-Policy behind nginx's TLS: POST /login with no Referer.

    Flask-WTF refuses that by default over HTTPS (WTF_CSRF_SSL_STRICT); config.py turns the check off."""
    factory.user("alice")
    page = client.get("/login", base_url="https://localhost").get_data(as_text=True)
    token = CSRF_RE.search(page).group(1)
    response = client.post(
        "/login",
        base_url="https://localhost",
        data={"csrf_token": token, "username": "alice", "password": DEFAULT_PASSWORD},
    )
    assert response.status_code == 302
