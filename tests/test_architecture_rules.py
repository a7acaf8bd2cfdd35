"""Rules of the house that the code's shape must keep (docs/architecture.md): read from the source, no app."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "supportgroup"
PUSH = PACKAGE / "realtime" / "push.py"

# `socketio.emit(...)`, `socketio.server.emit(...)`, `server.emit(...)`, `self.server.emit(...)`, `.send(` too.
EMIT = re.compile(r"\b(?:socketio|server)(?:\.server)?\.(?:emit|send)\(")


def _sources() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "static" not in p.parts)


def _imported_modules(path: Path) -> set[str]:
    """Every supportgroup module `path` imports, at module level and inside functions, as dotted names."""
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("supportgroup")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if target.startswith("supportgroup"):
                found.add(target)
                found |= {f"{target}.{alias.name}" for alias in node.names}
    return found


def _feature_imports(package: str) -> set[str]:
    """The supportgroup modules outside `package` that its files import (`supportgroup.` left off)."""
    imported: set[str] = set()
    for path in (PACKAGE / package).rglob("*.py"):
        imported |= {
            m.removeprefix("supportgroup.")
            for m in _imported_modules(path)
            if not m.startswith(f"supportgroup.{package}")
        }
    return imported


def test_only_the_push_module_sends_to_clients():
    offenders = [
        f"{path.relative_to(PACKAGE.parent)}:{number}: {line.strip()}"
        for path in _sources()
        if path != PUSH
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if EMIT.search(line)
    ]
    assert offenders == [], "emit through supportgroup/realtime/push.py:\n" + "\n".join(offenders)


def test_moderation_and_safety_do_not_import_chat():
    """Chat, moderation and safety are peers on top of realtime/: no cycle through chat."""
    for package in ("moderation", "safety"):
        chat = sorted(m for m in _feature_imports(package) if m.split(".")[0] == "chat")
        assert chat == [], f"{package} imports {chat}"


def test_realtime_depends_on_no_feature():
    """The socket framework imports no feature package, nor the runtime that starts the background jobs: its
    stores (`realtime/stores.py`) and the sockets' activity stamps (`realtime/activity.py`) live in it."""
    above = ("chat", "moderation", "safety", "groups", "scheduling", "attendance", "auth", "admin", "runtime")
    found = sorted(m for m in _feature_imports("realtime") if m.split(".")[0] in above)
    assert found == [], f"realtime imports {found}"


def test_a_services_domain_error_in_a_socket_event_is_answered_with_its_code(factory, socket_client, monkeypatch):
    """Sockets turn the one error type into the error ack (as routes show it on the form), not internal_error."""
    from supportgroup.errors import DomainError
    from supportgroup.realtime import messages
    from tests.chat_helpers import open_room, send

    scene = open_room(factory, socket_client)
    sent = send(scene.alice_socket, scene.meeting, "a line", "arch-0001")
    assert sent["ok"], sent

    def refuse(*_args, **_kwargs):
        raise DomainError("already_reported", "You reported this message already.")

    monkeypatch.setattr(messages, "report_message", refuse)
    ack = scene.bob_socket.emit(
        "report", {"meeting_id": scene.meeting.id, "id": sent["id"], "reason": "unkind"}, callback=True
    )
    assert ack == {"ok": False, "error": {"code": "already_reported", "message": "You reported this message already."}}


def test_no_template_outputs_unescaped_text():
    """Rich text reaches a page only through a function that cleans it (groups/rules_text.render_rules returns
    Markup); `|safe` in a template would trust whatever was stored (the meeting page's rules card did)."""
    templates = Path(__file__).resolve().parent.parent / "supportgroup" / "templates"
    found = [
        f"{path.relative_to(templates)}:{number}"
        for path in templates.rglob("*.html")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\|\s*safe\b", line)
    ]
    assert not found, found


def test_http_routes_commit_only_through_the_edge():
    """A route commits in `with edge.committing():` (it rolls back on any error), never `db.session.commit()`."""
    routes = [p for p in _sources() if p.name == "routes.py" or p.name.endswith("_routes.py")]
    assert len(routes) > 10
    offenders = [
        f"{path.relative_to(PACKAGE)}:{number}"
        for path in routes
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if ".session.commit(" in line
    ]
    assert offenders == []
