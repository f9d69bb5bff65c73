"""Fallback is used when the internet is down: no page may load anything from elsewhere."""

import re

import pytest

pytestmark = pytest.mark.django_db

EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["'](?:https?:)?//""", re.I)


def test_api_docs_load_their_assets_locally(client):
    r = client.get("/api/docs")
    assert r.status_code == 200
    assert not EXTERNAL.search(r.content.decode()), EXTERNAL.findall(r.content.decode())


def test_login_page_loads_nothing_from_elsewhere(client):
    r = client.get("/login/")
    assert r.status_code == 200
    assert not EXTERNAL.search(r.content.decode())
