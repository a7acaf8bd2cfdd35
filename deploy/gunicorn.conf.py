"""gunicorn settings for one supportgroup process: `gunicorn -c deploy/gunicorn.conf.py` (docs/deploy.md).

One gevent worker per process: a Socket.IO session lives in the process that holds its connection. For
more capacity run more processes, each on its own port, behind nginx (`ip_hash`), sharing PostgreSQL and
the Redis message queue. The process's environment (SECRET_KEY, DATABASE_URL, REDIS_URL, ...) is the
app's configuration (config.py); these settings read only:

    HOST / PORT          where to listen (default 127.0.0.1:8001); BIND overrides both ("unix:/path" too)
    GRACEFUL_TIMEOUT     seconds a stopping process lets plain HTTP requests finish after its drain (default 10)
    WORKER_CONNECTIONS   simultaneous connections per process (default 1000)
    FORWARDED_ALLOW_IPS  addresses whose X-Forwarded-Proto is believed (default: nginx on this host)
    MIGRATE_AT_BOOT      "0" to skip `flask db upgrade` at start (e.g. when a deploy step runs it)
    LOG_LEVEL            gunicorn's own log level (default info)

TCP_NODELAY: gunicorn sets it on the listening socket (gunicorn/sock.py, TCPSocket.set_options) and
Linux copies it to every accepted connection, so small Socket.IO frames are not held back by Nagle's
algorithm (tests/test_deploy_nginx.py checks this on a live connection). The worker class sets it again,
with TCP_USER_TIMEOUT and keepalive (a client that stops reading loses its connection within 20 s), and
drains on SIGTERM: `server_shutdown` to its clients, presence removed at once (tests/test_shutdown_drain.py).
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PORT = os.environ.get("PORT", "8001")

wsgi_app = "wsgi:app"
chdir = str(ROOT)
bind = [os.environ.get("BIND") or f"{os.environ.get('HOST', '127.0.0.1')}:{PORT}"]
# gunicorn's gevent worker (Socket.IO over WebSocket via simple-websocket, no gevent-websocket needed), with
# TCP_USER_TIMEOUT and keepalive on every connection, and a drain on SIGTERM (supportgroup/realtime/drain.py).
worker_class = "supportgroup.realtime.drain_worker.DrainingGeventWorker"
workers = 1  # never more: the workers of one process would not share Socket.IO sessions
worker_connections = int(os.environ.get("WORKER_CONNECTIONS", "1000"))
# No preload: wsgi.py starts the presence heartbeat and the purge job in each worker, after the fork.
preload_app = False
max_requests = 0  # a worker restart would drop every open chat connection
timeout = 30
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT", "10"))
keepalive = 5
# Request limits (nginx has the same in front). Bodies: the app refuses oversize ones before reading and
# times out silent ones (REQUEST_TIMEOUT_SECONDS, supportgroup/safety/request_limits.py).
limit_request_line = 8190
limit_request_fields = 50
limit_request_field_size = 8190
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
proc_name = f"supportgroup-{PORT}"

# Logs: no access log (it would hold addresses and paths); gunicorn's own messages go to stderr (journald).
accesslog = None
disable_redirect_access_to_syslog = True
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
# gunicorn's control socket has one default path per user: several processes would take it from each other.
control_socket_disable = True


def on_starting(server) -> None:
    """Bring the schema up to date before this process listens (supportgroup/health/boot.py)."""
    if os.environ.get("MIGRATE_AT_BOOT", "1").strip().lower() in {"0", "false", "no", "off"}:
        return
    server.log.info("migrating the database (flask db upgrade, under an advisory lock)")
    done = subprocess.run([sys.executable, "-m", "supportgroup.health.boot"], cwd=ROOT, check=False)
    if done.returncode != 0:
        server.log.error("the migration failed (see above): not starting")
        sys.exit(1)
