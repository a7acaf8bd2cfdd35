"""Meeting planning, personal meeting lists and rotas, calendar export."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("scheduling", __name__)
