from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from fallback.accounts.models import User
from fallback.testing.factories import PASSWORD, make_org, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def newcomer() -> User:
    """Someone an owner added, still on the one-time password."""
    owner = make_user("owner@acme.test")
    org = make_org("Acme", owner=owner)
    user = make_user("new@acme.test")
    user.must_change_password = True
    user.save()
    org.memberships.create(user=user, role="staff")
    return user


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "path",
    ["/", "/account/", "/account/tokens/", "/o/acme/", "/o/acme/settings/members/"],
)
def test_user_with_one_time_password_is_sent_to_change_it(newcomer, path):
    r = client_for(newcomer).get(path)
    assert r.status_code == 302
    assert r.url == f"{reverse('accounts:password_change')}?next={path.replace('/', '%2F')}"


def test_posts_are_redirected_too_and_change_nothing(newcomer):
    r = client_for(newcomer).post(reverse("accounts:tokens"), {"name": "sneaky"})
    assert r.status_code == 302
    assert r.url == reverse("accounts:password_change")
    assert not newcomer.api_tokens.exists()


def test_htmx_requests_get_a_client_side_redirect(newcomer):
    r = client_for(newcomer).get("/o/acme/audit/", headers={"HX-Request": "true"})
    assert r.headers["HX-Redirect"] == reverse("accounts:password_change")


def test_change_password_page_and_logout_stay_reachable(newcomer):
    client = client_for(newcomer)
    page = client.get(reverse("accounts:password_change"))
    assert page.status_code == 200
    assert "Choose your own password" in page.content.decode()
    assert client.post(reverse("logout")).status_code == 302


def test_after_choosing_a_password_the_user_goes_where_they_were_heading(newcomer):
    client = client_for(newcomer)
    new = "my own chosen secret 31"
    r = client.post(
        reverse("accounts:password_change") + "?next=/account/",
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new, "next": "/account/"},
    )
    assert r.status_code == 302
    assert r.url == "/account/"
    assert client.get("/account/").status_code == 200


def test_users_who_chose_their_password_are_not_redirected():
    user = make_user("ann@acme.test")
    assert client_for(user).get("/account/").status_code == 200


def test_anonymous_visitors_are_left_to_the_login_redirect(client):
    r = client.get("/account/")
    assert r.url.startswith(reverse("login"))
