"""Small JSON endpoints behind the coordinator's group pages: the house-rules preview and the type-ahead that
finds a participant or a peer expert to add. Staff only; answers are never cached."""

from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user, login_required

from ..extensions import db
from ..models import Group
from ..permissions import require_group_manager
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


@bp.route("/<int:group_id>/people")
@login_required
def find_people(group_id: int):
    group = db.get_or_404(Group, group_id)
    require_group_manager(current_user)
    query = (request.args.get("q") or "")[:64]
    search = people.find_peer_experts if request.args.get("kind") == "peer_expert" else people.find_participants
    found = search(group, query)
    return _no_store(jsonify({"ok": True, "results": [{"value": f.value, "label": f.label} for f in found]}))
