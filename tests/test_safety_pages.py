"""Quick exit, crisis resources and the safety check, on the server side (the browser tests show them)."""

import json
import re

import pytest
from sqlalchemy import select

from supportgroup.errors import DomainError
from supportgroup.models import SafetyCheck
from supportgroup.safety import resources

from .conftest import csrf_token


@pytest.fixture(autouse=True)
def fresh_resources():
    resources.clear_cache()
    yield
    resources.clear_cache()


def test_every_page_has_quick_exit_first_and_the_helplines(client):
    page = client.get("/login").get_data(as_text=True)
    body = page[page.index("<body") :]
    first_focusable = re.search(r"<(a|button|input|select|textarea)\b[^>]*>", body).group(0)
    assert 'id="quick-exit"' in first_focusable
    assert 'href="https://www.weeronline.nl/"' in body
    assert 'href="tel:08002000"' in body and 'href="tel:112"' in body
    assert "<script>" not in page and 'style="' not in page  # CSP: no inline script or style


@pytest.mark.parametrize("app_overrides", [{"QUICK_EXIT_URL": "javascript:alert(1)"}])
def test_quick_exit_url_must_be_http_or_a_local_path(client):
    assert 'href="https://www.weeronline.nl/"' in client.get("/login").get_data(as_text=True)


def test_resources_per_language_with_fallback(app):
    nl = resources.load("nl")
    assert nl["resources"][0]["tel"] == "tel:08002000" and "luistert" in nl["what_happens"]
    assert resources.load("de") == resources.load("en")
    assert resources.load("../../etc") == resources.load("en")
    assert [r["phone"] for r in resources.crisis_resources("en")] == ["0800 2000", "0800 0113", "112"]


def test_a_deployments_broken_file_falls_back_to_english(app, tmp_path):
    (tmp_path / "nl.json").write_text(
        json.dumps({"resources": [{"name": "X", "phone": "not a number", "description": "y"}]})
    )
    (tmp_path / "en.json").write_text(
        json.dumps({"resources": [{"name": "Local line", "phone": "+31 20 123 4567", "description": "Ours"}]})
    )
    app.config["CRISIS_RESOURCES_DIR"] = str(tmp_path)
    assert resources.load("nl")["resources"][0]["name"] == "Local line"
    assert resources.load("nl")["resources"][0]["tel"] == "tel:+31201234567"
    with pytest.raises(DomainError):
        resources.validate({"resources": []})


def test_safety_check_is_recorded_once_without_answers(factory, login_client, db):
    scene = factory.scene()
    alice = login_client("alice")
    url = f"/meetings/{scene.meeting.id}"
    assert 'id="safety-check"' in alice.get(url).get_data(as_text=True)
    assert 'id="messages"' not in alice.get(url).get_data(as_text=True)

    refused = alice.post(f"/safety/check/{scene.meeting.id}", data={"action": "skip"})  # no CSRF token
    assert refused.status_code == 400
    assert db.session.scalars(select(SafetyCheck)).all() == []

    token = csrf_token(alice, url)
    done = alice.post(
        f"/safety/check/{scene.meeting.id}", data={"csrf_token": token, "action": "skip", "check-shared": "yes"}
    )
    assert done.status_code == 302 and done.headers["Location"].endswith(url)
    rows = db.session.scalars(select(SafetyCheck)).all()
    assert [(r.membership_id, r.skipped) for r in rows] == [(scene.memberships["alice"].id, True)]
    page = alice.get(url).get_data(as_text=True)
    assert 'id="safety-check"' not in page and 'id="messages"' in page
    alice.post(f"/safety/check/{scene.meeting.id}", data={"csrf_token": token, "action": "done"})
    assert len(db.session.scalars(select(SafetyCheck)).all()) == 1


def test_moderators_and_outsiders(factory, login_client):
    scene = factory.scene()
    assert 'id="safety-check"' not in login_client("expert").get(f"/meetings/{scene.meeting.id}").get_data(as_text=True)
    eve = login_client("eve")
    token = csrf_token(eve, "/home")
    assert eve.post(f"/safety/check/{scene.meeting.id}", data={"csrf_token": token}).status_code == 404
    assert eve.post("/safety/check/999999", data={"csrf_token": token}).status_code == 404
