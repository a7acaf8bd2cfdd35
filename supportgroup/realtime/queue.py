"""The Socket.IO message queue between server processes (Redis pub/sub), made to survive Redis restarts.

python-socketio's `RedisManager` subscribes again after a listener error only after 1, 2, 4 ... up to 60 s,
while publishing reconnects at once: after a Redis restart every process stores, acknowledges and
publishes messages into a channel that the other processes do not hear, and `/readyz` says ready
(issue #12). `QueueManager` replaces the listener:

- it retries at once and then every 0.1 s doubling to at most 0.25 s (with jitter, so processes do not
  knock in step), so it subscribes again at most about a quarter of a second after Redis is back;
- it listens on its own connection (the stock manager shares one with publishing, whose reconnect
  replaced the listener's pubsub object under it), with a connect timeout, TCP keepalive, no hidden
  retries inside redis-py (an error must reach this loop), and a PING after a second of silence: a
  listener that hears nothing, not even its PONG, for `DEAD_AFTER` seconds drops the connection, so a
  server that vanished without closing the TCP connection is noticed too;
- `subscribed` is true only from Redis's confirmation of SUBSCRIBE until the next listener error;
  `/readyz` reports it (`message_queue_listener`): a process that hears nothing is not ready;
- every confirmed (re-)subscription runs the callbacks in `on_subscribed`: the presence heartbeat
  (`chat/heartbeat.py`) writes this process's presence back at once, since a restarted Redis has lost it.

Messages published while a process was not subscribed are not replayed by the queue (Redis pub/sub keeps
nothing); clients fetch them by their ids.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from urllib.parse import urlparse

import redis
import socketio
from flask import Flask
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger("supportgroup.realtime")

RETRY_FIRST = 0.1  # seconds before the second attempt to subscribe (the first is at once)
RETRY_MAX = 0.25  # the longest wait between attempts, so subscribing again takes at most this after Redis returns
PROBE_AFTER = 1.0  # PING the listener's connection after this much silence
DEAD_AFTER = 3.0  # drop the connection after this much silence (a PONG would have come)
CONNECT_TIMEOUT = 1.0
PUBLISH_TIMEOUT = 5.0  # a publish to a server that vanished must not block its handler for ever
REDIS_SCHEMES = ("redis", "rediss", "unix")


class QueueManager(socketio.RedisManager):
    """`socketio.RedisManager` with a listener that comes back quickly and says whether it hears."""

    name = "redis"

    def __init__(self, url: str, channel: str) -> None:
        options = {
            "socket_connect_timeout": CONNECT_TIMEOUT,
            "socket_timeout": PUBLISH_TIMEOUT,
            "socket_keepalive": True,
        }
        super().__init__(url, channel=channel, redis_options=options)
        self.subscribed = False
        self.on_subscribed: list[Callable[[], None]] = []
        self.last_subscribed_at: float | None = None  # time.monotonic(), for tests and logs
        self._closed = False

    def _listener_pubsub(self) -> redis.client.PubSub:
        # socket_timeout bounds the handshake and SUBSCRIBE with a frozen server; reads wait in get_message.
        client = redis.Redis.from_url(
            self.redis_url,
            socket_connect_timeout=CONNECT_TIMEOUT,
            socket_timeout=DEAD_AFTER,
            socket_keepalive=True,
            retry=Retry(NoBackoff(), 0),
        )
        return client.pubsub()

    def _set_subscribed(self) -> None:
        self.subscribed = True
        self.last_subscribed_at = time.monotonic()
        for callback in list(self.on_subscribed):
            try:
                callback()
            except Exception:  # one hook's failure must not stop the listener
                log.exception("message queue: a subscription hook failed")

    def _listen(self):  # the stock one ends by unsubscribing the publishing client's pubsub: not ours
        channel = self.channel.encode("utf-8")
        for message in self._redis_listen_with_retries():
            if message["channel"] == channel and "data" in message:
                yield message["data"]

    def _redis_listen_with_retries(self):  # replaces the stock generator
        delay = RETRY_FIRST
        failures = 0
        while not self._closed:
            pubsub = None
            try:
                pubsub = self._listener_pubsub()
                pubsub.subscribe(self.channel)
                heard = time.monotonic()
                while not self._closed:
                    message = pubsub.get_message(timeout=PROBE_AFTER)
                    now = time.monotonic()
                    if message is None:
                        if now - heard > DEAD_AFTER:
                            raise redis.ConnectionError("no answer from the message queue")
                        pubsub.ping()
                        continue
                    heard = now
                    if message["type"] == "subscribe":
                        if failures:
                            log.warning("message queue: subscribed again after %d failed attempts", failures)
                        delay, failures = RETRY_FIRST, 0
                        self._set_subscribed()
                    elif message["type"] == "message":
                        yield message
            except Exception as error:
                self.subscribed = False
                if failures == 0:  # once per outage, and the class name only: the text may hold an address
                    log.warning("message queue: listener lost its subscription (%s)", type(error).__name__)
                failures += 1
                if pubsub is not None:
                    _close(pubsub)
                if failures > 1:  # the first retry is immediate: the error may have been a single dropped link
                    self.server.sleep(random.uniform(delay / 2, delay))
                    delay = min(delay * 2, RETRY_MAX)
            else:
                _close(pubsub)
        self.subscribed = False

    def close(self) -> None:
        """End the listener loop within `PROBE_AFTER` (tests that drive it themselves)."""
        self._closed = True


def _close(pubsub: redis.client.PubSub) -> None:
    """Close the listener's connection and its client's pool (each attempt makes its own client)."""
    try:
        pubsub.close()
        pubsub.connection_pool.disconnect()
    except Exception:  # the connection is already broken; nothing to release but the socket
        pass


def client_manager(app: Flask) -> socketio.Manager | None:
    """The client manager for `SOCKETIO_MESSAGE_QUEUE`, or None (one process, no queue).

    A Redis URL gets `QueueManager`; any other kind the manager Flask-SocketIO would pick. Always passed
    to `init_app` explicitly: Flask-SocketIO keeps options between apps, so leaving it out would reuse
    an earlier app's manager.
    """
    url = app.config.get("SOCKETIO_MESSAGE_QUEUE")
    app.extensions.pop("socketio_queue", None)
    if not url:
        return None
    channel = f"{app.config['REDIS_PREFIX']}-socketio"
    scheme = urlparse(url).scheme.lower()
    if scheme in REDIS_SCHEMES:  # not redis+sentinel: Flask-SocketIO gives that to kombu, and so do we
        manager = QueueManager(url, channel)
        app.extensions["socketio_queue"] = manager
        return manager
    if scheme == "kafka":
        return socketio.KafkaManager(url, channel=channel)
    if scheme.startswith("zmq"):
        return socketio.ZmqManager(url, channel=channel)
    return socketio.KombuManager(url, channel=channel)


def queue_manager(app: Flask) -> QueueManager | None:
    """This app's `QueueManager`, when its message queue is Redis."""
    return app.extensions.get("socketio_queue")


def start_listener(app: Flask) -> None:
    """Subscribe now, not at the first client's connection (python-socketio's default).

    A process is not ready until it hears the queue (`/readyz`); a load balancer that waits for ready
    before sending it clients would otherwise wait for ever.
    """
    from ..extensions import socketio as extension

    server = extension.server
    if queue_manager(app) is not None and not server.manager_initialized:
        server.manager_initialized = True
        server.manager.initialize()
