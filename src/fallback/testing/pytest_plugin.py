"""Pytest plugin loaded with `-p fallback.testing.pytest_plugin` (see pyproject.toml).

Loaded before Django's settings are imported, so it can give the test run its own data
folder, and decide what happens when the PostgreSQL run cannot reach its server:
skip, or fail when FALLBACK_TEST_POSTGRES=required (as CI sets it).
"""

from __future__ import annotations

import os
import tempfile

import pytest

if "FALLBACK_HOME" not in os.environ or not os.environ.get("FALLBACK_TEST_KEEP_HOME"):
    os.environ["FALLBACK_HOME"] = tempfile.mkdtemp(prefix="fallback-test-home-")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fallback.settings")
# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make
# around it are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

_postgres_problem: str | None = None


def _database_url() -> str:
    return os.environ.get("DATABASE_URL", "")


def _probe_postgres(url: str) -> str | None:
    """None when the server answers, else why not."""
    import dj_database_url
    import psycopg

    cfg = dj_database_url.parse(url)
    try:
        with psycopg.connect(
            host=cfg.get("HOST") or None,
            port=int(cfg["PORT"]) if cfg.get("PORT") else None,
            user=cfg.get("USER") or None,
            password=cfg.get("PASSWORD") or None,
            dbname="postgres",
            connect_timeout=5,
        ):
            return None
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def pytest_configure(config: pytest.Config) -> None:
    global _postgres_problem
    url = _database_url()
    config.addinivalue_line("markers", "browser: drives Chromium through Playwright")
    config.addinivalue_line(
        "markers", "real_password_hashing: keep the production password hashers"
    )
    if not url.startswith(("postgres://", "postgresql://")):
        return
    _postgres_problem = _probe_postgres(url)
    if _postgres_problem is None:
        return
    if os.environ.get("FALLBACK_TEST_POSTGRES") == "required":
        pytest.exit(
            f"PostgreSQL at {url} is unreachable ({_postgres_problem}) and "
            "FALLBACK_TEST_POSTGRES=required",
            returncode=3,
        )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _postgres_problem is None:
        return
    skip = pytest.mark.skip(reason=f"PostgreSQL unreachable: {_postgres_problem}")
    for item in items:
        item.add_marker(skip)


def pytest_report_header(config: pytest.Config) -> str:
    url = _database_url()
    return f"fallback database: {'PostgreSQL ' + url if url else 'SQLite'}"


@pytest.fixture(autouse=True)
def _fast_password_hashing(request: pytest.FixtureRequest) -> None:
    """Argon2 is slow on purpose; tests that are not about hashing use a fast hasher."""
    if request.node.get_closest_marker("real_password_hashing"):
        return
    settings = request.getfixturevalue("settings")
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
