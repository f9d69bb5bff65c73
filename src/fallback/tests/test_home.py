import os
import stat
from pathlib import Path

import pytest

from fallback import home


def test_default_home_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setattr(home.sys, "platform", "linux")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert home.default_home() == tmp_path / "fallback"


def test_default_home_without_xdg_is_in_local_share(monkeypatch):
    monkeypatch.setattr(home.sys, "platform", "linux")
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    assert home.default_home() == Path.home() / ".local" / "share" / "fallback"


def test_fallback_home_overrides_default(monkeypatch, tmp_path):
    monkeypatch.setenv("FALLBACK_HOME", str(tmp_path / "x"))
    assert home.home_path() == tmp_path / "x"


def test_ensure_home_creates_private_folder(tmp_path):
    target = tmp_path / "data"
    home.ensure_home(target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o700


def test_secret_key_is_generated_once_and_kept_private(tmp_path):
    first = home.load_or_create_secret_key(tmp_path)
    second = home.load_or_create_secret_key(tmp_path)
    assert first == second and len(first) >= 50
    assert stat.S_IMODE((tmp_path / home.SECRET_KEY_FILE).stat().st_mode) == 0o600


def test_each_data_folder_gets_its_own_secret_key(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert home.load_or_create_secret_key(tmp_path / "a") != home.load_or_create_secret_key(
        tmp_path / "b"
    )


def test_empty_secret_key_file_is_an_error_not_a_silent_new_key(tmp_path, monkeypatch):
    (tmp_path / home.SECRET_KEY_FILE).write_text("")
    monkeypatch.setattr(home.time, "sleep", lambda s: None)
    with pytest.raises(RuntimeError, match="is empty"):
        home.load_or_create_secret_key(tmp_path)


def test_settings_use_the_generated_key_not_a_constant():
    from django.conf import settings

    key_file = Path(os.environ["FALLBACK_HOME"]) / home.SECRET_KEY_FILE
    assert key_file.read_text().strip() == settings.SECRET_KEY
