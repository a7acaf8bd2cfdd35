"""Platform settings an admin may change without a restart, where that is safe.

Each setting has a default from the environment (`config.py`); a row in `platform_settings` overrides it, and
every process reads the row (one query per request at most: the values are kept in `g`), so a change applies at
once in every process with no cache to invalidate. Everything not listed here stays in the environment.

The admin console (`admin/`) validates and writes them; readers call `get(name)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, g, has_app_context, has_request_context
from sqlalchemy import select

from .extensions import db
from .models import PlatformSetting, User
from .models.types import utcnow


@dataclass(frozen=True)
class Setting:
    name: str
    config_key: str | None  # the environment's default, if any
    fallback: Any  # when there is no config key (or outside an app)


# The settings' names: callers use these, never the strings.
QUICK_EXIT_URL = "quick_exit_url"
CRISIS_RESOURCES = "crisis_resources"  # {locale: that language's crisis resources}; a missing one: the file
TWO_FACTOR_PEER_EXPERTS = "require_two_factor_peer_experts"
DEFAULT_QUICK_EXIT_URL = "https://www.weeronline.nl/"

SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (
        Setting(QUICK_EXIT_URL, "QUICK_EXIT_URL", DEFAULT_QUICK_EXIT_URL),
        Setting(CRISIS_RESOURCES, None, {}),
        Setting(TWO_FACTOR_PEER_EXPERTS, "REQUIRE_TWO_FACTOR_PEER_EXPERTS", False),
    )
}


def default(name: str) -> Any:
    setting = SETTINGS[name]
    if setting.config_key and has_app_context():
        return current_app.config.get(setting.config_key, setting.fallback)
    return setting.fallback


def _stored() -> dict[str, Any]:
    if has_request_context() and "sg_platform_settings" in g:
        return g.sg_platform_settings
    rows = {row.key: row.value for row in db.session.scalars(select(PlatformSetting))}
    if has_request_context():
        g.sg_platform_settings = rows
    return rows


def get(name: str) -> Any:
    """The current value of setting `name` (KeyError for a name not in SETTINGS)."""
    if name not in SETTINGS:
        raise KeyError(name)
    stored = _stored()
    return stored[name] if name in stored else default(name)


def put(name: str, value: Any, actor: User | None) -> None:
    """Store `value` (already validated by the caller) for `name`; None goes back to the default.
    Flushes, never commits; the caller audits (`AuditAction.CHANGE_SETTING`, the name, never the value)."""
    if name not in SETTINGS:
        raise KeyError(name)
    row = db.session.get(PlatformSetting, name)
    if value is None:
        if row is not None:
            db.session.delete(row)
    elif row is None:
        db.session.add(PlatformSetting(key=name, value=value, updated_by_user_id=actor.id if actor else None))
    else:
        row.value = value
        row.updated_at = utcnow()
        row.updated_by_user_id = actor.id if actor else None
    db.session.flush()
    if has_request_context():
        g.pop("sg_platform_settings", None)
