"""Changing the set-up: each change validated whole (a bad field is named, nothing saved)
and recorded in the audit trail as an installation-level event."""

from __future__ import annotations

import pytest

from fallback.audit.models import AuditEvent
from fallback.vault import editing
from fallback.vault.editing import ConfigProblem
from fallback.vault.models import Destination, FileSet, Kind, VaultSettings

pytestmark = pytest.mark.django_db


def test_a_local_destination_needs_a_full_path():
    with pytest.raises(ConfigProblem) as problem:
        editing.save_destination(None, name="usb", kind=Kind.LOCAL, path="backups")
    assert "full path" in problem.value.errors["path"][0]
    assert not Destination.objects.exists()


def test_an_s3_destination_needs_a_bucket_and_both_variables_or_neither():
    with pytest.raises(ConfigProblem) as problem:
        editing.save_destination(
            None, name="offsite", kind=Kind.S3, access_key_env="K", endpoint_url="s3.example"
        )
    assert set(problem.value.errors) == {"bucket", "secret_key_env", "endpoint_url"}
    saved = editing.save_destination(None, name="offsite", kind=Kind.S3, bucket="backups")
    assert saved.location == "s3://backups"


def test_names_are_unique_and_changes_are_audited(tmp_path):
    saved = editing.save_destination(None, name="usb", kind=Kind.LOCAL, path=str(tmp_path))
    with pytest.raises(ConfigProblem) as problem:
        editing.save_destination(None, name="usb", kind=Kind.LOCAL, path=str(tmp_path))
    assert "name" in problem.value.errors
    editing.save_destination(saved, min_lock_days=7)
    event = AuditEvent.objects.get(action="vault.destination.changed")
    assert event.org is None and event.changes == {"min_lock_days": [0, 7]}
    editing.remove_destination(saved)
    assert AuditEvent.objects.filter(action="vault.destination.removed").exists()


def test_switching_a_destination_to_a_folder_forgets_its_bucket(tmp_path):
    saved = editing.save_destination(None, name="x", kind=Kind.S3, bucket="b", region="eu")
    editing.save_destination(saved, kind=Kind.LOCAL, path=str(tmp_path))
    saved.refresh_from_db()
    assert (saved.bucket, saved.region, saved.path) == ("", "", str(tmp_path))


def test_a_file_set_needs_full_distinct_paths():
    with pytest.raises(ConfigProblem) as problem:
        editing.save_file_set(None, name="docs", paths=["/a/templates", "/b/templates"])
    assert "would both be kept as templates" in problem.value.errors["paths"][0]
    with pytest.raises(ConfigProblem):
        editing.save_file_set(None, name="docs", paths=[])
    assert not FileSet.objects.exists()


def test_settings_refuse_keeping_nothing_and_a_bad_installation_name():
    with pytest.raises(ConfigProblem) as problem:
        editing.save_settings(hourly_keep=0, daily_keep=0, monthly_keep=0, installation="Bad Name")
    assert "__all__" in problem.value.errors and "installation" in problem.value.errors
    assert VaultSettings.load().hourly_keep == 48
    editing.save_settings(snapshot_every_minutes=15)
    assert AuditEvent.objects.get(action="vault.settings.changed").changes == {
        "snapshot_every_minutes": [60, 15]
    }
