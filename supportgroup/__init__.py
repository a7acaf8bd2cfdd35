"""supportgroup: moderated online peer-support groups. `create_app` builds the application."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, abort
from werkzeug.middleware.proxy_fix import ProxyFix

from .extensions import babel, csrf, db, limiter, login_manager, migrate, socketio


def create_app(config_class=None, overrides: dict | None = None) -> Flask:
    """Build the app from a config class (default: from `SUPPORTGROUP_ENV`) and optional overrides."""
    from config import config_from_env

    config_class = config_class or config_from_env()
    config_class.validate()
    app = Flask(__name__, instance_path=str(Path(__file__).resolve().parent.parent / "instance"))
    app.config.from_object(config_class)
    if overrides:
        app.config.update(overrides)
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # One gevent process runs hundreds of handlers at once, each holding a connection from its first query
        # to its commit while it waits for the CPU. SQLAlchemy's default pool (5 + 10) made a reconnect storm
        # of 900 clients queue for connections until they timed out (docs/benchmarks.md).
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            **app.config["DB_POOL_OPTIONS"],
            **app.config["SQLALCHEMY_ENGINE_OPTIONS"],
        }
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if app.config["TRUSTED_PROXIES"]:
        # Behind nginx: take the client's address and scheme from the proxy's headers (that many hops).
        hops = app.config["TRUSTED_PROXIES"]
        # Flask documents wrapping wsgi_app so; its type declares wsgi_app a method.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    _configure_logging(app)
    _init_extensions(app)
    _register_blueprints(app)

    from .auth.idle import init_idle_timeout
    from .auth.last_active import init_last_active
    from .auth.two_factor_gate import init_two_factor_gate
    from .cli import register_cli
    from .labels import init_labels
    from .safety.errors import init_error_handlers
    from .safety.headers import init_security_headers

    init_labels(app)
    init_idle_timeout(app)
    init_two_factor_gate(app)  # after the idle timeout: an idle session is ended, not asked for its code
    init_last_active(app)  # after both: neither an idle session nor one still owing its code counts as active
    init_security_headers(app)
    init_error_handlers(app)
    register_cli(app)
    return app


def _init_extensions(app: Flask) -> None:
    from . import auth  # noqa: F401  (registers the Flask-Login user loader)
    from .chat import events, joining  # noqa: F401
    from .chat.catchup import init_catchup  # also registers `catch_up`
    from .chat.coalesce import init_presence_pushes
    from .chat.rights import install as install_rights_invalidation
    from .db_setup import init_engine_events
    from .i18n import init_babel
    from .moderation import events as moderation_events  # noqa: F401

    # Socket handlers must be declared before the first `socketio.init_app`: Flask-SocketIO keeps only
    # handlers declared while unbound, and replays them onto every app it is bound to later.
    from .realtime import connection  # noqa: F401  (connect, disconnect, unknown events)
    from .realtime.packets import install as install_packet_guard
    from .realtime.queue import client_manager
    from .realtime.stores import init_stores
    from .safety import scrub

    db.init_app(app)
    scrub.install()  # overwrite deleted content (SQLite), on every ORM session of the process
    init_engine_events(app)
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    init_babel(app, babel)

    redis_url = app.config.get("REDIS_URL")
    app.config.setdefault("RATELIMIT_STORAGE_URI", redis_url or "memory://")
    if redis_url:
        app.config.setdefault(
            "RATELIMIT_STORAGE_OPTIONS",
            {
                "key_prefix": f"{app.config['REDIS_PREFIX']}-limits",
                "socket_timeout": app.config["REDIS_SOCKET_TIMEOUT"],
            },
        )
    limiter.init_app(app)

    socketio.init_app(
        app,
        async_mode=app.config["SOCKETIO_ASYNC_MODE"],
        # The message queue (SOCKETIO_MESSAGE_QUEUE) with a listener that survives Redis restarts.
        client_manager=client_manager(app),
        max_http_buffer_size=app.config["SOCKETIO_MAX_BUFFER"],
        # None keeps python-engineio's same-origin check: a handshake from a foreign Origin is refused.
        cors_allowed_origins=app.config.get("SOCKETIO_ALLOWED_ORIGINS"),
        logger=False,
        engineio_logger=False,
    )
    install_packet_guard(socketio.server)  # malformed packets close their own connection (realtime/packets.py)
    from .realtime.reserved import install as refuse_reserved_events

    refuse_reserved_events(socketio.server)  # `connect` & co. from a client never reach a handler
    init_stores(app)
    init_presence_pushes(app)
    init_catchup(app)
    install_rights_invalidation()
    _route_socket_path(app)


def _route_socket_path(app: Flask) -> None:
    """Give the Socket.IO path a URL rule, so that every socket event's request context routes cleanly.

    Flask-SocketIO runs each event in a request context made from the connection's environ, whose path
    (/socket.io/) matched no rule: routing raised NotFound and kept it, with its traceback, on the request,
    a reference cycle of about sixty objects per event that only the garbage collector could free; its
    pauses then set the chat's p99 latency (docs/benchmarks.md). HTTP requests to this path never reach
    Flask (Engine.IO answers them first); should one, it gets a 404.
    """
    for websocket in (False, True):  # polling requests, and WebSocket upgrades (a rule matches only one kind)
        app.add_url_rule(
            "/socket.io/",
            endpoint=f"socketio_path_{'ws' if websocket else 'http'}",
            view_func=_not_a_page,
            strict_slashes=False,
            websocket=websocket,
        )


def _not_a_page():
    abort(404)


def _register_blueprints(app: Flask) -> None:
    from .admin.routes import bp as admin_bp
    from .attendance.routes import bp as attendance_bp
    from .auth.recovery_routes import bp as recovery_bp
    from .auth.routes import bp as auth_bp
    from .auth.two_factor_routes import bp as two_factor_bp
    from .chat.routes import bp as chat_bp
    from .groups.routes import bp as groups_bp
    from .health.routes import bp as health_bp
    from .home import bp as home_bp
    from .safety.incident_routes import bp as incidents_bp
    from .safety.routes import bp as safety_bp
    from .scheduling.routes import bp as scheduling_bp

    app.register_blueprint(health_bp)  # /healthz, /readyz for load balancers
    app.register_blueprint(home_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(recovery_bp)  # "Forgot password?" and recovery codes (auth/recovery_routes.py)
    app.register_blueprint(two_factor_bp)
    app.register_blueprint(groups_bp, url_prefix="/groups")
    app.register_blueprint(chat_bp, url_prefix="/meetings")
    app.register_blueprint(scheduling_bp, url_prefix="/schedule")
    app.register_blueprint(attendance_bp, url_prefix="/attendance")
    app.register_blueprint(incidents_bp, url_prefix="/safety/incidents")
    app.register_blueprint(safety_bp, url_prefix="/safety")
    app.register_blueprint(admin_bp, url_prefix="/admin")


def _configure_logging(app: Flask) -> None:
    """Plain, privacy-safe logs: no request lines with addresses (the serve module turns those off).

    Every record of the process, from any library, has its control characters escaped and its addresses
    replaced (`logsafe.py`), so no logged value can forge a line.
    """
    from . import logsafe

    logsafe.install()
    level = logging.DEBUG if app.debug else logging.INFO
    logging.getLogger("supportgroup").setLevel(level)
    # At DEBUG these write result rows (message text, hashes) and the database's address: never let them.
    for name in ("sqlalchemy", "psycopg"):
        logging.getLogger(name).setLevel(logging.WARNING)
