"""The database copy: one consistent moment (SQLite backup API, or pg_dump from the snapshot
the rows were counted in), and the checks a restore test makes of a copy."""

from __future__ import annotations

import sqlite3

import pytest
from django.db import connection

from fallback.testing.factories import make_org
from fallback.testing.postgres import fresh_database
from fallback.vault import database
from fallback.vault.database import DatabaseError

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_copy_holds_the_committed_rows_and_counts_them(tmp_path):
    make_org("Hartley Plumbing")
    make_org("Bluebell Florists")
    with database.dumped(tmp_path / "work") as dump:
        assert dump.path.exists()
        assert dump.row_counts["accounts_organisation"] == 2
        assert dump.member in (database.SQLITE_MEMBER, database.PGDUMP_MEMBER)
        if dump.kind == database.SQLITE:
            assert database.check_sqlite(dump.path, dump.row_counts) == dump.row_counts
        else:
            assert database.check_pgdump(dump.path, dump.row_counts) == dump.row_counts
    assert not dump.path.exists()


def test_a_copy_whose_rows_differ_from_the_snapshot_s_counts_is_refused(tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("row counts are compared in SQLite copies")
    make_org("Hartley Plumbing")
    with database.dumped(tmp_path / "work") as dump:
        db = sqlite3.connect(dump.path)
        db.execute("DELETE FROM accounts_organisation")
        db.commit()
        db.close()
        with pytest.raises(DatabaseError, match="accounts_organisation: 0 rows, 1 when taken"):
            database.check_sqlite(dump.path, dump.row_counts)


def test_a_file_that_is_not_a_database_is_refused(tmp_path):
    junk = tmp_path / "fallback.sqlite3"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(DatabaseError):
        database.check_sqlite(junk, {})
    with pytest.raises(DatabaseError, match="does not open"):
        database.check_pgdump(junk, {})


def test_a_dump_is_restored_only_into_an_empty_database(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL dumps")
    make_org("Hartley Plumbing")
    with (
        database.dumped(tmp_path / "work") as dump,
        fresh_database("fallback_vault_db") as (
            url,
            _,
            _,
        ),
    ):
        database.restore_pgdump(dump.path, url)
        with pytest.raises(DatabaseError, match="already has"):
            database.restore_pgdump(dump.path, url)
