"""Secrets at rest: sealed with the installation's age key, readable only with it."""

import stat

import pyrage
import pytest

from fallback import sealing


@pytest.fixture(autouse=True)
def fresh_identity(settings, tmp_path, monkeypatch):
    settings.FALLBACK_HOME = tmp_path
    monkeypatch.delenv("FALLBACK_SEALING_KEY", raising=False)
    sealing.forget_identity()
    yield
    sealing.forget_identity()


def test_sealed_value_round_trips_and_does_not_contain_the_secret(tmp_path):
    sealed = sealing.seal("shpat_very_secret")
    assert "shpat_very_secret" not in sealed
    assert sealed.startswith("age1:")
    assert sealing.unseal(sealed) == "shpat_very_secret"


def test_key_file_is_created_private(tmp_path):
    sealing.seal("x")
    key_file = tmp_path / sealing.SEALING_KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_text().startswith("AGE-SECRET-KEY-1")


def test_another_key_cannot_open_it(monkeypatch):
    sealed = sealing.seal("secret")
    monkeypatch.setenv("FALLBACK_SEALING_KEY", str(pyrage.x25519.Identity.generate()))
    sealing.forget_identity()
    with pytest.raises(sealing.SealingError, match="could not be opened"):
        sealing.unseal(sealed)


def test_key_from_the_environment_is_used(monkeypatch, tmp_path):
    monkeypatch.setenv("FALLBACK_SEALING_KEY", str(pyrage.x25519.Identity.generate()))
    sealing.forget_identity()
    assert sealing.unseal(sealing.seal("v")) == "v"
    assert not (tmp_path / sealing.SEALING_KEY_FILE).exists()


def test_empty_stays_empty():
    assert sealing.seal("") == ""
    assert sealing.unseal("") == ""
