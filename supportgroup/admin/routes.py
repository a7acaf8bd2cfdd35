"""The console's start page. Importing this module registers every page of the console."""

from __future__ import annotations

from flask import render_template
from flask_login import current_user, login_required

from ..permissions import can, require_page
from . import (  # noqa: F401  (each registers its pages; accounts first on the start page)
    account_actions_routes,
    accounts_routes,
    audit_routes,
    settings_routes,
    two_factor_routes,
)
from .blueprint import SECTIONS, bp


@bp.route("/")
@login_required
def index():
    require_page(current_user, "use_admin_console")
    sections = [s for s in SECTIONS if can(current_user, s.page_rule)]
    return render_template("admin/index.html", sections=sections)
