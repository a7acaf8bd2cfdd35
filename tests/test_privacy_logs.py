"""What reaches the logs: never bound SQL values (message text, aliases), never a traceback for people."""

import logging

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError


def test_database_errors_never_carry_the_values(app, db):
    secret = "my husband hit me again at Kerkstraat 12"
    with pytest.raises(DBAPIError) as error:
        db.session.execute(text("INSERT INTO users (id, username) VALUES (:id, :name)"), {"id": "x", "name": secret})
    db.session.rollback()
    assert secret not in str(error.value)


def test_unexpected_errors_show_an_incident_id_and_log_no_values(app, client, caplog):
    alias = " ".join(["Quiet", "Heron"])  # built at run time, so the traceback's source lines cannot show it

    @app.route("/boom-for-test")
    def boom():
        from supportgroup.extensions import db

        db.session.execute(text("SELECT * FROM no_such_table WHERE x = :v"), {"v": alias})

    with caplog.at_level(logging.ERROR):
        response = client.get("/boom-for-test")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Traceback" not in body and "no_such_table" not in body
    assert "incident" in caplog.text and alias not in caplog.text
