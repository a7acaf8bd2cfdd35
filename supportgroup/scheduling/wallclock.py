"""Wall-clock times that a zone's daylight-saving changes skip or repeat.

On the last Sunday of March, Amsterdam's clocks jump from 02:00 to 03:00: 02:30 does not exist that day.
On the last Sunday of October they go back from 03:00 to 02:00: 02:30 happens twice. Python reads both without
complaint (a skipped time with the offset from before the change, so a "02:30" meeting would start at 03:30;
a repeated one as its first occurrence), so the planner would never know. Planning refuses such a time and says
on which dates it falls, so the coordinator chooses another (a series asks for one start time for all its dates).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask_babel import format_date
from flask_babel import lazy_gettext as _l

SKIPPED = "skipped"
REPEATED = "repeated"


def problem(local: datetime, tz: ZoneInfo) -> str | None:
    """SKIPPED if the naive wall-clock time `local` does not exist in `tz`, REPEATED if it exists twice."""
    first, second = local.replace(tzinfo=tz, fold=0), local.replace(tzinfo=tz, fold=1)
    if first.utcoffset() == second.utcoffset():
        return None
    round_trip = first.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    return SKIPPED if round_trip != local else REPEATED


def refusal(locals_: Iterable[datetime], tz: ZoneInfo, tz_name: str):
    """A message for the planner if any of these wall-clock times is skipped or repeated in `tz`, else None."""
    found: dict[str, list[datetime]] = {SKIPPED: [], REPEATED: []}
    for local in locals_:
        if (kind := problem(local, tz)) is not None:
            found[kind].append(local)
    for kind in (SKIPPED, REPEATED):
        if not found[kind]:
            continue
        values = {
            "time": found[kind][0].strftime("%H:%M"),
            "zone": tz_name,
            "dates": ", ".join(format_date(local.date(), "long") for local in found[kind]),
        }
        if kind == SKIPPED:
            return _l(
                "%(time)s does not exist in %(zone)s on %(dates)s: the clocks go forward then. "
                "Choose another start time.",
                **values,
            )
        return _l(
            "%(time)s happens twice in %(zone)s on %(dates)s: the clocks go back then. Choose another start time.",
            **values,
        )
    return None
