from datetime import date, timedelta

import pytest

from fallback.accounts.roles import Role
from fallback.comms import audiences, preferences
from fallback.comms.audiences import normal_email, normal_phone, select
from fallback.comms.models import ChannelKind
from fallback.comms.tests.builders import put_records
from fallback.testing.factories import join, make_org, make_user

pytestmark = pytest.mark.django_db

TODAY = date(2026, 3, 2)


@pytest.fixture
def org():
    return make_org("Hartley Supplies")


@pytest.fixture
def customers(org):
    put_records(
        org,
        "customer",
        [
            {
                "key": "C1",
                "name": "Smith Plumbing",
                "contact_name": "Jo Smith",
                "email": "Jo@Smith.example",
                "phone": "01632 960001",
            },
            {
                "key": "C2",
                "name": "Brown & Co",
                "email": "accounts@brown.example",
                "phone": "+44 1632 960002",
            },
            {"key": "C3", "name": "Gone Ltd", "email": "x@gone.example", "active": False},
            {"key": "C4", "name": "No Address Ltd"},
            {"key": "C5", "name": "Smith Plumbing (branch)", "email": "jo@smith.example"},
        ],
    )
    put_records(
        org,
        "contact",
        [
            {"key": "K1", "name": "Ali Brown", "customer": "C2", "email": "ali@brown.example"},
            {"key": "K2", "name": "Pat Gone", "customer": "C3", "email": "pat@gone.example"},
            {"key": "K3", "name": "Sue Supply", "supplier": "S1", "email": "sue@supply.example"},
        ],
    )
    return org


def addresses(selection, channel=ChannelKind.EMAIL):
    return sorted(t.address for t in selection.targets if t.channel == channel)


def test_email_addresses_are_normalised_and_bad_ones_dropped():
    assert normal_email("  Jo@Smith.Example ") == "jo@smith.example"
    assert normal_email("<jo@smith.example>") == "jo@smith.example"
    assert normal_email("not an address") == ""
    assert normal_email("jo@localhost") == ""


def test_phone_numbers_become_international():
    assert normal_phone("01632 960001", "44") == "+441632960001"
    assert normal_phone("+44 (0)1632 960-001") == "+441632960001"
    assert normal_phone("0044 1632 960001") == "+441632960001"
    assert normal_phone("(415) 555-0100", "1") == "+14155550100"
    assert normal_phone("01632 960001 ext 12", "44") == "+441632960001"
    assert normal_phone("call me") == ""
    assert normal_phone("123") == ""


def test_all_customers_and_their_contacts_once_each_without_inactive(customers):
    chosen = select(customers, "all_customers", ["email"], today=TODAY)
    assert addresses(chosen) == ["accounts@brown.example", "ali@brown.example", "jo@smith.example"]
    counts = chosen.counts["email"]
    # C1, C2, C4, C5 and K1: the inactive customer and its contact are left out.
    assert counts.people == 5 and counts.targets == 3
    assert counts.duplicates == 1  # C5 shares C1's address, in another case
    assert counts.no_address == 1  # C4


def test_the_greeting_name_is_the_contact_person_when_the_record_gives_one(customers):
    chosen = select(customers, "all_customers", ["email"], today=TODAY)
    names = {t.address: t.name for t in chosen.targets}
    assert names["jo@smith.example"] == "Jo Smith"
    assert names["accounts@brown.example"] == "Brown & Co"


def test_sms_needs_an_sms_channel_and_then_uses_phone_numbers(customers):
    chosen = select(customers, "all_customers", ["sms"], today=TODAY)
    assert chosen.targets == [] and "No SMS channel" in chosen.problems[0]
    preferences.save_channel(
        customers, name="Gateway", kind="sms", url="json://127.0.0.1:9/sms?to={phone}"
    )
    chosen = select(customers, "all_customers", ["sms"], today=TODAY)
    assert addresses(chosen, "sms") == ["+441632960001", "+441632960002"]
    assert all(t.via_id for t in chosen.targets)


def test_opt_outs_are_respected_per_channel_and_for_all(customers):
    preferences.add_opt_out(customers, "JO@smith.example", "email", "asked us")
    preferences.add_opt_out(customers, "01632 960002", "")
    preferences.save_channel(
        customers, name="Gateway", kind="sms", url="json://127.0.0.1:9/s?to={phone}"
    )
    chosen = select(customers, "all_customers", ["email", "sms"], today=TODAY)
    assert "jo@smith.example" not in addresses(chosen)
    assert addresses(chosen, "sms") == ["+441632960001"]
    assert chosen.counts["email"].opted_out == 1 and chosen.counts["sms"].opted_out == 1
    # The duplicate of an opted-out address is counted as a duplicate, not sent.
    assert chosen.counts["email"].duplicates == 1


def test_opting_out_twice_is_one_opt_out(customers):
    first = preferences.add_opt_out(customers, "jo@smith.example")
    again = preferences.add_opt_out(customers, "Jo@Smith.example")
    assert first.pk == again.pk


def test_affected_customers_have_open_orders_or_recent_invoices(customers):
    put_records(
        customers,
        "order",
        [
            {"key": "O1", "number": "SO-1", "customer": "C1", "status": "Open"},
            {"key": "O2", "number": "SO-2", "customer": "C4", "status": "Completed"},
        ],
    )
    put_records(
        customers,
        "invoice",
        [
            {
                "key": "I1",
                "number": "INV-1",
                "customer": "C2",
                "issue_date": (TODAY - timedelta(days=3)).isoformat(),
            },
            {
                "key": "I2",
                "number": "INV-2",
                "customer": "C5",
                "issue_date": (TODAY - timedelta(days=90)).isoformat(),
            },
        ],
    )
    assert audiences.affected_keys(customers, 30, TODAY) == {"C1", "C2"}
    chosen = select(customers, "affected_customers", ["email"], today=TODAY)
    assert addresses(chosen) == ["accounts@brown.example", "ali@brown.example", "jo@smith.example"]
    preferences.update_settings(customers, affected_window_days=120)
    chosen = select(customers, "affected_customers", ["email"], today=TODAY)
    assert chosen.counts["email"].duplicates == 1  # C5 now counts, with C1's address


def test_key_accounts_flagged_call_dont_email_go_on_the_call_list_not_email(customers):
    preferences.save_key_account(
        customers, "C2", call_dont_email=True, phone="07700 900123", contact_name="Ali Brown"
    )
    preferences.save_key_account(customers, "C1", call_dont_email=False)
    chosen = select(customers, "all_customers", ["email"], today=TODAY)
    # C2 and its contact K1 are called instead.
    assert addresses(chosen) == ["jo@smith.example"]
    assert chosen.counts["email"].to_call == 2
    assert [(c.customer_key, c.phone, c.contact) for c in chosen.calls] == [
        ("C2", "07700 900123", "Ali Brown")
    ]
    only_keys = select(customers, "key_accounts", ["email"], today=TODAY)
    assert addresses(only_keys) == ["jo@smith.example"]
    assert sorted(c.customer_key for c in only_keys.calls) == ["C1", "C2"]


def test_suppliers_and_their_contacts(customers):
    put_records(
        customers,
        "supplier",
        [{"key": "S1", "name": "Supply Co", "email": "orders@supply.example"}],
    )
    chosen = select(customers, "suppliers", ["email"], today=TODAY)
    assert addresses(chosen) == ["orders@supply.example", "sue@supply.example"]


def test_staff_are_the_organisation_s_members(org):
    ann = make_user("ann@hartley.example")
    ann.first_name = "Ann"
    ann.save()
    join(org, ann, Role.MANAGER)
    join(org, make_user("sid@hartley.example"), Role.STAFF)
    join(make_org("Other"), make_user("x@other.example"), Role.STAFF)
    chosen = select(org, "staff", ["email"], today=TODAY)
    assert addresses(chosen) == ["ann@hartley.example", "sid@hartley.example"]
    assert {t.address: t.name for t in chosen.targets}["ann@hartley.example"] == "Ann"


def test_another_organisation_s_records_are_never_in_an_audience(customers):
    other = make_org("Other")
    put_records(other, "customer", [{"key": "C1", "name": "Theirs", "email": "theirs@x.example"}])
    assert "theirs@x.example" not in addresses(
        select(customers, "all_customers", ["email"], today=TODAY)
    )


def test_a_new_audience_kind_can_be_registered():
    kind = audiences.AudienceKind(
        "test_tree",
        "Test tree",
        "",
        "staff",
        lambda org, settings, today: [audiences.Person("Dev", "x:1", "dev@x.example")],
    )
    audiences.register(kind)
    try:
        chosen = select(make_org("Tree"), "test_tree", ["email"], today=TODAY)
        assert addresses(chosen) == ["dev@x.example"]
    finally:
        audiences._REGISTRY.pop("test_tree")


def test_an_unknown_audience_says_which_exist():
    with pytest.raises(ValueError, match="known: all_customers"):
        audiences.kind("everyone")
