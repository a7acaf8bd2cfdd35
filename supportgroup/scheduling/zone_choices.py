"""The timezone list (settings, planning a meeting): the zones our people use most first, then every zone by region.

A native <select> with groups (<optgroup>): it works on every phone and with a screen reader, and typing the
first letters of a city jumps to it. Only the canonical region/city names are offered (no "US/Pacific" links),
plus UTC; a zone someone already has is kept at the top even when it is not among them.
"""

from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l

# Value and label of the zones most people here live in, Europe/Amsterdam first.
MOST_USED = (
    ("Europe/Amsterdam", _l("Netherlands (Amsterdam)")),
    ("Europe/Brussels", _l("Belgium (Brussels)")),
    ("America/Curacao", _l("Curaçao")),
    ("America/Aruba", _l("Aruba")),
    ("America/Kralendijk", _l("Bonaire, Sint Eustatius and Saba")),
    ("America/Lower_Princes", _l("Sint Maarten")),
    ("America/Paramaribo", _l("Suriname (Paramaribo)")),
    ("Europe/Berlin", _l("Germany (Berlin)")),
    ("Europe/London", _l("United Kingdom (London)")),
    ("Africa/Casablanca", _l("Morocco (Casablanca)")),
    ("Europe/Istanbul", _l("Turkey (Istanbul)")),
)

REGIONS = (
    ("Europe", _l("Europe")),
    ("Africa", _l("Africa")),
    ("America", _l("America")),
    ("Asia", _l("Asia")),
    ("Atlantic", _l("Atlantic Ocean")),
    ("Australia", _l("Australia")),
    ("Pacific", _l("Pacific Ocean")),
    ("Indian", _l("Indian Ocean")),
    ("Antarctica", _l("Antarctica")),
    ("Arctic", _l("Arctic")),
)


@cache
def _zones_by_region() -> dict[str, tuple[tuple[str, str], ...]]:
    """{"Europe": (("Europe/Amsterdam", "Amsterdam"), ...), ...}: canonical zones, sorted by their label."""
    most_used = {value for value, _label in MOST_USED}
    names = available_timezones()
    regions: dict[str, tuple[tuple[str, str], ...]] = {}
    for region, _label in REGIONS:
        zones = [
            (name, name.split("/", 1)[1].replace("_", " ").replace("/", " / "))
            for name in names
            if name.startswith(region + "/") and name not in most_used
        ]
        regions[region] = tuple(sorted(zones, key=lambda zone: zone[1]))
    return regions


def offered() -> frozenset[str]:
    """Every zone name the list offers."""
    names = {value for value, _label in MOST_USED} | {"UTC"}
    for zones in _zones_by_region().values():
        names.update(value for value, _label in zones)
    return frozenset(names)


def timezone_choices(current: str | None = None) -> dict[str, list[tuple[str, str]]]:
    """WTForms SelectField choices with groups, in the current language; `current` kept if not offered."""
    choices: dict[str, list[tuple[str, str]]] = {}
    if current and current not in offered() and current in available_timezones():
        choices[str(_l("Your current timezone"))] = [(current, current.replace("_", " "))]
    choices[str(_l("Most used"))] = [(value, str(label)) for value, label in MOST_USED]
    by_region = _zones_by_region()
    for region, label in REGIONS:
        choices[str(label)] = list(by_region[region])
    choices[str(_l("Other"))] = [("UTC", str(_l("UTC (world time)")))]
    return choices
