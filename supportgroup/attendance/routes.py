"""Attendance reports: per meeting, per member, and a chart per group."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("attendance", __name__)
