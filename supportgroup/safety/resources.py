"""Crisis resources (helplines) per language: small JSON files a deployment can edit, and an admin's version.

The files live in `supportgroup/safety/resources/<locale>.json`; a deployment may point
`CRISIS_RESOURCES_DIR` at its own folder. An admin may replace a language's resources in the console
(`admin/settings.py`): the platform setting `crisis_resources` ({locale: data}) then wins over that file. Shape:

    {"intro": str (optional), "what_happens": str (optional),
     "resources": [{"name": str, "phone": str, "description": str, "hours": str (optional),
                    "emergency": bool (optional)}, ...]}

Every page shows them (the help panel and the footer), so loading never fails a page: a broken stored version
falls back to the file (logged once), a missing or malformed file to English, and a broken English file to the
one shipped with the code.

What is kept in memory can never hide a change made in another process: the files are read once per (folder,
locale) (they change only with a restart), and the stored version is read from the database with the page's
other settings (`platform_settings`, one query per request); only its *validation* is remembered, keyed by the
stored content itself, so a changed row is a new key.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from threading import Lock
from typing import Any

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l

from .. import platform_settings
from ..errors import DomainError
from ..textcheck import bad_character
from . import live_settings

log = logging.getLogger("supportgroup.safety")

PACKAGED_DIR = Path(__file__).resolve().parent / "resources"
FALLBACK_LOCALE = "en"
_LOCALE_RE = re.compile(r"^[a-z]{2,3}(?:_[A-Z]{2})?$")
_TEXT_FIELDS = ("intro", "what_happens")
MAX_TEXT = 1000
MAX_RESOURCES = 20
PHONE_RE = re.compile(r"\+?[0-9][0-9 ()-]{1,24}")

_cache: dict[tuple[str, str], dict | None] = {}  # (folder, locale) -> the file's clean content; None: unusable
_stored_cache: dict[str, dict | None] = {}  # the stored content (as JSON) -> its clean copy; None: broken, logged
_STORED_CACHE_SIZE = 32
_lock = Lock()


class InvalidResources(DomainError):
    """Every problem found, each as (field, message): the field as the admin's editor names it (`intro`,
    `resources-2-phone`: the third helpline's phone) or None for the whole; `field` and `message` are the first."""

    def __init__(self, problems: list[tuple[str | None, Any]]) -> None:
        field, message = problems[0]
        super().__init__("invalid_resources", message, field=field)
        self.problems = problems

    def __str__(self) -> str:
        return "; ".join(f"{field or 'resources'}: {message}" for field, message in self.problems)


def _text(value: Any, field: str, problems: list, required: bool = True) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            problems.append((field, _l("This field is required.")))
        return ""
    if not isinstance(value, str):
        problems.append((field, _l("This must be text.")))
    elif len(value) > MAX_TEXT:
        problems.append((field, _l("At most %(max)d characters.", max=MAX_TEXT)))
    elif bad_character(value, multiline=True) is not None:
        problems.append((field, _l("The text contains characters that are not allowed.")))
    else:
        return value.strip()
    return ""


def tel_href(phone: str) -> str:
    """`0800 2000` -> `tel:08002000`; keeps a leading + (international numbers)."""
    digits = re.sub(r"\D", "", phone)
    return "tel:" + ("+" if phone.strip().startswith("+") else "") + digits


def _helpline(item: Any, index: int, problems: list) -> dict | None:
    where = f"resources-{index}-"
    if not isinstance(item, dict):
        problems.append((None, _l("Helpline %(number)d is not in the right shape.", number=index + 1)))
        return None
    phone = _text(item.get("phone"), where + "phone", problems)
    if phone and not PHONE_RE.fullmatch(phone):
        problems.append((where + "phone", _l("Enter a phone number: digits and spaces, for example 0800 2000.")))
    emergency = item.get("emergency", False)
    if not isinstance(emergency, bool):
        problems.append((where + "emergency", _l("This must be yes or no.")))
    return {
        "name": _text(item.get("name"), where + "name", problems),
        "phone": phone,
        "tel": tel_href(phone),
        "description": _text(item.get("description"), where + "description", problems),
        "hours": _text(item.get("hours"), where + "hours", problems, required=False),
        "emergency": emergency is True,
    }


def validate(data: Any) -> dict:
    """Check one language's resources (a file's or an admin's) and return a clean copy (with `tel` links added).
    Raises InvalidResources with every problem found."""
    if not isinstance(data, dict):
        raise InvalidResources([(None, _l("The crisis resources must be a JSON object."))])
    problems: list[tuple[str | None, Any]] = []
    clean: dict[str, Any] = {field: _text(data.get(field), field, problems, required=False) for field in _TEXT_FIELDS}
    items = data.get("resources")
    if not isinstance(items, list) or not items:
        problems.append(("resources", _l("Add at least one helpline.")))
        items = []
    elif len(items) > MAX_RESOURCES:
        problems.append(("resources", _l("At most %(max)d helplines.", max=MAX_RESOURCES)))
    clean["resources"] = [_helpline(item, index, problems) for index, item in enumerate(items)]
    if problems:
        raise InvalidResources(problems)
    return clean


def _read(folder: Path, locale: str) -> dict:
    with open(folder / f"{locale}.json", encoding="utf-8") as handle:
        return validate(json.load(handle))


def _folder() -> Path:
    configured = current_app.config.get("CRISIS_RESOURCES_DIR") if has_app_context() else None
    return Path(configured) if configured else PACKAGED_DIR


def _from_file(folder: Path, locale: str) -> dict | None:
    """The file's clean content, None when it is missing or unusable (logged once); read once per process."""
    key = (str(folder), locale)
    if key in _cache:
        return _cache[key]
    with _lock:
        if key not in _cache:
            try:
                _cache[key] = _read(folder, locale)
            except FileNotFoundError:
                _cache[key] = None
            except (OSError, ValueError, DomainError) as error:  # ValueError: json.JSONDecodeError
                log.warning("crisis resources %s/%s.json unusable: %s", folder, locale, error)
                _cache[key] = None
        return _cache[key]


def stored_versions() -> dict[str, Any]:
    """The admin's versions, {locale: data} as stored (not checked); {} outside an app or when the database
    cannot be read (the files then serve: the help panel must show even then)."""
    if not has_app_context():
        return {}
    stored = live_settings.read(platform_settings.CRISIS_RESOURCES)
    return stored if isinstance(stored, dict) else {}


def from_storage(locale: str, data: Any) -> dict | None:
    """The clean copy of a stored version; None when it is broken (logged once per content, never raised)."""
    try:
        key = json.dumps(data, sort_keys=True, ensure_ascii=False)
    except (TypeError, ValueError):
        key = repr(data)
    if key in _stored_cache:
        return _stored_cache[key]
    try:
        result: dict | None = validate(data)
    except DomainError as error:
        log.warning("crisis resources: the stored version for %s is unusable, the file serves: %s", locale, error)
        result = None
    with _lock:
        if len(_stored_cache) >= _STORED_CACHE_SIZE:
            _stored_cache.clear()
        _stored_cache[key] = result
    return result


def load(locale: str | None) -> dict:
    """The resources for `locale` (e.g. "nl"), else English: the admin's version where there is a usable one,
    else the file. Never fails a page."""
    locale = str(locale or FALLBACK_LOCALE)
    if not _LOCALE_RE.match(locale):
        locale = FALLBACK_LOCALE
    stored = stored_versions()
    folder = _folder()
    for code in dict.fromkeys((locale, locale.split("_")[0], FALLBACK_LOCALE)):
        if code in stored:
            found = from_storage(code, stored[code])
            if found is not None:
                return found
        found = _from_file(folder, code)
        if found is not None:
            return found
    found = _from_file(PACKAGED_DIR, FALLBACK_LOCALE)
    if found is None:  # only if the shipped English file itself was broken
        raise RuntimeError("the packaged crisis resources (en.json) are missing or invalid")
    return found


def from_file(locale: str) -> dict:
    """What a language falls back to without the admin's version: its file, else English (the editor's start)."""
    folder = _folder()
    found = _from_file(folder, locale) or _from_file(folder, FALLBACK_LOCALE)
    found = found or _from_file(PACKAGED_DIR, FALLBACK_LOCALE)
    if found is None:
        raise RuntimeError("the packaged crisis resources (en.json) are missing or invalid")
    return found


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
        _stored_cache.clear()
