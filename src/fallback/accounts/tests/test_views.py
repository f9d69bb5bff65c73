from __future__ import annotations

import hashlib

import pytest
from django.test import Client
from django.urls import reverse

from fallback.accounts.models import ApiToken, Membership, Organisation, User
from fallback.accounts.roles import Role
from fallback.audit.models import AuditEvent
from fallback.testing.factories import PASSWORD, join, make_org, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    """Ann owns Acme (Mo manages, Val views); Bob owns Bravo. Nobody crosses over."""
    ann, bob = make_user("ann@acme.test"), make_user("bob@bravo.test")
    acme, bravo = make_org("Acme", owner=ann), make_org("Bravo", owner=bob)
    mo = make_user("mo@acme.test")
    val = make_user("val@acme.test")
    join(acme, mo, Role.MANAGER)
    join(acme, val, Role.VIEWER)
    return {"ann": ann, "bob": bob, "mo": mo, "val": val, "acme": acme, "bravo": bravo}


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def membership(org: Organisation, user: User) -> Membership:
    return Membership.objects.get(org=org, user=user)


def settings_url(org: Organisation) -> str:
    return reverse("accounts:org_settings", kwargs={"org_slug": org.slug})


def members_url(org: Organisation) -> str:
    return reverse("accounts:members", kwargs={"org_slug": org.slug})


def member_url(org: Organisation, m: Membership) -> str:
    return reverse("accounts:member", kwargs={"org_slug": org.slug, "member_id": m.pk})


# --------------------------------------------------------------------- login


def test_login_page_asks_for_email(client):
    r = client.get(reverse("login"))
    assert r.status_code == 200
    html = r.content.decode()
    assert 'type="email"' in html
    assert ">Email<" in html


def test_login_with_right_password_lands_on_home(client, world):
    r = client.post(reverse("login"), {"username": "ann@acme.test", "password": PASSWORD})
    assert r.status_code == 302
    assert r.url == reverse("front:home")


def test_login_email_is_case_insensitive(client, world):
    r = client.post(reverse("login"), {"username": "ANN@Acme.test", "password": PASSWORD})
    assert r.status_code == 302


def test_login_with_wrong_password_says_so_and_stays(client, world):
    r = client.post(reverse("login"), {"username": "ann@acme.test", "password": "wrong"})
    assert r.status_code == 200
    assert "correct email address and password" in r.content.decode()


def test_five_wrong_passwords_lock_the_account_for_15_minutes(client, world):
    for _ in range(4):
        r = client.post(reverse("login"), {"username": "ann@acme.test", "password": "nope"})
        assert r.status_code == 200
    r = client.post(reverse("login"), {"username": "ann@acme.test", "password": "nope"})
    assert r.status_code == 429
    assert "locked for 15 minutes" in r.content.decode()
    # Even the right password is refused while locked.
    r = client.post(reverse("login"), {"username": "ann@acme.test", "password": PASSWORD})
    assert r.status_code == 429
    assert "_auth_user_id" not in client.session


def test_lockout_is_per_account(client, world):
    for _ in range(5):
        client.post(reverse("login"), {"username": "ann@acme.test", "password": "nope"})
    r = client.post(reverse("login"), {"username": "bob@bravo.test", "password": PASSWORD})
    assert r.status_code == 302


def test_changing_the_case_of_the_email_does_not_get_round_the_lockout(client, world):
    for spelling in ["ann@acme.test", "ANN@acme.test", "Ann@Acme.test", "aNN@acme.TEST"]:
        client.post(reverse("login"), {"username": spelling, "password": "nope"})
    r = client.post(reverse("login"), {"username": "ann@ACME.test", "password": "nope"})
    assert r.status_code == 429


def test_logout_needs_post(world):
    client = logged_in(world["ann"])
    assert client.get(reverse("logout")).status_code == 405
    r = client.post(reverse("logout"))
    assert r.status_code == 302
    assert "_auth_user_id" not in client.session


def test_post_without_csrf_token_is_refused(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world["ann"])
    r = client.post(
        settings_url(world["acme"]),
        {"name": "Hacked", "time_zone": "UTC", "currency": "GBP", "locale": "en-GB"},
    )
    assert r.status_code == 403
    world["acme"].refresh_from_db()
    assert world["acme"].name == "Acme"


def test_post_with_csrf_token_from_the_page_is_accepted(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world["ann"])
    page = client.get(settings_url(world["acme"]))
    token = page.context["csrf_token"]
    r = client.post(
        settings_url(world["acme"]),
        {
            "name": "Acme Ltd",
            "time_zone": "UTC",
            "currency": "GBP",
            "locale": "en-GB",
            "csrfmiddlewaretoken": str(token),
        },
    )
    assert r.status_code == 302


# ------------------------------------------------------------------- account


def test_account_page_saves_name(world):
    client = logged_in(world["ann"])
    r = client.post(reverse("accounts:account"), {"first_name": "Ann", "last_name": "Archer"})
    assert r.status_code == 302
    world["ann"].refresh_from_db()
    assert world["ann"].get_full_name() == "Ann Archer"


def test_account_page_needs_login(client):
    r = client.get(reverse("accounts:account"))
    assert r.status_code == 302
    assert r.url.startswith(reverse("login"))


def test_password_change_clears_must_change_flag_and_keeps_session(world):
    ann = world["ann"]
    ann.must_change_password = True
    ann.save()
    client = logged_in(ann)
    r = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a brand new secret 77",
            "new_password2": "a brand new secret 77",
        },
    )
    assert r.status_code == 302
    ann.refresh_from_db()
    assert not ann.must_change_password
    assert ann.check_password("a brand new secret 77")
    assert client.get(reverse("accounts:account")).status_code == 200
    assert AuditEvent.objects.filter(action="account.password_changed", org=None).exists()


def test_password_change_refuses_the_current_password(world):
    client = logged_in(world["ann"])
    r = client.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": PASSWORD, "new_password2": PASSWORD},
    )
    assert r.status_code == 200
    assert "this is the one you have now" in r.content.decode()


def test_password_change_goes_to_next_page_on_this_site_only(world):
    client = logged_in(world["ann"])
    data = {
        "old_password": PASSWORD,
        "new_password1": "another new secret 99",
        "new_password2": "another new secret 99",
        "next": "https://evil.example/",
    }
    r = client.post(reverse("accounts:password_change"), data)
    assert r.url == reverse("front:home")


# ---------------------------------------------------------------- API tokens


def test_token_secret_is_shown_once_and_only_its_hash_is_stored(world):
    client = logged_in(world["ann"])
    r = client.post(reverse("accounts:tokens"), {"name": "backup script"})
    assert r.status_code == 200
    assert "no-store" in r["Cache-Control"] or "max-age=0" in r["Cache-Control"]
    secret = r.context["secret"]
    assert secret.startswith("fbk_")
    html = r.content.decode()
    assert secret in html
    assert f'curl -H "Authorization: Bearer {secret}" http://testserver/api/orgs' in html
    token = ApiToken.objects.get(user=world["ann"])
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in {token.name, token.prefix, token.digest}
    # The list page afterwards shows the prefix only.
    later = client.get(reverse("accounts:tokens")).content.decode()
    assert secret not in later
    assert token.prefix in later


def test_new_token_works_against_the_api(world):
    client = logged_in(world["ann"])
    secret = client.post(reverse("accounts:tokens"), {"name": "cli"}).context["secret"]
    api = Client()
    r = api.get("/api/orgs", headers={"Authorization": f"Bearer {secret}"})
    assert r.status_code == 200


def test_token_needs_a_name(world):
    client = logged_in(world["ann"])
    r = client.post(reverse("accounts:tokens"), {"name": "  "})
    assert r.status_code == 200
    assert "Token name:" in r.content.decode()
    assert not ApiToken.objects.exists()


def test_tokens_page_lists_only_own_tokens(world):
    ApiToken.issue(world["bob"], "bob's secret robot")
    ApiToken.issue(world["ann"], "ann's robot")
    html = logged_in(world["ann"]).get(reverse("accounts:tokens")).content.decode()
    assert "ann&#x27;s robot" in html
    assert "bob&#x27;s secret robot" not in html


def test_token_revoke_stops_it_and_is_audited(world):
    token, secret = ApiToken.issue(world["ann"], "old script")
    client = logged_in(world["ann"])
    r = client.post(reverse("accounts:token_revoke", kwargs={"token_id": token.pk}))
    assert r.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    event = AuditEvent.objects.get(action="api_token.revoked")
    assert event.org is None
    assert event.actor == world["ann"]
    assert (
        Client().get("/api/orgs", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    )


def test_token_revoke_needs_post(world):
    token, _ = ApiToken.issue(world["ann"], "x")
    r = logged_in(world["ann"]).get(reverse("accounts:token_revoke", kwargs={"token_id": token.pk}))
    assert r.status_code == 405


def test_another_users_token_answers_404(world):
    token, _ = ApiToken.issue(world["bob"], "bob's")
    r = logged_in(world["ann"]).post(
        reverse("accounts:token_revoke", kwargs={"token_id": token.pk})
    )
    assert r.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


# ----------------------------------------------------- organisation settings


def test_owner_saves_settings_and_it_is_audited(world):
    client = logged_in(world["ann"])
    r = client.post(
        settings_url(world["acme"]),
        {"name": "Acme Ltd", "time_zone": "Europe/Paris", "currency": "eur", "locale": "fr_fr"},
    )
    assert r.status_code == 302
    acme = Organisation.objects.get(pk=world["acme"].pk)
    assert (acme.name, acme.time_zone, acme.currency, acme.locale) == (
        "Acme Ltd",
        "Europe/Paris",
        "EUR",
        "fr-FR",
    )
    event = AuditEvent.objects.filter(org=acme, action="organisation.updated").get()
    assert event.changes["name"] == ["Acme", "Acme Ltd"]


@pytest.mark.parametrize(
    ("field", "value", "label"),
    [
        ("time_zone", "Mars/Olympus", "Time zone:"),
        ("currency", "G1P", "Currency:"),
        ("locale", "english", "Locale:"),
        ("name", "   ", "Organisation name:"),
    ],
)
def test_bad_setting_names_the_field_and_changes_nothing(world, field, value, label):
    data = {"name": "Acme Ltd", "time_zone": "UTC", "currency": "USD", "locale": "en-US"}
    data[field] = value
    r = logged_in(world["ann"]).post(settings_url(world["acme"]), data)
    assert r.status_code == 200
    assert label in r.content.decode()
    acme = Organisation.objects.get(pk=world["acme"].pk)
    assert (acme.name, acme.currency) == ("Acme", "GBP")
    assert not AuditEvent.objects.filter(action="organisation.updated").exists()


def test_viewer_sees_settings_read_only(world):
    r = logged_in(world["val"]).get(settings_url(world["acme"]))
    assert r.status_code == 200
    html = r.content.decode()
    assert '<form method="post">' not in html
    assert "Europe/London" in html


@pytest.mark.parametrize("who", ["val", "mo"])
def test_settings_post_without_manage_organisation_is_403(world, who):
    r = logged_in(world[who]).post(
        settings_url(world["acme"]),
        {"name": "Mine now", "time_zone": "UTC", "currency": "GBP", "locale": "en-GB"},
    )
    assert r.status_code == 403
    assert Organisation.objects.get(pk=world["acme"].pk).name == "Acme"


# ------------------------------------------------------------------- members


def test_members_page_lists_members_and_the_roles_matrix(world):
    r = logged_in(world["val"]).get(members_url(world["acme"]))
    html = r.content.decode()
    assert all(e in html for e in ["ann@acme.test", "mo@acme.test", "val@acme.test"])
    assert "bob@bravo.test" not in html
    assert "What each role may do" in html
    assert "Add a member" not in html  # a viewer cannot add


def test_adding_a_new_person_shows_their_one_time_password_once(world):
    client = logged_in(world["ann"])
    r = client.post(
        members_url(world["acme"]),
        {"email": "Nia@Acme.test", "name": "Nia Jones", "role": Role.STAFF},
    )
    assert r.status_code == 200
    html = r.content.decode()
    temporary = r.context["added"].temporary_password
    assert temporary and temporary in html
    assert "they will choose their own at first login" in html
    nia = User.objects.get(email="nia@acme.test")
    assert nia.check_password(temporary)
    assert nia.must_change_password
    assert membership(world["acme"], nia).role == Role.STAFF
    assert temporary not in client.get(members_url(world["acme"])).content.decode()


def test_adding_someone_with_an_account_needs_no_password(world):
    r = logged_in(world["ann"]).post(
        members_url(world["acme"]), {"email": "bob@bravo.test", "role": Role.VIEWER}
    )
    assert r.status_code == 302
    assert membership(world["acme"], world["bob"]).role == Role.VIEWER


def test_adding_an_existing_member_shows_the_rule_as_form_error(world):
    r = logged_in(world["ann"]).post(
        members_url(world["acme"]), {"email": "mo@acme.test", "role": Role.STAFF}
    )
    assert r.status_code == 200
    assert "already a member of Acme" in r.content.decode()


def test_manager_is_not_offered_owner_and_cannot_grant_it(world):
    client = logged_in(world["mo"])
    page = client.get(members_url(world["acme"]))
    choices = [value for value, _ in page.context["form"].fields["role"].choices]
    assert Role.OWNER not in choices
    r = client.post(members_url(world["acme"]), {"email": "z@acme.test", "role": Role.OWNER})
    assert r.status_code == 200
    assert "Role:" in r.content.decode()
    assert not User.objects.filter(email="z@acme.test").exists()


def test_bad_email_names_the_field(world):
    r = logged_in(world["ann"]).post(
        members_url(world["acme"]), {"email": "not-an-email", "role": Role.STAFF}
    )
    assert "Email: Enter a valid email address." in r.content.decode()
    assert Membership.objects.filter(org=world["acme"]).count() == 3


def test_owner_changes_a_role(world):
    m = membership(world["acme"], world["val"])
    r = logged_in(world["ann"]).post(member_url(world["acme"], m), {"role": Role.STAFF})
    assert r.status_code == 302
    m.refresh_from_db()
    assert m.role == Role.STAFF
    assert AuditEvent.objects.filter(action="member.role_changed").exists()


def test_inline_role_change_with_htmx_returns_the_row(world):
    m = membership(world["acme"], world["val"])
    r = logged_in(world["ann"]).post(
        member_url(world["acme"], m),
        {"action": "role", "role": Role.MANAGER},
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 200
    html = r.content.decode()
    assert html.lstrip().startswith(f'<tr id="member-{m.pk}"')
    assert "Saved: now Manager" in html
    m.refresh_from_db()
    assert m.role == Role.MANAGER


def test_last_owner_cannot_step_down_and_is_told_why(world):
    m = membership(world["acme"], world["ann"])
    r = logged_in(world["ann"]).post(member_url(world["acme"], m), {"role": Role.STAFF})
    assert r.status_code == 200
    assert "needs at least one owner" in r.content.decode()
    m.refresh_from_db()
    assert m.role == Role.OWNER


def test_manager_cannot_touch_an_owner(world):
    owner = membership(world["acme"], world["ann"])
    client = logged_in(world["mo"])
    page = client.get(member_url(world["acme"], owner)).content.decode()
    assert "Only an owner can change an owner" in page
    r = client.post(member_url(world["acme"], owner), {"action": "remove"})
    assert r.status_code == 200
    assert "Only an owner can remove an owner" in r.content.decode()
    assert Membership.objects.filter(pk=owner.pk).exists()


def test_owner_removes_a_member(world):
    m = membership(world["acme"], world["val"])
    r = logged_in(world["ann"]).post(member_url(world["acme"], m), {"action": "remove"})
    assert r.status_code == 302
    assert r.url == members_url(world["acme"])
    assert not Membership.objects.filter(pk=m.pk).exists()
    assert User.objects.filter(pk=world["val"].pk).exists()  # the account stays


def test_member_who_removes_themself_goes_home(world):
    m = membership(world["acme"], world["mo"])
    r = logged_in(world["mo"]).post(member_url(world["acme"], m), {"action": "remove"})
    assert r.url == reverse("front:home")


@pytest.mark.parametrize(
    "post",
    [
        ("members", {"email": "x@acme.test", "role": Role.VIEWER}),
        ("member", {"action": "role", "role": Role.VIEWER}),
        ("member", {"action": "remove"}),
    ],
)
def test_viewer_gets_403_on_member_changes(world, post):
    name, data = post
    target = membership(world["acme"], world["mo"])
    url = members_url(world["acme"]) if name == "members" else member_url(world["acme"], target)
    r = logged_in(world["val"]).post(url, data)
    assert r.status_code == 403
    target.refresh_from_db()
    assert target.role == Role.MANAGER
    assert not User.objects.filter(email="x@acme.test").exists()


# ------------------------------------------------------------ org isolation


@pytest.mark.parametrize("name", ["org_settings", "members", "member"])
def test_org_pages_of_another_organisation_answer_404(world, name):
    bravo = world["bravo"]
    kwargs: dict[str, object] = {"org_slug": bravo.slug}
    if name == "member":
        kwargs["member_id"] = membership(bravo, world["bob"]).pk
    client = logged_in(world["ann"])
    assert client.get(reverse(f"accounts:{name}", kwargs=kwargs)).status_code == 404
    assert client.post(reverse(f"accounts:{name}", kwargs=kwargs), {}).status_code == 404


def test_member_id_of_another_org_under_own_slug_answers_404(world):
    bobs = membership(world["bravo"], world["bob"])
    url = member_url(world["acme"], bobs)
    client = logged_in(world["ann"])
    assert client.get(url).status_code == 404
    assert client.post(url, {"action": "remove"}).status_code == 404
    assert Membership.objects.filter(pk=bobs.pk).exists()


def test_unknown_org_looks_the_same_as_someone_elses(world):
    client = logged_in(world["ann"])
    r = client.get(reverse("accounts:org_settings", kwargs={"org_slug": "no-such-org"}))
    assert r.status_code == 404
