"""`fallback vault …`: keygen shows the private key once and stores only the public key; the
set-up commands refuse bad input naming it; snapshot, list, verify and check-destination
say what happened and exit non-zero when something failed."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from fallback import sealing
from fallback.cli.app import app
from fallback.vault.models import Destination, FileSet, Recipient, Snapshot, VaultSettings

pytestmark = pytest.mark.django_db(transaction=True)
runner = CliRunner()
SECRET = re.compile(r"AGE-SECRET-KEY-1[0-9A-Z]+")


@pytest.fixture(autouse=True)
def home(settings, tmp_path):
    folder = tmp_path / "home"
    folder.mkdir()
    settings.FALLBACK_HOME = folder
    sealing.forget_identity()
    yield folder
    sealing.forget_identity()


def vault(*args: str):
    return runner.invoke(app, ["vault", *args])


def ready(tmp_path):
    assert vault("keygen", "--label", "Binder").exit_code == 0
    (tmp_path / "usb").mkdir()
    assert vault("destination", "add", "usb", "--folder", str(tmp_path / "usb")).exit_code == 0


def test_keygen_shows_the_private_key_once_and_stores_only_the_public_key():
    result = vault("keygen", "--label", "Binder copy")
    assert result.exit_code == 0, result.output
    [secret] = SECRET.findall(result.output)
    assert "this is the only time it is shown" in result.output
    assert "print it" in result.output.lower() and "safe" in result.output
    stored = Recipient.objects.get()
    assert stored.label == "Binder copy" and stored.sealed_identity == ""
    assert secret not in str(list(Recipient.objects.values()))
    status = vault("status")
    assert stored.public_key in status.output and not SECRET.search(status.output)


def test_keygen_keep_on_box_stores_it_sealed():
    result = vault("keygen", "--keep-on-box")
    assert result.exit_code == 0
    assert "ALSO stored on this box, sealed" in result.output
    assert Recipient.objects.get().sealed_identity.startswith(sealing.PREFIX)


def test_destination_add_refuses_bad_input_and_changes_nothing(tmp_path):
    both = vault("destination", "add", "x", "--folder", str(tmp_path), "--bucket", "b")
    assert both.exit_code == 2 and "either --folder PATH or --bucket NAME" in both.output
    half = vault("destination", "add", "offsite", "--bucket", "b", "--access-key-env", "K")
    assert half.exit_code == 2
    assert "Nothing was changed" in half.output and "--secret-key-env" in half.output
    assert not Destination.objects.exists()


def test_a_snapshot_from_the_command_line_lists_its_copies(tmp_path, monkeypatch):
    from fallback.cli import bootstrap

    monkeypatch.setattr(bootstrap.console, "width", 160)  # a wide terminal: one line a row
    ready(tmp_path)
    result = vault("snapshot")
    assert result.exit_code == 0, result.output
    done = Snapshot.objects.get()
    assert done.name in result.output and "Stored" in result.output
    listed = vault("list")
    assert listed.exit_code == 0 and done.name in listed.output
    assert "never" in listed.output  # not restore-tested yet


def test_verify_exits_non_zero_naming_a_damaged_snapshot(tmp_path):
    ready(tmp_path)
    vault("snapshot")
    done = Snapshot.objects.get()
    ok = vault("verify")
    assert ok.exit_code == 0 and "OK" in ok.output and "Integrity only" in ok.output
    stored = tmp_path / "usb" / done.name
    stored.chmod(0o600)
    data = bytearray(stored.read_bytes())
    data[100] ^= 0xFF
    stored.write_bytes(bytes(data))
    bad = vault("verify")
    assert bad.exit_code == 1
    assert f"Snapshot {done.name} on destination 'usb'" in bad.output


def test_a_full_verify_with_the_binder_s_key(tmp_path):
    result = vault("keygen")
    [secret] = SECRET.findall(result.output)
    key = tmp_path / "key.txt"
    key.write_text(secret + "\n")
    (tmp_path / "usb").mkdir()
    vault("destination", "add", "usb", "--folder", str(tmp_path / "usb"))
    vault("snapshot")
    full = vault("verify", "--identity", str(key))
    assert full.exit_code == 0, full.output
    assert "Full restore test" in full.output and "accounts_organisation" in full.output


def test_check_destination_explains_a_missing_folder(tmp_path):
    vault("destination", "add", "usb", "--folder", str(tmp_path / "unplugged"))
    result = vault("check-destination")
    assert result.exit_code == 1
    assert "is the disk plugged in" in result.output


def test_file_sets_and_schedule_from_the_command_line(tmp_path):
    company = tmp_path / "company.qbw"
    company.write_bytes(b"QBW")
    added = vault("fileset", "add", "accounts", str(company), "--exclude", "*.tmp")
    assert added.exit_code == 0, added.output
    assert FileSet.objects.get().excludes == ["*.tmp"]
    changed = vault("schedule", "--every-minutes", "30", "--daily", "14")
    assert changed.exit_code == 0 and "every 30 minutes" in changed.output
    config = VaultSettings.load()
    assert (config.daily_keep, config.snapshot_every_minutes) == (14, 30)
    refused = vault("schedule", "--hourly", "0", "--daily", "0", "--monthly", "0")
    assert refused.exit_code == 2 and "Keep at least one tier" in refused.output


def test_restore_without_a_key_says_where_to_find_it(tmp_path):
    ready(tmp_path)
    vault("snapshot")
    result = vault("restore", "--at", "now", "--to", str(tmp_path / "restored"))
    assert result.exit_code == 2
    assert "--identity FILE" in result.output
