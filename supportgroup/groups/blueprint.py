"""The `groups` blueprint. Its routes live in three modules (`routes`, `member_routes`, `pool_routes`) that
each import this one and none of each other; importing `routes` registers all three."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("groups", __name__)
