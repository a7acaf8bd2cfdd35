"""Small JSON endpoints behind the coordinator's group pages: the house-rules preview and the type-ahead that
finds a participant or a peer expert to add. Staff only; answers are never cached. The type-ahead is
rate-limited per account and each search is audited (the group, never the query)."""

from __future__ import annotations

from flask import current_app, jsonify, request
from flask_login import current_user, login_required

from ..audit import AuditAction, record
from ..edge import committing
from ..extensions import db, limiter
from ..models import Group
from ..permissions import require_group_manager
from ..ratelimit_keys import account_key
from . import people
from .blueprint import bp
from .rules_text import MAX_LENGTH, render_rules


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/rules-preview", methods=["POST"])
@login_required
def rules_preview():
    """The rules as participants would see them (the same function as their page); nothing is saved."""
    require_group_manager(current_user)
    source = (request.form.get("house_rules") or "")[:MAX_LENGTH]
    return _no_store(jsonify({"ok": True, "html": str(render_rules(source))}))


def _people_search_limit() -> str:
    return current_app.config["PEOPLE_SEARCH_RATE_LIMIT"]


@bp.route("/<int:group_id>/people")
@login_required
@limiter.limit(_people_search_limit, key_func=account_key)
def find_people(group_id: int):
    group = db.get_or_404(Group, group_id)
    require_group_manager(current_user)
    query = (request.args.get("q") or "")[:64]
    kind = "peer_expert" if request.args.get("kind") == "peer_expert" else "participant"
    found = people.find_peer_experts(group, query) if kind == "peer_expert" else people.find_participants(query)
    if people.searchable(query) is not None:
        with committing():  # one row per search: who searched from which group, and for whom; never the query
            record(current_user, AuditAction.SEARCH_PEOPLE, "group", group.id, group_id=group.id, reason=kind)
    return _no_store(jsonify({"ok": True, "results": [{"value": f.value, "label": f.label} for f in found]}))
