"""Serve the app with gevent: `python serve.py` (what `make run` uses).

Monkey-patching must come before anything else imports sockets or ssl, so this lives outside the
package.

Sets TCP_NODELAY on every accepted socket: without it, small Socket.IO frames wait for Nagle's
algorithm and delayed ACKs, and p99 latency sits near 40 ms. Access logs are off: they would hold
raw IP addresses, and so would gevent's error reports without `PrivateEnviron`.
"""
from gevent import monkey

monkey.patch_all()

import os  # noqa: E402
import socket  # noqa: E402

from gevent import pywsgi  # noqa: E402


class PrivateEnviron(pywsgi.SecureEnviron):
    """When gevent reports an error, it prints the request environ: show no key of it (no addresses)."""

    default_whitelist_keys = ()


class ChatHandler(pywsgi.WSGIHandler):
    """pywsgi's handler, adjusted for WebSocket traffic and privacy."""

    def run_application(self):
        try:
            super().run_application()
        finally:
            # After a WebSocket session the socket carries frames, not HTTP: never read it as a request.
            if self.environ.get("HTTP_UPGRADE", "").lower() == "websocket":
                self.close_connection = True

    def log_error(self, msg, *args):
        # pywsgi prefixes errors with the client's address; log the error alone.
        try:
            message = msg % args
        except (TypeError, ValueError):
            message = msg
        self.server.error_log.write(f"pywsgi: {message[:200]}\n")


class NoDelayWSGIServer(pywsgi.WSGIServer):
    environ_class = PrivateEnviron
    handler_class = ChatHandler

    def handle(self, sock, address):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass  # not a TCP socket (e.g. a Unix socket)
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
    server = NoDelayWSGIServer((host, port), app, log=None)
    print(f"{name} serving on http://{host}:{port} ({detail})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
