"""Serve the app with gevent: `python serve.py` (what `make run` uses).

Monkey-patching must come before anything else imports sockets or ssl, so this lives outside the
package.

Sets TCP_NODELAY on every accepted socket: without it, small Socket.IO frames wait for Nagle's
algorithm and delayed ACKs, and p99 latency sits near 40 ms. Access logs are off: they would hold
raw IP addresses, and so would gevent's error reports: these go through logging (cleaned by
supportgroup/logsafe.py) and never show the request environ or the client's address.

SIGTERM drains the process (supportgroup/realtime/drain.py): it stops accepting, tells its clients to reconnect
elsewhere (`server_shutdown`), ends its presence at once and exits. Every accepted socket gets TCP options that
close a connection whose client stopped reading (`tcp_bounds.bound_connection`).

A client silent for `REQUEST_TIMEOUT_SECONDS` while sending a request is dropped (a socket timeout, lifted
for WebSocket connections), and a refused request's body is never read (safety/request_limits.py).
"""

from gevent import monkey

monkey.patch_all()

import logging  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402

import gevent  # noqa: E402
from gevent import pywsgi  # noqa: E402
from gevent.event import Event  # noqa: E402

log = logging.getLogger("supportgroup.server")


class PrivateEnviron(pywsgi.SecureEnviron):
    """When gevent reports an error, it prints the request environ: show no key of it (no addresses)."""

    default_whitelist_keys = ()


class ChatHandler(pywsgi.WSGIHandler):
    """pywsgi's handler, adjusted for WebSocket traffic, abandoned requests and privacy."""

    def handle(self):
        # Reading a request line, headers or a body: a client silent this long is dropped.
        self.socket.settimeout(self.server.request_timeout)
        super().handle()

    def run_application(self):
        websocket = self.environ.get("HTTP_UPGRADE", "").lower() == "websocket"
        if websocket:
            self.socket.settimeout(None)  # idle up to the ping interval; Engine.IO's ping ends a dead one
        try:
            super().run_application()
        finally:
            # After a WebSocket session the socket carries frames, not HTTP: never read it as a request.
            if websocket:
                self.close_connection = True
            if self.close_connection:
                # pywsgi would read the rest of an unread body (a refused one) before closing; don't.
                self.wsgi_input._chunked_input_error = True

    def _handle_client_error(self, ex):
        # pywsgi logs the client's address and the raw request line (it may hold a feed token): neither.
        if not isinstance(ex, OSError):  # a timeout or a reset is not worth a line
            reason = str(ex).split(":", 1)[0][:80] or type(ex).__name__
            log.warning("refused a malformed request: %s", reason)
        return ("400", pywsgi._BAD_REQUEST_RESPONSE)

    def log_error(self, msg, *args):
        # pywsgi prefixes errors with the client's socket; log the error alone.
        try:
            message = msg % args if args else msg
        except (TypeError, ValueError):
            message = msg
        log.warning("pywsgi: %s", message[:200])


class NoDelayWSGIServer(pywsgi.WSGIServer):
    environ_class = PrivateEnviron
    secure_environ_class = PrivateEnviron  # what pywsgi wraps an environ in before it reports an error
    handler_class = ChatHandler
    request_timeout = 10.0

    def handle(self, sock, address):
        from supportgroup.tcp_bounds import bound_connection

        bound_connection(sock)  # TCP_NODELAY, and a client that stops reading cannot hold its socket for ever
        super().handle(sock, address)


def main() -> None:
    from supportgroup import create_app
    from supportgroup.runtime import start_serving

    app = create_app()
    start_serving(app)  # presence heartbeat, purge job, garbage-collector tuning
    serve(app, 5000, "supportgroup", f"gevent, {app.config['ENV_NAME']}")


def serve(app, default_port: int, name: str, detail: str) -> None:
    """Serve `app` on HOST:PORT (default 127.0.0.1 and `default_port`) until interrupted."""
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", str(default_port)))
    from supportgroup.logsafe import route_gevent_errors

    route_gevent_errors()  # the hub's error reports through logging, cleaned, without the environ
    server = NoDelayWSGIServer((host, port), app, log=None, error_log=logging.getLogger("gevent.pywsgi"))
    server.request_timeout = float(app.config.get("REQUEST_TIMEOUT_SECONDS", 10.0))
    print(f"{name} serving on http://{host}:{port} ({detail})", flush=True)
    finished = Event()
    gevent.signal_handler(signal.SIGTERM, on_sigterm, app, server, finished)
    server.start()
    try:
        finished.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop(timeout=1)


_draining = False


def on_sigterm(app, server: pywsgi.WSGIServer, finished: Event) -> bool:
    """Start the drain once: a second SIGTERM (a supervisor repeating itself, an impatient operator) while it
    runs must not start another (two drains would close the same sockets and push every meeting twice).
    True when this call started it."""
    global _draining
    if _draining:
        log.warning("SIGTERM again: the drain is already under way")
        return False
    _draining = True
    gevent.spawn(_drain, app, server, finished)
    return True


def _drain(app, server: pywsgi.WSGIServer, finished: Event) -> None:
    """SIGTERM: stop accepting, tell the clients, end this process's presence, close, exit (realtime/drain.py)."""
    from supportgroup.realtime.drain import drain

    try:
        drain(app, server.close)
    finally:
        finished.set()


if __name__ == "__main__":
    main()
