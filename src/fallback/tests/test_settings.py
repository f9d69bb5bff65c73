import pytest
from django.conf import settings
from django.db import connection


def test_session_and_csrf_cookies_are_httponly():
    assert settings.SESSION_COOKIE_HTTPONLY and settings.CSRF_COOKIE_HTTPONLY


def test_sessions_expire_within_a_working_day():
    assert settings.SESSION_COOKIE_AGE <= 12 * 3600


def test_login_is_throttled_by_axes():
    assert "axes.middleware.AxesMiddleware" in settings.MIDDLEWARE
    assert settings.AXES_FAILURE_LIMIT == 5


@pytest.mark.real_password_hashing
def test_strong_password_hashing_comes_first():
    assert settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


def test_sqlite_runs_in_wal_mode(django_db_blocker):
    if connection.vendor != "sqlite":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        mode = cursor.fetchone()[0]
    assert mode == "wal"
