"""Snapshot names carry the installation and the UTC time, so a restore can choose one by
name alone."""

from datetime import UTC, datetime, timedelta, timezone

from fallback.vault.naming import parse, snapshot_name


def test_a_name_says_the_installation_and_the_utc_time():
    at = datetime(2026, 11, 20, 15, 4, 5, tzinfo=timezone(timedelta(hours=1)))
    name = snapshot_name("office-box", at)
    assert name == "fallback-office-box-20261120T140405Z.tar.zst.age"
    assert parse(name) == ("office-box", datetime(2026, 11, 20, 14, 4, 5, tzinfo=UTC))


def test_other_files_are_not_snapshots():
    assert parse("fallback-box-20261120T140405Z.tar.zst.age.partial") is None
    assert parse("fallback-box-20261120T140405Z.tar.zst.age.json") is None
    assert parse("fallback-box-20261399T999999Z.tar.zst.age") is None
    assert parse("notes.txt") is None
