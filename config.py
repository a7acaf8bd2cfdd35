"""Configuration classes. Everything comes from environment variables.

Production has no default for secrets: `ProductionConfig` refuses to start without `SECRET_KEY`.
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        return f"sqlite:///{INSTANCE_DIR / 'supportgroup.sqlite'}"
    # Heroku-style URLs name the driver "postgres"; we use psycopg 3.
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://") :]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


class Config:
    """Shared settings. Subclasses adjust for development, testing and production."""

    ENV_NAME = "base"
    SECRET_KEY: str | None = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = _database_url()
    # hide_parameters: an error never writes bound values (message text, aliases) into a log.
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True, "hide_parameters": True}
    # Server databases only (see `server_pool_options`).
    DB_POOL_OPTIONS = {
        "pool_size": _int("DB_POOL_SIZE", 20),
        "max_overflow": _int("DB_MAX_OVERFLOW", 10),
        "pool_timeout": _int("DB_POOL_TIMEOUT", 30),
        # An unreachable database host must fail a connect in seconds, not after TCP's minutes:
        # socket events then answer `unavailable` within the client's timeout.
        "connect_args": {"connect_timeout": _int("DB_CONNECT_TIMEOUT", 3)},
    }
    # How many reverse proxies (nginx) stand in front of the app; 0 = none, trust no forwarded header.
    TRUSTED_PROXIES = _int("TRUSTED_PROXIES", 0)
    REDIS_URL: str | None = os.environ.get("REDIS_URL") or None
    # The Socket.IO message queue that lets several processes serve one meeting; defaults to REDIS_URL.
    SOCKETIO_MESSAGE_QUEUE: str | None = os.environ.get("SOCKETIO_MESSAGE_QUEUE") or REDIS_URL
    # Seconds a Redis command (presence, limits, epochs) may take: a frozen Redis (alive but not answering) then
    # refuses socket events with `unavailable` instead of hanging every one of them.
    REDIS_SOCKET_TIMEOUT = float(os.environ.get("REDIS_SOCKET_TIMEOUT", "2"))
    # Prefix for every key this app writes to Redis, so several deployments (or test runs) can share one.
    REDIS_PREFIX = os.environ.get("REDIS_PREFIX", "sg")
    # Socket.IO: gevent in production; the test suite runs handlers in threads.
    SOCKETIO_ASYNC_MODE = os.environ.get("SOCKETIO_ASYNC_MODE", "gevent")
    # Extra origins allowed to open a socket (comma-separated), e.g. behind a proxy that rewrites Host.
    # Empty: only the site's own origin (python-engineio's same-origin check).
    SOCKETIO_ALLOWED_ORIGINS: list[str] | None = [
        o.strip() for o in os.environ.get("SOCKETIO_ALLOWED_ORIGINS", "").split(",") if o.strip()
    ] or None
    # A small buffer: a chat line is at most a few KB; nothing legitimate needs more.
    SOCKETIO_MAX_BUFFER = _int("SOCKETIO_MAX_BUFFER", 16 * 1024)
    MAX_CONTENT_LENGTH = 256 * 1024
    # A client silent this long while sending a request (line, headers or body) is answered 400 and dropped
    # (safety/request_limits.py, serve.py); WebSocket connections have Engine.IO's ping instead.
    REQUEST_TIMEOUT_SECONDS = _float("REQUEST_TIMEOUT_SECONDS", 10.0)
    MAX_MESSAGE_LENGTH = _int("MAX_MESSAGE_LENGTH", 2000)
    RECENT_MESSAGES = _int("RECENT_MESSAGES", 100)
    # A join reads the rules again when they change while it runs; this many attempts in all, then it answers
    # `rights_changed` (the client retries).
    JOIN_ATTEMPTS = _int("JOIN_ATTEMPTS", 5)
    REPLAY_LIMIT = _int("REPLAY_LIMIT", 1000)
    # Participants may enter a scheduled meeting's lobby this many minutes before its start.
    LOBBY_MINUTES = _int("LOBBY_MINUTES", 15)
    # Presence in Redis (realtime/stores.py): a socket counts as present while its process refreshed it
    # within PRESENCE_TTL seconds; each process refreshes its sockets every HEARTBEAT_SECONDS. The
    # protocol promises moderator_present false within 10 s of a moderator dropping, even with their
    # process: the worst case is PRESENCE_TTL + HEARTBEAT_SECONDS, so keep that sum under 10.
    PRESENCE_TTL = _float("PRESENCE_TTL", 6.0)
    HEARTBEAT_SECONDS = _float("HEARTBEAT_SECONDS", 2.0)
    # Joins and leaves of one meeting within this window are pushed to its room as one presence list
    # (chat/coalesce.py); 0 pushes every change at once.
    PRESENCE_PUSH_MS = _int("PRESENCE_PUSH_MS", 250)
    # Serving processes collect the young generation every this many allocations (supportgroup/runtime.py).
    GC_GEN0_THRESHOLD = _int("GC_GEN0_THRESHOLD", 50_000)
    # Run the heartbeat (chat/heartbeat.py) in the real servers (serve.py, wsgi.py under gunicorn).
    PRESENCE_HEARTBEAT = _bool("PRESENCE_HEARTBEAT", True)

    # Sessions and cookies.
    SESSION_COOKIE_NAME = "sg_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_DURATION = 60 * 60 * 24 * 14
    # The session cookie ends with the browser; the server also ends a session idle this long.
    IDLE_TIMEOUT_MINUTES = _int("IDLE_TIMEOUT_MINUTES", 60)
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    # Over HTTPS Flask-WTF would also demand a same-site Referer on every POST, but we tell browsers to send
    # no referrer at all (Referrer-Policy: no-referrer: a URL can say which group someone attends). The
    # CSRF token in the session and the SameSite session cookie are the protection.
    WTF_CSRF_SSL_STRICT = False

    # Password hashing (argon2id). Tests lower the cost; production keeps the library's defaults.
    ARGON2_TIME_COST = _int("ARGON2_TIME_COST", 3)
    ARGON2_MEMORY_COST = _int("ARGON2_MEMORY_COST", 64 * 1024)

    # Rate limits (Flask-Limiter syntax).
    # Failed logins only, per address and per username-and-address (never per username alone: anyone who
    # knows a username could then lock that person out).
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute;50 per hour")
    REGISTER_RATE_LIMIT = os.environ.get("REGISTER_RATE_LIMIT", "5 per minute;30 per hour")
    # "Forgot password?" (a recovery code or a reset code), failed tries only, like login: per address, and per
    # username at an address (tighter). Never per username alone: an abuser who knows the username could
    # otherwise keep the person from getting back in. The codes hold 60 bits: these limits are about noise, not
    # about guessing, which they put out of reach anyway.
    RECOVERY_RATE_LIMIT = os.environ.get("RECOVERY_RATE_LIMIT", "10 per minute;50 per hour")
    RECOVERY_USER_RATE_LIMIT = os.environ.get("RECOVERY_USER_RATE_LIMIT", "5 per minute;20 per hour")
    SOCKET_EVENT_RATE_LIMIT = os.environ.get("SOCKET_EVENT_RATE_LIMIT", "20 per 10 seconds")
    # The coordinator's type-ahead (participants and peer experts to add), per account: enough to type a few
    # names a minute, too few to walk through every prefix.
    PEOPLE_SEARCH_RATE_LIMIT = os.environ.get("PEOPLE_SEARCH_RATE_LIMIT", "30 per minute;200 per hour")
    RATELIMIT_HEADERS_ENABLED = False

    # Languages.
    LANGUAGES = ("en", "nl")
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "Europe/Amsterdam"
    DEFAULT_TIMEZONE = "Europe/Amsterdam"

    # What calendar exports call an event: "neutral" ("Appointment", the safe default for people whose
    # calendar may be seen by others) or "group" (the group's name and the meeting's title).
    CALENDAR_TITLES = os.environ.get("CALENDAR_TITLES", "neutral")

    # Safety. Quick exit lands on a neutral site; crisis resources and phrase lists are data files a
    # deployment can replace (one JSON / text file per language).
    QUICK_EXIT_URL = os.environ.get("QUICK_EXIT_URL", "https://www.weeronline.nl/")
    CRISIS_RESOURCES_DIR = os.environ.get("CRISIS_RESOURCES_DIR") or None
    PHRASES_DIR = os.environ.get("PHRASES_DIR") or None
    # Incident snapshots outlive the chat they come from, for safeguarding.
    INCIDENT_RETENTION_DAYS = _int("INCIDENT_RETENTION_DAYS", 365)
    # The server's purge job (0 = off, e.g. when cron runs `flask purge`).
    PURGE_INTERVAL_MINUTES = _int("PURGE_INTERVAL_MINUTES", 60)
    # How often a server process plans the next meetings of open-ended series (0 = off, e.g. when cron
    # runs `flask extend-series`).
    HORIZON_INTERVAL_MINUTES = _int("HORIZON_INTERVAL_MINUTES", 60)

    # WebSocket compression (permessage-deflate). Off: chat frames are a few hundred bytes, so it saves almost
    # nothing, while each compressed connection keeps about 270 KB of zlib state and pays deflate on every frame
    # (simple-websocket accepts it whenever a browser offers it; safety/request_limits.py withholds the offer).
    WEBSOCKET_COMPRESSION = _bool("WEBSOCKET_COMPRESSION", False)

    # Two-factor sign-in (TOTP) is required of coordinators and admins; of peer experts when this is on (an
    # admin can also switch it in the console's settings, which override it). Deferring it lets a staff account
    # log in with the password alone: only the development demo does (DevelopmentConfig), never production.
    REQUIRE_TWO_FACTOR_PEER_EXPERTS = _bool("REQUIRE_TWO_FACTOR_PEER_EXPERTS", False)
    TWO_FACTOR_DEFERRED = False
    # The name authenticator apps show beside the account's username.
    TWO_FACTOR_ISSUER = os.environ.get("TWO_FACTOR_ISSUER", "Support group")
    # Wrong second-factor codes (the second step of logging in, enrolment, new backup codes, turning it off): failures
    # only, per account and per address. Only someone who knows the password reaches these.
    TWO_FACTOR_RATE_LIMIT = os.environ.get("TWO_FACTOR_RATE_LIMIT", "5 per minute;20 per hour")

    DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "demo-password")

    @classmethod
    def validate(cls) -> None:
        """Raise when a setting that has no safe default is missing."""


class DevelopmentConfig(Config):
    """`make run`: a local demo over plain HTTP on the loopback interface."""

    ENV_NAME = "development"
    SECRET_KEY = os.environ.get("SECRET_KEY") or "dev-only-insecure-key-change-me"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    # The demo's staff log in with the password alone (README); TWO_FACTOR_DEFERRED=0 tries enrolment locally.
    TWO_FACTOR_DEFERRED = _bool("TWO_FACTOR_DEFERRED", True)


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "test-secret-key"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    SOCKETIO_ASYNC_MODE = "threading"
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 8 * 1024
    REDIS_URL = None
    SOCKETIO_MESSAGE_QUEUE = None  # Flask-SocketIO's in-process test client cannot use a queue
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    # The in-process test app runs no heartbeat, so presence must outlive a slow test; tests of expiry
    # set a short PRESENCE_TTL themselves.
    PRESENCE_HEARTBEAT = False
    PRESENCE_TTL = 300.0
    PRESENCE_PUSH_MS = 0  # the in-process test client reads what was emitted right after each call
    # Staff log in with the password alone unless a test switches two-factor sign-in on (tests/test_two_factor*).
    TWO_FACTOR_DEFERRED = True


class ProductionConfig(Config):
    ENV_NAME = "production"

    @classmethod
    def validate(cls) -> None:
        if not cls.SECRET_KEY or len(cls.SECRET_KEY) < 32:
            raise RuntimeError(
                "SECRET_KEY must be set to a random value of at least 32 characters in production "
                "(for example: python -c 'import secrets; print(secrets.token_urlsafe(48))')."
            )


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_from_env() -> type[Config]:
    """The config class named by `SUPPORTGROUP_ENV` (default: production, so secrets are required)."""
    name = os.environ.get("SUPPORTGROUP_ENV", "production")
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"SUPPORTGROUP_ENV must be one of {', '.join(CONFIGS)}, not {name!r}") from None
