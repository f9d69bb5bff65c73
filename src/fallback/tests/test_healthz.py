import pytest

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_login(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"
    assert r["Cache-Control"].startswith("max-age=0")


def test_healthz_says_503_when_database_is_down(client, monkeypatch):
    from django.db import connection

    def broken():
        raise RuntimeError("down")

    monkeypatch.setattr(connection, "cursor", broken)
    r = client.get("/healthz")
    assert r.status_code == 503
    assert r.json()["database"] == "unreachable"
