"""Crisis resources (helplines) per language, from small JSON files a deployment can edit.

The files live in `supportgroup/safety/resources/<locale>.json`; a deployment may point
`CRISIS_RESOURCES_DIR` at its own folder. Shape:

    {"intro": str (optional), "what_happens": str (optional),
     "resources": [{"name": str, "phone": str, "description": str, "hours": str (optional),
                    "emergency": bool (optional)}, ...]}

Every page shows them (the help panel and the footer), so loading never fails a page: a missing or
malformed file falls back to English, and a broken English file to the one shipped with the code.
Loaded once per (folder, locale) and kept in memory.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from threading import Lock
from typing import Any

from flask import current_app, has_app_context

from ..errors import DomainError

log = logging.getLogger("supportgroup.safety")

PACKAGED_DIR = Path(__file__).resolve().parent / "resources"
FALLBACK_LOCALE = "en"
_LOCALE_RE = re.compile(r"^[a-z]{2,3}(?:_[A-Z]{2})?$")
_TEXT_FIELDS = ("intro", "what_happens")
_MAX_TEXT = 1000

_cache: dict[tuple[str, str], dict] = {}
_lock = Lock()


def _text(value, where: str, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > _MAX_TEXT:
        raise DomainError("invalid_resources", f"{where} must be a non-empty string of at most {_MAX_TEXT} characters")
    return value.strip()


def tel_href(phone: str) -> str:
    """`0800 2000` -> `tel:08002000`; keeps a leading + (international numbers)."""
    digits = re.sub(r"\D", "", phone)
    return "tel:" + ("+" if phone.strip().startswith("+") else "") + digits


def validate(data) -> dict:
    """Check the shape of one file's content and return a clean copy (with `tel` links added)."""
    if not isinstance(data, dict):
        raise DomainError("invalid_resources", "the file must hold a JSON object")
    clean: dict[str, Any] = {field: _text(data.get(field), field, required=False) for field in _TEXT_FIELDS}
    items = data.get("resources")
    if not isinstance(items, list) or not items:
        raise DomainError("invalid_resources", "resources must be a non-empty list")
    clean["resources"] = []
    for index, item in enumerate(items):
        where = f"resources[{index}]"
        if not isinstance(item, dict):
            raise DomainError("invalid_resources", f"{where} must be an object")
        phone = _text(item.get("phone"), f"{where}.phone")
        if not re.fullmatch(r"\+?[0-9][0-9 ()-]{1,24}", phone):
            raise DomainError("invalid_resources", f"{where}.phone must be a phone number")
        emergency = item.get("emergency", False)
        if not isinstance(emergency, bool):
            raise DomainError("invalid_resources", f"{where}.emergency must be true or false")
        clean["resources"].append(
            {
                "name": _text(item.get("name"), f"{where}.name"),
                "phone": phone,
                "tel": tel_href(phone),
                "description": _text(item.get("description"), f"{where}.description"),
                "hours": _text(item.get("hours"), f"{where}.hours", required=False),
                "emergency": emergency,
            }
        )
    return clean


def _read(folder: Path, locale: str) -> dict:
    with open(folder / f"{locale}.json", encoding="utf-8") as handle:
        return validate(json.load(handle))


def _folder() -> Path:
    configured = current_app.config.get("CRISIS_RESOURCES_DIR") if has_app_context() else None
    return Path(configured) if configured else PACKAGED_DIR


def load(locale: str | None) -> dict:
    """The resources for `locale` (e.g. "nl"), else English; a deployment's broken file never fails a page."""
    locale = str(locale or FALLBACK_LOCALE)
    if not _LOCALE_RE.match(locale):
        locale = FALLBACK_LOCALE
    folder = _folder()
    key = (str(folder), locale)
    cached = _cache.get(key)
    if cached is not None:
        return cached
    with _lock:
        if key in _cache:
            return _cache[key]
        attempts = [
            (folder, locale),
            (folder, locale.split("_")[0]),
            (folder, FALLBACK_LOCALE),
            (PACKAGED_DIR, FALLBACK_LOCALE),
        ]
        result = None
        for where, code in attempts:
            try:
                result = _read(where, code)
                break
            except FileNotFoundError:
                continue
            except (OSError, ValueError, DomainError) as error:  # ValueError: json.JSONDecodeError
                log.warning("crisis resources %s/%s.json unusable: %s", where, code, getattr(error, "message", error))
        if result is None:  # only if the shipped English file itself was broken
            raise RuntimeError("the packaged crisis resources (en.json) are missing or invalid")
        _cache[key] = result
        return result


def crisis_resources(locale: str | None = None) -> list[dict]:
    """The helplines as `{"name", "phone", "description"}` (for the `crisis_note` socket event)."""
    if locale is None:
        from flask_babel import get_locale

        current = get_locale() if has_app_context() else None
        locale = current.language if current else FALLBACK_LOCALE
    return [
        {"name": item["name"], "phone": item["phone"], "description": item["description"]}
        for item in load(locale)["resources"]
    ]


def clear_cache() -> None:
    with _lock:
        _cache.clear()
