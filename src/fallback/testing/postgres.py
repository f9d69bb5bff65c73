"""A fresh PostgreSQL database of a test's own, for tests that start other processes.

pytest-django's test database lives inside a transaction (or is flushed) and other processes
cannot share its state, so such tests create and drop a database of their own. Skipped when
PostgreSQL is unreachable, unless FALLBACK_TEST_POSTGRES=required.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import dj_database_url
import psycopg
import pytest
from psycopg import sql


def server_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        return url
    return os.environ.get("FALLBACK_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/")


def connect(url: str, dbname: str) -> psycopg.Connection:
    cfg = dj_database_url.parse(url)
    return psycopg.connect(
        host=cfg.get("HOST") or None,
        port=int(cfg["PORT"]) if cfg.get("PORT") else None,
        user=cfg.get("USER") or None,
        password=cfg.get("PASSWORD") or None,
        dbname=dbname,
        connect_timeout=5,
        autocommit=True,
    )


@contextmanager
def fresh_database(prefix: str) -> Iterator[tuple[str, str, str]]:
    """(URL of a new empty database, the server's URL, its name); dropped afterwards."""
    url = server_url()
    try:
        admin = connect(url, "postgres")
    except psycopg.Error as exc:
        if os.environ.get("FALLBACK_TEST_POSTGRES") == "required":
            pytest.fail(f"PostgreSQL at {url} is unreachable ({exc}) and it is required")
        pytest.skip(f"PostgreSQL unreachable: {str(exc).strip().splitlines()[0]}")
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            cfg = dj_database_url.parse(url)
            auth = cfg.get("USER") or ""
            if cfg.get("PASSWORD"):
                auth += f":{cfg['PASSWORD']}"
            host = f"{cfg.get('HOST') or '127.0.0.1'}:{cfg.get('PORT') or 5432}"
            yield f"postgresql://{auth}@{host}/{name}", url, name
        finally:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
