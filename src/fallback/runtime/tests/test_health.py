import os
from pathlib import Path

import pytest

from fallback.runtime import health


def test_data_folder_readable_by_others_is_a_warning_with_chmod_fix():
    home = Path(os.environ["FALLBACK_HOME"])
    home.chmod(0o755)
    try:
        r = health.check_data_folder()
    finally:
        home.chmod(0o700)
    assert r.status == health.Status.WARN
    assert r.fix == f"chmod 700 {home}"


def test_missing_data_folder_is_a_problem(settings, tmp_path):
    settings.FALLBACK_HOME = tmp_path / "gone"
    assert health.check_data_folder().status == health.Status.FAIL


def test_low_disk_space_is_a_problem(monkeypatch):
    monkeypatch.setattr(
        health.shutil, "disk_usage", lambda p: type("U", (), {"free": 10 * 1024**2})()
    )
    r = health.check_disk()
    assert r.status == health.Status.FAIL and "10 MB" in r.detail


@pytest.mark.django_db
def test_unapplied_migration_is_a_problem(monkeypatch):
    class Executor:
        def __init__(self, conn):
            self.loader = type(
                "L", (), {"graph": type("G", (), {"leaf_nodes": lambda self: []})()}
            )()

        def migration_plan(self, targets):
            return [("accounts", "0099")]

    monkeypatch.setattr(health, "MigrationExecutor", Executor)
    r = health.check_migrations()
    assert r.status == health.Status.FAIL and "fallback serve" in r.fix


def test_unsynchronised_clock_is_a_warning(monkeypatch):
    monkeypatch.setattr(health, "_ntp_synchronised", lambda: False)
    monkeypatch.setattr(health.connection, "vendor", "sqlite")
    assert health.check_clock().status == health.Status.WARN
