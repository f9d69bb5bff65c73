import pytest


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    # Applying creates accounts; Argon2 would make each one take a noticeable moment.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
