from __future__ import annotations

import pytest

from fallback.accounts.forms import (
    AddMemberForm,
    ChangePasswordForm,
    EmailAuthenticationForm,
    OrganisationSettingsForm,
    RoleForm,
    TokenForm,
    time_zone_choices,
)
from fallback.accounts.roles import Role, grantable_roles
from fallback.testing.factories import PASSWORD, make_org, make_user


def settings_data(**changes: str) -> dict[str, str]:
    data = {"name": "Acme", "time_zone": "Europe/London", "currency": "GBP", "locale": "en-GB"}
    data.update(changes)
    return data


def test_login_field_is_labelled_email_and_is_an_email_input():
    field = EmailAuthenticationForm().fields["username"]
    assert field.label == "Email"
    assert field.widget.input_type == "email"
    assert field.widget.attrs["autocomplete"] == "email"


def test_time_zone_choices_come_from_zoneinfo():
    values = [v for v, _ in time_zone_choices()]
    assert "Europe/London" in values
    assert "America/New_York" in values
    assert values == sorted(values)


def test_settings_form_normalises_currency_and_locale():
    form = OrganisationSettingsForm(data=settings_data(currency=" eur ", locale="fr_fr"))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["currency"] == "EUR"
    assert form.cleaned_data["locale"] == "fr-FR"


def test_settings_form_accepts_a_language_without_region():
    form = OrganisationSettingsForm(data=settings_data(locale="de"))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["locale"] == "de"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("time_zone", "Europe/Atlantis"),
        ("time_zone", "../../etc/passwd"),
        ("currency", "GB"),
        ("currency", "GBPX"),
        ("currency", "£££"),
        ("locale", "english"),
        ("locale", "en-GBR"),
        ("name", "   "),
    ],
)
def test_settings_form_rejects_bad_value_on_its_field(field, value):
    form = OrganisationSettingsForm(data=settings_data(**{field: value}))
    assert not form.is_valid()
    assert list(form.errors) == [field]


@pytest.mark.django_db
def test_settings_form_for_org_starts_from_current_values():
    org = make_org("Acme")
    form = OrganisationSettingsForm.for_org(org)
    assert form.initial == {
        "name": "Acme",
        "time_zone": org.time_zone,
        "currency": org.currency,
        "locale": org.locale,
    }


def test_add_member_form_offers_only_the_given_roles():
    form = AddMemberForm(roles=grantable_roles(Role.MANAGER))
    offered = [v for v, _ in form.fields["role"].choices]
    assert Role.OWNER not in offered
    assert form.initial["role"] == Role.STAFF


def test_add_member_form_refuses_a_role_not_offered():
    form = AddMemberForm(
        data={"email": "a@b.test", "role": Role.OWNER}, roles=grantable_roles(Role.MANAGER)
    )
    assert not form.is_valid()
    assert "role" in form.errors


def test_add_member_form_needs_a_valid_email_but_not_a_name():
    form = AddMemberForm(data={"email": "nope", "role": Role.STAFF}, roles=list(Role))
    assert list(form.errors) == ["email"]


def test_role_form_with_no_grantable_roles_accepts_nothing():
    form = RoleForm(data={"role": Role.VIEWER}, roles=grantable_roles(Role.VIEWER))
    assert not form.is_valid()


def test_token_form_strips_and_requires_a_name():
    assert not TokenForm(data={"name": "   "}).is_valid()
    form = TokenForm(data={"name": "  nightly export "})
    assert form.is_valid()
    assert form.cleaned_data["name"] == "nightly export"


@pytest.mark.django_db
def test_change_password_form_refuses_the_current_password():
    user = make_user("ann@acme.test")
    form = ChangePasswordForm(
        user,
        data={"old_password": PASSWORD, "new_password1": PASSWORD, "new_password2": PASSWORD},
    )
    assert not form.is_valid()
    assert "new_password1" in form.errors


@pytest.mark.django_db
def test_change_password_form_applies_the_password_validators():
    user = make_user("ann@acme.test")
    form = ChangePasswordForm(
        user, data={"old_password": PASSWORD, "new_password1": "short", "new_password2": "short"}
    )
    assert not form.is_valid()
    assert "new_password2" in form.errors
