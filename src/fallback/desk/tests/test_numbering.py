"""Provisional numbers: prefix, period, device, kind and a sequence that never repeats."""

import pytest

from fallback.desk import mode, numbering
from fallback.desk.models import Device
from fallback.testing.factories import make_org, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def org():
    return make_org("Harbour Plumbing")


def test_devices_get_the_next_free_code(org):
    codes = [numbering.register_device(org, f"PC {i}").code for i in range(28)]
    assert codes[:3] == ["A", "B", "C"] and codes[26:] == ["AA", "AB"]


def test_a_chosen_code_that_is_taken_is_refused(org):
    numbering.register_device(org, "Front", code="F")
    with pytest.raises(ValueError, match="taken"):
        numbering.register_device(org, "Back", code="f")
    with pytest.raises(Exception, match="capital letters"):
        numbering.register_device(org, "Back", code="F1")


def test_numbers_count_per_device_and_kind(org):
    desk = mode.settings_for(org)
    period = mode.switch_on(org, make_user("m@example.com"), "CRM down")
    a, b = numbering.register_device(org, "A"), numbering.register_device(org, "B")
    got = [
        numbering.next_number(desk, period, a, "invoice"),
        numbering.next_number(desk, period, a, "invoice"),
        numbering.next_number(desk, period, b, "invoice"),
        numbering.next_number(desk, period, a, "quote"),
    ]
    assert got == ["FB1-A-INV0001", "FB1-A-INV0002", "FB1-B-INV0001", "FB1-A-Q0001"]


def test_each_device_code_is_unique_per_organisation_only(org):
    other = make_org("Other")
    numbering.register_device(org, "PC")
    assert numbering.register_device(other, "PC").code == "A"
    assert Device.objects.filter(code="A").count() == 2
