"""The audit log as CSV: UTF-8 (with a byte-order mark, so spreadsheet programs read it as UTF-8), a header
row, times in UTC (ISO 8601), streamed a chunk of rows at a time.

Reasons are typed by people and usernames chosen by them: a cell that starts with = + - @, a tab or a
carriage return would run as a formula in a spreadsheet (CSV injection, OWASP), so it gets a leading
apostrophe. Every text cell is treated so; numbers are written as numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from ..audit_labels import TARGET_LABELS
from ..labels import label
from ..models.audit import AuditAction
from . import audit_log
from .audit_log import AuditFilter, AuditRow

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
HEADER = [
    "id",
    "time_utc",
    "actor_username",
    "actor_role",
    "actor_pseudonym",
    "action",
    "action_label",
    "target_type",
    "target_label",
    "target_id",
    "group_id",
    "group_name",
    "meeting_id",
    "reason",
]


def safe_cell(value: object) -> object:
    """`value` as a spreadsheet will not run it: text starting like a formula gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _cells(row: AuditRow, actions: dict[AuditAction, str], targets: dict[str, str]) -> list[object]:
    return [
        row.id,
        row.created_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
        row.actor_username,
        row.actor_role,
        row.actor_pseudonym,
        row.action.value,
        actions[row.action],
        row.target_type,
        targets.get(row.target_type, row.target_type),
        row.target_id,
        row.group_id,
        row.group_name,
        row.meeting_id,
        row.reason,
    ]


def lines(audit_filter: AuditFilter, upper: int) -> Iterator[str]:
    """The CSV text, the header first, then one piece per chunk of rows (id <= `upper`, newest first)."""
    # Translated once, before streaming (an action and a kind of object may share a name: two tables).
    actions = {action: str(label(action)) for action in AuditAction}
    targets = {kind: str(text) for kind, text in TARGET_LABELS.items()}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    yield BOM + buffer.getvalue()
    for chunk in audit_log.chunks(audit_filter, upper):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([safe_cell(cell) for cell in _cells(row, actions, targets)] for row in chunk)
        yield buffer.getvalue()
