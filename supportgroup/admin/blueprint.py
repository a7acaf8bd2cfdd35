"""The `admin` blueprint and the console's table of contents.

Each route module adds its page to `SECTIONS` with `section(...)`; the console's start page lists those the
current account may open (`permissions.can`), so adding a page never means editing another module.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint
from flask_babel import LazyString

bp = Blueprint("admin", __name__)


@dataclass(frozen=True)
class Section:
    endpoint: str
    title: LazyString
    summary: LazyString
    page_rule: str  # a key of permissions.PAGE_RULES


SECTIONS: list[Section] = []


def section(endpoint: str, title: LazyString, summary: LazyString, page_rule: str) -> None:
    SECTIONS.append(Section(endpoint, title, summary, page_rule))
