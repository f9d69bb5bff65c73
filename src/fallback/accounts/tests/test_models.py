import pytest
from django.contrib.auth import authenticate
from django.utils import timezone

from fallback.accounts.models import ApiToken, User
from fallback.testing.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db


def test_token_secret_is_not_stored_only_its_digest():
    user = make_user("a@b.test")
    token, secret = ApiToken.issue(user, "backup script")
    row = ApiToken.objects.get(pk=token.pk)
    assert secret not in (row.digest, row.prefix, row.name)
    assert secret.startswith(row.prefix)
    assert ApiToken.authenticate(secret) == user


def test_revoked_or_wrong_token_authenticates_nobody():
    user = make_user("a@b.test")
    token, secret = ApiToken.issue(user, "t")
    assert ApiToken.authenticate(secret + "x") is None
    assert ApiToken.authenticate("not-a-token") is None
    token.revoked_at = timezone.now()
    token.save()
    assert ApiToken.authenticate(secret) is None


def test_token_of_deactivated_user_authenticates_nobody():
    user = make_user("a@b.test")
    _, secret = ApiToken.issue(user, "t")
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert ApiToken.authenticate(secret) is None


def test_email_login_ignores_case(rf):
    make_user("Ann@Example.test")
    request = rf.post("/login/")
    assert authenticate(request, username="ANN@example.TEST", password=PASSWORD) is not None


@pytest.mark.real_password_hashing
def test_passwords_are_hashed_with_argon2():
    assert make_user("a@b.test").password.startswith("argon2")
