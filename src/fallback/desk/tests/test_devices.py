"""Which desk device a browser is: a signed, long-lived, HttpOnly cookie per organisation."""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from fallback.desk import devices
from fallback.desk.models import Device
from fallback.testing.factories import make_org, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme():
    return make_org("Acme", owner=make_user("ann@acme.test"))


def browser(cookies: dict[str, str] | None = None):
    request = RequestFactory().get("/")
    request.COOKIES.update(cookies or {})
    return request


def cookies_after(response: HttpResponse) -> dict[str, str]:
    return {name: morsel.value for name, morsel in response.cookies.items()}


def test_a_browser_without_the_cookie_is_no_device(acme):
    assert devices.current(browser(), acme) is None


def test_a_registered_browser_is_its_device_through_a_long_lived_httponly_lax_cookie(acme):
    made = devices.register(browser(), acme, "Front desk PC")
    response = HttpResponse()
    devices.remember(response, made)
    morsel = response.cookies[devices.cookie_name(acme)]
    assert morsel["httponly"] and morsel["samesite"] == "Lax"
    assert int(morsel["max-age"]) >= 365 * 24 * 3600
    assert morsel.value.startswith(made.token + ":")  # the token, then its signature
    found = devices.current(browser(cookies_after(response)), acme)
    assert found is not None and found.pk == made.pk and found.name == "Front desk PC"


def test_a_cookie_not_signed_by_us_is_no_device(acme):
    made = devices.register(browser(), acme, "Front desk PC")
    assert devices.current(browser({devices.cookie_name(acme): made.token}), acme) is None
    forged = f"{made.token}:forged-signature"
    assert devices.current(browser({devices.cookie_name(acme): forged}), acme) is None


def test_a_device_of_one_organisation_is_nothing_to_another(acme):
    bravo = make_org("Bravo", owner=make_user("bob@bravo.test"))
    made = devices.register(browser(), acme, "Front desk PC")
    response = HttpResponse()
    devices.remember(response, made)
    value = response.cookies[devices.cookie_name(acme)].value
    # The same signed token under Bravo's cookie name: still Acme's device, so not Bravo's.
    assert devices.current(browser({devices.cookie_name(bravo): value}), bravo) is None


def test_naming_a_browser_again_renames_its_device_instead_of_making_another(acme):
    made = devices.register(browser(), acme, "Front desk PC")
    response = HttpResponse()
    devices.remember(response, made)
    again = devices.register(browser(cookies_after(response)), acme, "Counter PC")
    assert again.pk == made.pk
    assert Device.objects.get(pk=made.pk).name == "Counter PC"
    assert Device.objects.filter(org=acme).count() == 1


def test_two_browsers_are_two_devices_with_different_codes(acme):
    first = devices.register(browser(), acme, "Front desk PC")
    second = devices.register(browser(), acme, "Warehouse tablet")
    assert {first.code, second.code} == {"A", "B"}


def test_a_device_seen_is_marked_with_when(acme):
    made = devices.register(browser(), acme, "Front desk PC")
    assert made.last_seen_at is None
    response = HttpResponse()
    devices.remember(response, made)
    devices.current(browser(cookies_after(response)), acme)
    assert Device.objects.get(pk=made.pk).last_seen_at is not None
