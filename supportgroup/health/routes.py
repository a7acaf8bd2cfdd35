"""`GET /healthz` (liveness) and `GET /readyz` (readiness) for load balancers and supervisors.

- `/healthz`: the process answers. Touches neither the database nor Redis, so a database outage does
  not make a supervisor restart every process. Restart a process when this fails.
- `/readyz`: the process can serve: `SELECT 1` on the database, `PING` on Redis (presence, rate limits,
  the Socket.IO queue) and on the message queue when that is another Redis, and the queue's listener is
  subscribed (`message_queue_listener`, `realtime/queue.py`): a process that publishes but does not hear
  the other processes would acknowledge messages its own clients never see. Take a process out of
  rotation while this answers 503.

Both are unauthenticated (a load balancer has no login), exempt from rate limits, set no cookie and are
never cached. A failure names the check, never an address, a connection string or the exception's
text; the log gets the exception's class name only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import redis
from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy import text

from ..extensions import db, limiter
from ..realtime.queue import queue_manager
from ..realtime.stores import stores

bp = Blueprint("health", __name__)
limiter.exempt(bp)
log = logging.getLogger("supportgroup.health")

OK, FAILED = "ok", "failed"
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def _uncached(response: Response, status: int = 200) -> tuple[Response, int]:
    response.headers["Cache-Control"] = "no-store"
    return response, status


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    return _uncached(jsonify(status="ok"))


def _database() -> None:
    try:
        db.session.execute(text("SELECT 1"))
    finally:
        db.session.rollback()  # end the transaction at once: the connection goes back to the pool


def _queue_client() -> redis.Redis | None:
    """A client for the Socket.IO message queue when it is a Redis other than `REDIS_URL` (made once)."""
    url = current_app.config.get("SOCKETIO_MESSAGE_QUEUE")
    if not url or url == current_app.config.get("REDIS_URL") or not url.startswith(REDIS_SCHEMES):
        return None
    client = current_app.extensions.get("health_queue_redis")
    if client is None:
        client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        current_app.extensions["health_queue_redis"] = client
    return client


class NotSubscribed(Exception):
    """The message queue's listener is between a Redis error and its next confirmed SUBSCRIBE."""


def _listener() -> None:
    manager = queue_manager(current_app)
    if manager is None or not manager.subscribed:
        raise NotSubscribed


def _run(name: str, check: Callable[[], object], results: dict[str, str]) -> None:
    try:
        check()
        results[name] = OK
    except Exception as error:  # any failure means "not ready"; say which check, not why
        log.warning("readiness check %s failed (%s)", name, type(error).__name__)
        results[name] = FAILED


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    checks: dict[str, str] = {}
    _run("database", _database, checks)
    client = stores().redis  # the client presence and rate limits use; None without REDIS_URL
    if client is not None:
        _run("redis", client.ping, checks)
    queue = _queue_client()
    if queue is not None:
        _run("message_queue", queue.ping, checks)
    if queue_manager(current_app) is not None:
        _run("message_queue_listener", _listener, checks)
    ready = all(result == OK for result in checks.values())
    return _uncached(jsonify(status="ready" if ready else "unavailable", checks=checks), 200 if ready else 503)
