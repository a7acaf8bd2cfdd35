"""Changing the platform settings an admin may change without a restart (`platform_settings.py` lists them).

Each change is checked here, stored by `platform_settings.put` and audited as CHANGE_SETTING with the setting's
name (and for the crisis resources the language), never the value. Services flush and never commit.
Every process reads the stored values per request, so a change applies at once everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, has_request_context, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import platform_settings
from ..audit import AuditAction, record
from ..errors import DomainError
from ..extensions import db
from ..models import PlatformSetting, Role, User
from ..safety import resources
from ..two_factor import deferred

QUICK_EXIT_URL = platform_settings.QUICK_EXIT_URL
CRISIS_RESOURCES = platform_settings.CRISIS_RESOURCES
TWO_FACTOR_PEER_EXPERTS = platform_settings.TWO_FACTOR_PEER_EXPERTS
MAX_URL_LENGTH = 500
# The settings with one value that "back to the default" clears (the crisis resources go back per language).
RESETTABLE = (QUICK_EXIT_URL, TWO_FACTOR_PEER_EXPERTS)


def _this_sites_hosts() -> set[str]:
    hosts = {current_app.config.get("SERVER_NAME") or ""}
    if has_request_context():
        hosts.add(request.host)
    return {(urlsplit("//" + host).hostname or "").lower() for host in hosts if host} - {""}


def check_quick_exit_url(url: str) -> str:
    """An absolute https address on another site (http too in development), without a user name or password."""
    url = (url or "").strip()

    def refuse(code: str, message: Any) -> DomainError:
        return DomainError(code, message, field="url")

    if not url:
        raise refuse("url_required", _l("Enter the address of a neutral website."))
    if len(url) > MAX_URL_LENGTH:
        raise refuse("url_too_long", _l("The address may be at most %(max)d characters long.", max=MAX_URL_LENGTH))
    if any(char.isspace() for char in url):
        raise refuse("url_spaces", _l("An address has no spaces in it."))
    parts = urlsplit(url)
    schemes = ("https", "http") if current_app.config.get("ENV_NAME") == "development" else ("https",)
    if parts.scheme == "http" and "http" not in schemes:
        raise refuse("url_not_https", _l("Use an address that starts with https:// (a secure connection)."))
    try:
        hostname, _port = parts.hostname, parts.port
    except ValueError:
        hostname = None
    if parts.scheme not in schemes or not hostname:
        raise refuse(
            "url_not_absolute", _l("Enter a full address that starts with https://, like https://www.weeronline.nl/.")
        )
    if parts.username is not None or parts.password is not None:
        raise refuse("url_credentials", _l("The address may not contain a user name or password."))
    if hostname.lower() in _this_sites_hosts():
        raise refuse("url_this_site", _l("Choose a page on another website: quick exit must leave this site."))
    return url


def set_quick_exit_url(url: str, actor: User) -> None:
    platform_settings.put(QUICK_EXIT_URL, check_quick_exit_url(url), actor)
    record(actor, AuditAction.CHANGE_SETTING, "platform_setting", QUICK_EXIT_URL, reason="changed")


def _peer_experts_now_asked(required_before: bool) -> list[int]:
    """When two-factor sign-in has just become required for peer experts: the enabled peer experts without a
    confirmed second factor. Their open sockets never passed one and must end (the edge disconnects them after the
    commit; `connect` then refuses them until they have); their web sessions are sent to enrolment by the gate
    (`auth/two_factor_gate.py`) at their next request. Peer experts who enrolled by choice passed a code already."""
    if required_before or not platform_settings.get(TWO_FACTOR_PEER_EXPERTS) or deferred():
        return []
    return list(
        db.session.scalars(
            select(User.id).where(
                User.role == Role.PEER_EXPERT, User.is_enabled.is_(True), User.totp_enabled_at.is_(None)
            )
        )
    )


def set_two_factor_for_peer_experts(required: bool, actor: User) -> list[int]:
    """Store the setting; the ids of the peer experts whose sockets must end now (`_peer_experts_now_asked`)."""
    before = bool(platform_settings.get(TWO_FACTOR_PEER_EXPERTS))
    platform_settings.put(TWO_FACTOR_PEER_EXPERTS, bool(required), actor)
    record(actor, AuditAction.CHANGE_SETTING, "platform_setting", TWO_FACTOR_PEER_EXPERTS, reason="changed")
    return _peer_experts_now_asked(before)


def back_to_default(name: str, actor: User) -> list[int]:
    """The environment's value again (its row goes). For two-factor sign-in, the ids of the peer experts whose
    sockets must end now (the environment may require it)."""
    if name not in RESETTABLE:
        raise KeyError(name)
    before = bool(platform_settings.get(TWO_FACTOR_PEER_EXPERTS))
    platform_settings.put(name, None, actor)
    record(actor, AuditAction.CHANGE_SETTING, "platform_setting", name, reason="default")
    return _peer_experts_now_asked(before) if name == TWO_FACTOR_PEER_EXPERTS else []


def _locale(locale: str) -> str:
    if locale not in current_app.config["LANGUAGES"]:
        raise DomainError("unknown_language", _l("There is no such language here."))
    return locale


def _stored_versions_locked() -> dict[str, Any]:
    """The crisis resources row's value, its row locked (PostgreSQL) so two admins saving two languages at once
    both keep their change (each reads the other's after it)."""
    row = db.session.get(PlatformSetting, CRISIS_RESOURCES, with_for_update=True, populate_existing=True)
    return dict(row.value) if row is not None and isinstance(row.value, dict) else {}


def set_crisis_resources(locale: str, data: dict, actor: User) -> None:
    """The admin's version of one language's crisis resources (wins over the file). Raises
    `resources.InvalidResources` with every problem (each names the editor's field)."""
    locale = _locale(locale)
    clean = resources.validate(data)
    stored = {
        "intro": clean["intro"],
        "what_happens": clean["what_happens"],
        "resources": [{key: value for key, value in item.items() if key != "tel"} for item in clean["resources"]],
    }
    versions = _stored_versions_locked()
    versions[locale] = stored
    platform_settings.put(CRISIS_RESOURCES, versions, actor)
    record(actor, AuditAction.CHANGE_SETTING, "platform_setting", CRISIS_RESOURCES, reason=locale)


def crisis_resources_to_file(locale: str, actor: User) -> None:
    """The file serves this language again."""
    locale = _locale(locale)
    versions = _stored_versions_locked()
    versions.pop(locale, None)
    platform_settings.put(CRISIS_RESOURCES, versions or None, actor)
    record(actor, AuditAction.CHANGE_SETTING, "platform_setting", CRISIS_RESOURCES, reason=f"{locale}: file")


@dataclass(frozen=True)
class SettingState:
    """Whether a setting is the environment's default or changed, and by whom and when (the row's last change)."""

    changed: bool
    by: User | None = None
    at: datetime | None = None


def states() -> dict[str, SettingState]:
    rows = db.session.scalars(select(PlatformSetting)).all()
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_({r.updated_by_user_id for r in rows})))}
    found = {r.key: SettingState(True, users.get(r.updated_by_user_id or 0), r.updated_at) for r in rows}
    return {name: found.get(name, SettingState(False)) for name in platform_settings.SETTINGS}


def crisis_versions() -> dict[str, Any]:
    """The admin's versions as stored, {locale: data}."""
    stored = platform_settings.get(CRISIS_RESOURCES)
    return stored if isinstance(stored, dict) else {}
