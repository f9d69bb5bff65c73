"""The desk's pages: fallback mode and its banner, devices, the search box, customers,
suppliers and products, urgent orders, documents, the work log, the way back and the desk's
settings — and who may do what, always within one organisation."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from fallback.accounts.models import Organisation, User
from fallback.accounts.roles import Role
from fallback.desk import mode, notes, reconciliation
from fallback.desk.models import DeskSettings, Device, Document, FallbackPeriod, WorkNote
from fallback.desk.tests.conftest import put_records
from fallback.incidents import lifecycle
from fallback.incidents.models import Incident, Status
from fallback.monitor import editing as monitor_editing
from fallback.replica.models import Connector
from fallback.testing.factories import join, make_org, make_user

pytestmark = pytest.mark.django_db


# ------------------------------------------------------------------ helpers


@pytest.fixture
def world() -> dict[str, Any]:
    """Ann owns Acme (Mo manages, Sid is staff, Val views); Bob owns Bravo. Acme's replica
    holds two customers, a supplier, two products, orders and invoices."""
    ann, bob = make_user("ann@acme.test"), make_user("bob@bravo.test")
    acme, bravo = make_org("Acme", owner=ann), make_org("Bravo", owner=bob)
    people: dict[str, Any] = {"ann": ann, "bob": bob, "acme": acme, "bravo": bravo}
    for name, role in [("mo", Role.MANAGER), ("sid", Role.STAFF), ("val", Role.VIEWER)]:
        people[name] = make_user(f"{name}@acme.test")
        join(acme, people[name], role)
    put_records(
        acme,
        "customer",
        [
            {
                "key": "C1",
                "name": "Smith Plumbing",
                "email": "office@smith.test",
                "phone": "01632 960123",
                "address": "1 High Street",
                "city": "Leeds",
                "postcode": "LS1 1AA",
            },
            {"key": "C2", "name": "Jones Bakery", "balance": "75.00"},
        ],
    )
    put_records(
        acme,
        "contact",
        [
            {"key": "K1", "name": "Jo Smith", "customer": "C1", "role": "Owner"},
            {"key": "K2", "name": "Sue Supply", "supplier": "S1", "phone": "0113 496 0000"},
        ],
    )
    put_records(
        acme, "supplier", [{"key": "S1", "name": "Parts Company", "account_number": "AC-77"}]
    )
    put_records(
        acme,
        "product",
        [
            {"key": "P1", "name": "Widget", "sku": "W-1", "price": "12.50", "tax_rate": "20"},
            {"key": "P2", "name": "Gadget", "sku": "G-2", "price": "5.00", "stock": "7"},
        ],
    )
    put_records(acme, "price_list", [{"key": "L1", "name": "Widget trade", "product": "P1"}])
    today = timezone.localdate()
    put_records(
        acme,
        "order",
        [
            {
                "key": "O1",
                "number": "SO-1001",
                "customer": "C1",
                "customer_name": "Smith Plumbing",
                "status": "open",
                "due_date": today.isoformat(),
                "total": "60.00",
            },
            {
                "key": "O2",
                "number": "SO-1002",
                "customer": "C2",
                "customer_name": "Jones Bakery",
                "status": "open",
                "due_date": (today + timedelta(days=9)).isoformat(),
            },
            {"key": "O3", "number": "SO-0999", "customer": "C1", "status": "Completed"},
        ],
    )
    put_records(
        acme,
        "invoice",
        [
            {"key": "I1", "number": "INV-500", "customer": "C1", "status": "open", "total": "40"},
            {"key": "I2", "number": "INV-501", "customer": "C1", "status": "paid", "total": "9"},
        ],
    )
    put_records(bravo, "customer", [{"key": "C1", "name": "Bravo's Own Customer"}])
    return people


def as_user(user: User, device: str = "") -> Client:
    """A browser logged in as `user`; with `device`, already named as a desk device."""
    client = Client()
    client.force_login(user)
    if device:
        membership = user.memberships.select_related("org").first()
        assert membership is not None
        response = client.post(url("device", membership.org), {"name": device})
        assert response.status_code == 302
    return client


def url(name: str, org: Organisation, **kwargs: Any) -> str:
    return reverse(f"desk:{name}", kwargs={"org_slug": org.slug, **kwargs})


def page(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def text(html: str) -> str:
    """The page's words, without tags, collapsed: what a reader sees."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def fallback_on(world: dict[str, Any]) -> FallbackPeriod:
    return mode.switch_on(world["acme"], world["mo"], "CRM login broken")


LINES = [("P1", "Widget", "2", "12.50", "20"), ("P2", "Gadget", "3", "5.00", "")]


def document_post(
    key: str | None = None,
    party_key: str = "C1",
    party_name: str = "Smith Plumbing",
    lines: list[tuple[str, str, str, str, str]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    rows = LINES if lines is None else lines
    data: dict[str, Any] = {
        "action": "save",
        "request_key": key or str(uuid.uuid4()),
        "party_key": party_key,
        "party_name": party_name,
        "line_uid": [f"u{n}" for n in range(len(rows))],
        "line_product_key": [r[0] for r in rows],
        "line_sku": ["" for _ in rows],
        "line_description": [r[1] for r in rows],
        "line_quantity": [r[2] for r in rows],
        "line_unit": ["" for _ in rows],
        "line_unit_price": [r[3] for r in rows],
        "line_tax_rate": [r[4] for r in rows],
    }
    data.update(extra)
    return data


def make_invoice(world: dict[str, Any], client: Client | None = None) -> Document:
    client = client or as_user(world["sid"], device="Front desk PC")
    response = client.post(url("document-new", world["acme"], kind="invoice"), document_post())
    assert response.status_code == 302, response.content.decode()[:2000]
    return Document.objects.get(org=world["acme"], number__contains="INV")


def declare(world: dict[str, Any], **kwargs: Any) -> Incident:
    crm = monitor_editing.create_system(world["acme"], name="CloudCRM")
    return lifecycle.declare_manually(
        world["acme"], [crm], "CloudCRM: nobody can log in", world["mo"], **kwargs
    )


# ------------------------------------------------------ fallback mode, banner


def test_desk_home_says_fallback_mode_is_off_and_offers_the_switch_to_managers_only(world):
    acme = world["acme"]
    html = page(as_user(world["mo"]).get(url("home", acme)))
    assert "Fallback mode is off" in html and "Switch fallback mode on" in html
    assert "Switch fallback mode on" not in page(as_user(world["sid"]).get(url("home", acme)))
    assert "Fallback mode:" not in page(as_user(world["sid"]).get(f"/o/{acme.slug}/"))


def test_a_manager_switches_fallback_mode_on_with_a_reason_then_off(world):
    acme, client = world["acme"], as_user(world["mo"])
    response = client.post(url("switch", acme), {"action": "on", "reason": "CRM login broken"})
    assert response.status_code == 302
    period = FallbackPeriod.objects.get(org=acme)
    assert period.reason == "CRM login broken" and period.started_by == world["mo"]
    html = page(client.get(url("home", acme)))
    assert "Fallback mode: working without the main system" in html
    assert "CRM login broken" in html and "FB1-" in html
    # Every other page of the organisation carries the short banner.
    dashboard = text(page(client.get(f"/o/{acme.slug}/")))
    assert "Fallback mode: CRM login broken. Open the desk" in dashboard
    client.post(url("switch", acme), {"action": "off"})
    period.refresh_from_db()
    assert period.ended_at is not None and period.ended_by == world["mo"]
    assert "Fallback mode:" not in page(client.get(f"/o/{acme.slug}/"))


def test_switching_fallback_mode_on_needs_a_reason(world):
    acme = world["acme"]
    response = as_user(world["mo"]).post(url("switch", acme), {"action": "on", "reason": " "})
    assert response.status_code == 302
    assert not FallbackPeriod.objects.filter(org=acme).exists()


def test_staff_cannot_switch_fallback_mode(world):
    acme = world["acme"]
    response = as_user(world["sid"]).post(url("switch", acme), {"action": "on", "reason": "x"})
    assert response.status_code == 403
    assert not FallbackPeriod.objects.filter(org=acme).exists()


def test_a_declared_outage_shows_what_is_down_and_how_fresh_the_replica_is(world):
    acme = world["acme"]
    incident = declare(world)
    Connector.objects.create(
        org=acme,
        name="CloudCRM export",
        slug="cloudcrm-export",
        kind="files",
        system=incident.systems.get(),
        last_good_at=incident.opened_at - timedelta(minutes=37),
    )
    client = as_user(world["sid"])
    words = text(page(client.get(url("home", acme))))
    assert "CloudCRM down since" in words
    assert "CloudCRM export: data as of" in words and "37 min before the outage" in words
    assert "Drill" not in words
    other = text(page(client.get(f"/o/{acme.slug}/incidents/")))
    assert "Fallback mode: CloudCRM down since" in other


def test_a_drill_is_marked_as_an_exercise(world):
    declare(world, is_exercise=True)
    words = text(page(as_user(world["sid"]).get(url("home", world["acme"]))))
    assert "Drill" in words and "This is an exercise" in words


def test_when_the_systems_are_back_the_banner_points_the_way_back(world):
    incident = declare(world)
    mode.state(world["acme"])
    Incident.objects.filter(pk=incident.pk).update(status=Status.RECOVERING)
    client = as_user(world["sid"])
    words = text(page(client.get(url("home", world["acme"]))))
    assert "The way back: the systems are up again" in words
    assert "enter what the desk made (0 open)" in words
    assert "The way back: CloudCRM back up" in text(page(client.get(f"/o/{world['acme'].slug}/")))


def test_the_dashboard_has_a_desk_card(world):
    acme = world["acme"]
    client = as_user(world["sid"])
    assert url("card", acme) in page(client.get(f"/o/{acme.slug}/"))
    assert "Fallback mode is off" in page(client.get(url("card", acme)))
    fallback_on(world)
    assert "Open the desk" in page(client.get(url("card", acme)))


# ----------------------------------------------------------------- devices


def test_a_browser_without_a_device_is_asked_to_name_itself_once(world):
    acme = world["acme"]
    fallback_on(world)
    client = as_user(world["sid"])
    new = url("document-new", acme, kind="quote")
    response = client.get(new)
    assert response.status_code == 302 and response["Location"].startswith(url("device", acme))
    assert "Name this computer" in page(client.get(response["Location"]))
    done = client.post(url("device", acme), {"name": "Front desk PC", "next": new})
    assert done.status_code == 302 and done["Location"] == new
    cookie = done.cookies[f"fallback_desk_{acme.pk}"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert "New quote" in page(client.get(new))
    assert Device.objects.get(org=acme).name == "Front desk PC"


def test_the_desk_home_asks_for_the_computers_name_until_it_has_one(world):
    acme = world["acme"]
    assert "Name this computer" in page(as_user(world["sid"]).get(url("home", acme)))
    named = as_user(world["sid"], device="Counter")
    html = page(named.get(url("home", acme)))
    assert "Name this computer" not in html and "This computer: Counter (code A)" in html


def test_a_device_name_is_required(world):
    response = as_user(world["sid"]).post(url("device", world["acme"]), {"name": ""})
    assert "This field is required" in page(response)
    assert not Device.objects.exists()


def test_a_next_address_elsewhere_is_not_followed(world):
    client = as_user(world["sid"])
    done = client.post(
        url("device", world["acme"]), {"name": "PC", "next": "https://evil.example/"}
    )
    assert done["Location"] == url("home", world["acme"])


# ------------------------------------------------------------------ search


def test_search_results_are_grouped_by_kind_and_link_to_desk_pages(world):
    acme = world["acme"]
    client = as_user(world["val"])
    html = page(client.get(url("search", acme), {"q": "smith"}, HTTP_HX_REQUEST="true"))
    assert "<html" not in html  # htmx gets just the results
    assert 'aria-label="Customers"' in html and 'aria-label="Contacts"' in html
    assert url("customer", acme, key="C1") in html
    contact = re.search(r'href="([^"]+/open/\d+/)"', html)
    assert contact is not None
    assert client.get(contact.group(1))["Location"] == url("customer", acme, key="C1")


def test_search_without_htmx_is_a_page_with_the_box(world):
    html = page(as_user(world["val"]).get(url("search", world["acme"]), {"q": "widget"}))
    assert "<h1>Search the replica</h1>" in html
    assert url("product", world["acme"], key="P1") in html


def test_a_misspelt_name_finds_the_customer_marked_did_you_mean(world):
    html = page(
        as_user(world["val"]).get(
            url("search", world["acme"]), {"q": "smtih plumbing"}, HTTP_HX_REQUEST="true"
        )
    )
    assert "Smith Plumbing" in html and "did you mean?" in html


def test_search_never_shows_another_organisations_records(world):
    html = page(
        as_user(world["bob"]).get(
            url("search", world["bravo"]), {"q": "smith"}, HTTP_HX_REQUEST="true"
        )
    )
    assert "Smith Plumbing" not in html and "Nothing found" in html


def test_picking_from_the_search_gives_buttons_that_fill_the_form(world):
    acme = world["acme"]
    client = as_user(world["sid"])
    products = page(client.get(url("search", acme), {"q": "widg", "pick": "product"}))
    assert f"{url('document-line', acme)}?product=P1" in products
    assert "Smith" not in products
    parties = page(client.get(url("search", acme), {"q": "smith", "pick": "customer"}))
    assert f"{url('document-party', acme)}?party=customer&amp;key=C1" in parties
    assert "Jo Smith" not in parties  # only customers


def test_search_hits_without_a_desk_page_open_the_right_place(world):
    acme = world["acme"]
    client = as_user(world["val"])
    records = {r.key: r for r in acme_records(acme)}
    assert client.get(url("open", acme, record_id=records["K2"].pk))["Location"] == url(
        "supplier", acme, key="S1"
    )
    assert client.get(url("open", acme, record_id=records["L1"].pk))["Location"] == url(
        "product", acme, key="P1"
    )
    order = client.get(url("open", acme, record_id=records["O1"].pk))["Location"]
    assert order == reverse(
        "replica:record", kwargs={"org_slug": acme.slug, "record_id": records["O1"].pk}
    )
    bravo_record = acme_records(world["bravo"])[0]
    assert client.get(url("open", acme, record_id=bravo_record.pk)).status_code == 404


def acme_records(org: Organisation) -> list[Any]:
    from fallback.replica import history

    return list(history.current(org))


# ------------------------------------------------ customers, suppliers, products


def test_customer_page_has_details_contacts_open_orders_unpaid_invoices_and_balance(world):
    acme = world["acme"]
    fallback_on(world)
    client = as_user(world["sid"], device="PC")
    invoice = make_invoice(world, client)
    notes.add(
        acme,
        "Promised delivery Friday",
        "n1",
        world["sid"],
        party="customer",
        party_key="C1",
        party_name="Smith Plumbing",
    )
    words = text(page(client.get(url("customer", acme, key="C1"))))
    assert "Smith Plumbing" in words and "office@smith.test" in words and "Leeds" in words
    assert "Jo Smith · Owner" in words
    assert "SO-1001" in words and "SO-0999" not in words and "Due now" in words
    assert "INV-500" in words and "INV-501" not in words
    assert "£40.00" in words and "The sum of 1 unpaid invoice below" in words
    assert invoice.number in words and "Promised delivery Friday" in words
    html = page(client.get(url("customer", acme, key="C1")))
    assert f"{url('document-new', acme, kind='invoice')}?party_key=C1" in html
    assert f"{url('log', acme)}?party=customer&amp;party_key=C1" in html


def test_a_customers_own_balance_is_shown_as_the_main_system_said(world):
    words = text(page(as_user(world["val"]).get(url("customer", world["acme"], key="C2"))))
    assert "£75.00" in words and "As the main system last said" in words


def test_viewers_see_a_customer_but_not_the_buttons_that_make_documents(world):
    html = page(as_user(world["val"]).get(url("customer", world["acme"], key="C1")))
    assert "New quote" not in html and "Log work" not in html


def test_an_unknown_customer_or_one_of_another_organisation_is_not_found(world):
    client = as_user(world["sid"])
    assert client.get(url("customer", world["acme"], key="C9")).status_code == 404
    assert client.get(url("customer", world["bravo"], key="C1")).status_code == 404


def test_supplier_page_has_contacts_account_number_and_a_new_purchase_order(world):
    acme = world["acme"]
    html = page(as_user(world["sid"]).get(url("supplier", acme, key="S1")))
    words = text(html)
    assert "Parts Company" in words and "AC-77" in words and "Sue Supply" in words
    assert f"{url('document-new', acme, kind='purchase_order')}?party_key=S1" in html
    assert as_user(world["sid"]).get(url("supplier", acme, key="S9")).status_code == 404


def test_product_panel_has_price_tax_rate_stock_and_adds_to_a_new_quote(world):
    acme = world["acme"]
    client = as_user(world["sid"])
    words = text(page(client.get(url("product", acme, key="P2"))))
    assert "£5.00" in words and "20% (the desk's default)" in words and "7" in words
    html = page(client.get(url("product", acme, key="P1")))
    assert f"{url('document-new', acme, kind='quote')}?product=P1" in html
    assert "Widget trade" in html


# ------------------------------------------------------------------- orders


def test_urgent_orders_are_highlighted_and_can_be_filtered_by_customer(world):
    acme = world["acme"]
    client = as_user(world["val"])
    html = page(client.get(url("orders", acme)))
    assert html.index("SO-1001") < html.index("SO-1002") and "SO-0999" not in html
    assert 'class="is-urgent"' not in html  # due today is not overdue, fallback mode is off
    fallback_on(world)
    html = page(client.get(url("orders", acme)))
    assert html.count('class="is-urgent"') == 1 and "1 urgent" in text(html)
    only = page(client.get(url("orders", acme), {"customer": "C2"}))
    assert "SO-1002" in only and "SO-1001" not in only


def test_the_desk_home_lists_urgent_orders(world):
    fallback_on(world)
    words = text(page(as_user(world["sid"]).get(url("home", world["acme"]))))
    assert "SO-1001 Smith Plumbing · due" in words and "SO-1002" not in words


# ---------------------------------------------------------------- documents


def test_staff_make_an_invoice_with_two_product_lines(world):
    acme = world["acme"]
    fallback_on(world)
    client = as_user(world["sid"], device="Front desk PC")
    form = page(client.get(url("document-new", acme, kind="invoice") + "?party_key=C1"))
    assert 'name="request_key"' in form and 'value="Smith Plumbing"' in form
    key = re.search(r'name="request_key" value="([^"]+)"', form)
    assert key is not None
    uuid.UUID(key.group(1))  # a fresh uuid4 each time the form is shown
    response = client.post(url("document-new", acme, kind="invoice"), document_post(key.group(1)))
    document = Document.objects.get(org=acme)
    assert response["Location"] == url("document", acme, pk=document.pk)
    assert document.number == "FB1-A-INV0001" and document.kind == "invoice"
    assert document.party_details["email"] == "office@smith.test"
    assert [(line.description, line.quantity) for line in document.lines.all()] == [
        ("Widget", Decimal("2.000")),
        ("Gadget", Decimal("3.000")),
    ]
    # 25.00 + 20% and 15.00 at the desk's default 20%: 40.00 + 8.00.
    assert (document.subtotal, document.tax, document.total) == (
        Decimal("40.00"),
        Decimal("8.00"),
        Decimal("48.00"),
    )
    words = text(page(client.get(response["Location"])))
    assert "Saved: Invoice FB1-A-INV0001." in words and "£48.00" in words
    assert "to enter in the main system" in words


def test_a_double_submit_with_the_same_request_key_makes_one_document(world):
    acme = world["acme"]
    fallback_on(world)
    client = as_user(world["sid"], device="PC")
    data = document_post("the-same-key")
    first = client.post(url("document-new", acme, kind="quote"), data)
    second = client.post(url("document-new", acme, kind="quote"), data)
    assert Document.objects.filter(org=acme).count() == 1
    assert first["Location"] == second["Location"]
    assert "Already saved" in text(page(client.get(second["Location"])))


def test_a_bad_line_is_shown_next_to_it_and_nothing_is_saved(world):
    acme = world["acme"]
    fallback_on(world)
    client = as_user(world["sid"], device="PC")
    lines = [("P1", "Widget", "-2", "12.50", ""), ("P2", "Gadget", "1", "5.00", "2O")]
    html = page(client.post(url("document-new", acme, kind="quote"), document_post(lines=lines)))
    assert not Document.objects.exists()
    rows = re.findall(r'<tr id="line-u\d".*?</tr>', html, re.S)
    assert len(rows) == 2
    assert "The quantity must be at least 0, not -2." in rows[0]
    assert "The tax rate is not a number: &#x27;2O&#x27;." in rows[1]
    assert 'aria-invalid="true"' in rows[0] and 'value="-2"' in rows[0]


def test_an_empty_description_and_a_missing_customer_are_named_where_they_are(world):
    acme = world["acme"]
    fallback_on(world)
    client = as_user(world["sid"], device="PC")
    data = document_post(party_key="", party_name="", lines=[("", "", "1", "3", "")])
    html = page(client.post(url("document-new", acme, kind="order"), data))
    assert "Customer: choose a customer or type a name" in html
    assert "The description is empty." in html
    assert not Document.objects.exists()


def test_an_unknown_product_is_refused_and_nothing_is_saved(world):
    fallback_on(world)
    client = as_user(world["sid"], device="PC")
    lines = [("NOPE", "Mystery", "1", "3", "")]
    html = page(
        client.post(url("document-new", world["acme"], kind="order"), document_post(lines=lines))
    )
    assert "No product &#x27;NOPE&#x27; in the replica." in html
    assert not Document.objects.exists()


def test_a_viewer_cannot_make_documents(world):
    acme = world["acme"]
    fallback_on(world)
    client = as_user(world["val"])
    assert client.get(url("document-new", acme, kind="quote")).status_code == 403
    assert client.post(url("document-new", acme, kind="quote"), document_post()).status_code == 403
    assert client.post(url("device", acme), {"name": "PC"}).status_code == 403
    assert not Document.objects.exists()


def test_with_fallback_mode_off_documents_are_made_in_the_main_system(world):
    acme = world["acme"]
    client = as_user(world["sid"], device="PC")
    html = page(client.get(url("document-new", acme, kind="quote")))
    assert "Fallback mode is off" in html and 'id="document-form"' not in html
    html = page(client.post(url("document-new", acme, kind="quote"), document_post()))
    assert "fallback mode is off" in html.lower()
    assert not Document.objects.exists()


def test_an_unknown_kind_of_document_is_not_found(world):
    fallback_on(world)
    client = as_user(world["sid"], device="PC")
    assert client.get(url("document-new", world["acme"], kind="receipt")).status_code == 404


def test_another_organisations_document_is_not_found(world):
    fallback_on(world)
    invoice = make_invoice(world)
    client = as_user(world["bob"])
    bravo = world["bravo"]
    assert client.get(url("document", bravo, pk=invoice.pk)).status_code == 404
    assert (
        client.post(url("document-void", bravo, pk=invoice.pk), {"reason": "x"}).status_code == 404
    )
    assert client.get(url("document", world["acme"], pk=invoice.pk)).status_code == 404
    invoice.refresh_from_db()
    assert invoice.voided_at is None


def test_a_new_document_starts_from_a_customer_and_a_product(world):
    acme = world["acme"]
    fallback_on(world)
    client = as_user(world["sid"], device="PC")
    html = page(client.get(url("document-new", acme, kind="quote") + "?party_key=C1&product=P1"))
    assert 'value="Smith Plumbing"' in html and 'value="C1"' in html
    assert 'value="Widget"' in html and 'value="12.50"' in html
    assert "office@smith.test" in html  # the customer's details from the replica


def test_an_order_is_made_from_a_quote(world):
    acme = world["acme"]
    fallback_on(world)
    client = as_user(world["sid"], device="PC")
    client.post(url("document-new", acme, kind="quote"), document_post())
    quote = Document.objects.get(org=acme, kind="quote")
    detail = page(client.get(url("document", acme, pk=quote.pk)))
    start = f"{url('document-new', acme, kind='order')}?from={quote.pk}"
    assert start in detail
    form = page(client.get(start))
    assert 'value="Widget"' in form and 'value="Gadget"' in form
    assert f'name="source" value="{quote.pk}"' in form
    data = document_post(source=str(quote.pk))
    client.post(url("document-new", acme, kind="order"), data)
    order = Document.objects.get(org=acme, kind="order")
    assert order.source == quote and order.total == quote.total
    assert order.number in page(client.get(url("document", acme, pk=quote.pk)))


def test_a_voided_document_stays_listed_with_its_reason(world):
    acme = world["acme"]
    fallback_on(world)
    invoice = make_invoice(world)
    client = as_user(world["sid"])
    client.post(url("document-void", acme, pk=invoice.pk), {"reason": ""})
    invoice.refresh_from_db()
    assert invoice.voided_at is None
    client.post(url("document-void", acme, pk=invoice.pk), {"reason": "Typed twice"})
    invoice.refresh_from_db()
    assert invoice.void_reason == "Typed twice"
    listed = page(client.get(url("documents", acme)))
    assert invoice.number in listed and "Typed twice" in listed and 'class="is-void"' in listed
    assert "Typed twice" in page(client.get(url("document", acme, pk=invoice.pk)))
    assert (
        as_user(world["val"])
        .post(url("document-void", acme, pk=invoice.pk), {"reason": "x"})
        .status_code
        == 403
    )


def test_documents_are_listed_by_kind_and_period(world):
    acme = world["acme"]
    fallback_on(world)
    client = as_user(world["sid"], device="PC")
    client.post(url("document-new", acme, kind="quote"), document_post())
    invoice = make_invoice(world, client)
    everything = page(client.get(url("documents", acme)))
    assert "FB1-A-Q0001" in everything and invoice.number in everything
    quotes = page(client.get(url("documents", acme), {"kind": "quote"}))
    assert "FB1-A-Q0001" in quotes and invoice.number not in quotes
    none = page(client.get(url("documents", acme), {"period": "7"}))
    assert "FB1-A-Q0001" in none  # an unknown period: every period


def test_a_document_page_links_print_and_pdf(world):
    acme = world["acme"]
    fallback_on(world)
    invoice = make_invoice(world)
    html = page(as_user(world["val"]).get(url("document", acme, pk=invoice.pk)))
    assert url("document-print", acme, pk=invoice.pk) in html
    assert url("document-pdf", acme, pk=invoice.pk) in html
    assert "from this" not in html and "Void this" not in html  # a viewer makes nothing


def test_the_line_and_party_fragments_come_from_the_replica(world):
    acme = world["acme"]
    client = as_user(world["sid"])
    row = page(client.get(url("document-line", acme), {"product": "P1"}))
    assert row.startswith("\n<tr") or row.lstrip().startswith("<tr")
    assert 'value="Widget"' in row and 'value="12.50"' in row and 'value="20"' in row
    assert 'value="W-1"' in row
    assert client.get(url("document-line", acme), {"product": "NOPE"}).status_code == 404
    blank = page(client.get(url("document-line", acme)))
    assert 'name="line_description" value=""' in blank
    party = page(client.get(url("document-party", acme), {"party": "customer", "key": "C1"}))
    assert 'value="Smith Plumbing"' in party and "LS1 1AA" in party
    assert "Someone not in the replica" in party
    cleared = page(client.get(url("document-party", acme), {"party": "customer"}))
    assert 'name="party_key" id="id_party_key" value=""' in cleared
    assert 'name="party_name" id="id_party_name" value=""' in cleared
    assert (
        client.get(url("document-party", acme), {"party": "customer", "key": "C9"}).status_code
        == 404
    )
    assert as_user(world["val"]).get(url("document-line", acme)).status_code == 403


def test_live_totals_follow_the_lines_as_typed(world):
    acme = world["acme"]
    client = as_user(world["sid"])
    data = document_post()
    words = text(page(client.post(url("document-totals", acme), data)))
    assert "Subtotal £40.00" in words and "VAT 20% £8.00" in words and "Total £48.00" in words
    html = page(client.post(url("document-totals", acme), data))
    assert '<output id="amount-u0" hx-swap-oob="true">£25.00</output>' in html
    bad = document_post(lines=[("P1", "Widget", "x", "12.50", "")])
    assert "Line 1: the quantity is not a number" in text(
        page(client.post(url("document-totals", acme), bad))
    )


def test_prices_including_tax_take_the_tax_out(world):
    acme = world["acme"]
    DeskSettings.objects.update_or_create(org=acme, defaults={"prices_include_tax": True})
    words = text(
        page(
            as_user(world["sid"]).post(
                url("document-totals", acme), document_post(lines=[("", "Thing", "1", "12", "")])
            )
        )
    )
    assert "Subtotal before VAT £10.00" in words and "Total £12.00" in words


# ----------------------------------------------------------------- work log


def test_staff_log_a_call_about_a_customer_and_a_retry_logs_nothing_more(world):
    acme = world["acme"]
    period = fallback_on(world)
    client = as_user(world["sid"])
    form = page(client.get(url("log", acme) + "?party=customer&party_key=C1"))
    assert 'value="Smith Plumbing"' in form
    data = {
        "kind": "call",
        "text": "Asked for the price of widgets",
        "at": "",
        "party": "customer",
        "party_key": "C1",
        "party_name": "Smith Plumbing",
        "document": "",
        "request_key": "note-key-1",
    }
    assert client.post(url("log", acme), data).status_code == 302
    assert client.post(url("log", acme), data).status_code == 302
    note = WorkNote.objects.get(org=acme)
    assert note.period == period and note.party_key == "C1" and note.kind == "call"
    words = text(page(client.get(url("log", acme))))
    assert "Call taken · Smith Plumbing" in words and "Asked for the price of widgets" in words


def test_a_note_may_say_when_the_work_was_done_but_not_in_the_future(world):
    acme = world["acme"]
    client = as_user(world["sid"])
    later = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    data = {"kind": "call", "text": "x", "at": later, "request_key": "k1"}
    assert "When: is in the future" in page(client.post(url("log", acme), data))
    data = {"kind": "call", "text": "x", "at": "yesterday", "request_key": "k1"}
    assert "write it as YYYY-MM-DD HH:MM" in page(client.post(url("log", acme), data))
    data = {"kind": "call", "text": " ", "request_key": "k1"}
    assert "Note: This field is required" in page(client.post(url("log", acme), data))
    assert not WorkNote.objects.exists()
    data = {"kind": "goods_sent", "text": "2 boxes", "at": "2025-03-01T09:30", "request_key": "k1"}
    client.post(url("log", acme), data)
    note = WorkNote.objects.get()
    assert timezone.localtime(note.at).strftime("%Y-%m-%d %H:%M") == "2025-03-01 09:30"


def test_a_note_about_a_document_takes_its_customer(world):
    acme = world["acme"]
    fallback_on(world)
    invoice = make_invoice(world)
    client = as_user(world["sid"])
    assert f'value="{invoice.pk}" selected' in page(
        client.get(url("log", acme), {"document": invoice.pk})
    )
    data = {"kind": "promise", "text": "Deliver Friday", "document": invoice.pk, "request_key": "k"}
    client.post(url("log", acme), data)
    note = WorkNote.objects.get()
    assert note.document == invoice and note.party_key == "C1"


def test_a_voided_note_stays_visible_struck_through_with_its_reason(world):
    acme = world["acme"]
    note, _ = notes.add(acme, "Wrong customer", "k", world["sid"])
    client = as_user(world["sid"])
    client.post(url("note-void", acme, pk=note.pk), {"reason": ""})
    note.refresh_from_db()
    assert note.voided_at is None
    client.post(url("note-void", acme, pk=note.pk), {"reason": "Logged on the wrong day"})
    note.refresh_from_db()
    assert note.void_reason == "Logged on the wrong day"
    html = page(client.get(url("log", acme)))
    assert 'class="note is-void"' in html and "Void: Logged on the wrong day" in html
    other = as_user(world["bob"]).post(
        url("note-void", world["bravo"], pk=note.pk), {"reason": "x"}
    )
    assert other.status_code == 404


def test_a_viewer_reads_the_work_log_but_cannot_add_to_it(world):
    acme = world["acme"]
    client = as_user(world["val"])
    assert "Log it" not in page(client.get(url("log", acme)))
    data = {"kind": "call", "text": "x", "request_key": "k"}
    assert client.post(url("log", acme), data).status_code == 403
    assert not WorkNote.objects.exists()


# ------------------------------------------------------------ the way back


def line_url(world: dict[str, Any], period: FallbackPeriod, item: Any, action: str) -> str:
    what = "document" if isinstance(item, Document) else "note"
    return url("line", world["acme"], number=period.number, what=what, pk=item.pk, action=action)


def test_the_way_back_lists_every_document_and_note_and_ticks_them(world):
    acme = world["acme"]
    period = fallback_on(world)
    invoice = make_invoice(world)
    note, _ = notes.add(acme, "Called Smith", "k", world["sid"])
    client = as_user(world["sid"])
    html = page(client.get(url("period", acme, number=period.number)))
    assert invoice.number in html and "Other work note" in html
    assert '<span id="open-count">2</span>' in html
    assert "Confirm the main system is working" in html  # the default checklist
    row = page(
        client.post(
            line_url(world, period, invoice, "tick"),
            {"final_number": "INV-9001"},
            HTTP_HX_REQUEST="true",
        )
    )
    assert row.lstrip().startswith("<tr") and "Entered" in row and "INV-9001" in row
    assert '<span id="open-count" hx-swap-oob="true">1</span>' in row
    invoice.refresh_from_db()
    assert invoice.final_number == "INV-9001" and invoice.reconciled_by == world["sid"]
    client.post(line_url(world, period, note, "tick"), {"final_number": ""})
    note.refresh_from_db()
    assert note.reconciled_at is not None
    assert reconciliation.open_count(period) == 0


def test_a_document_is_ticked_with_the_number_the_main_system_gave(world):
    period = fallback_on(world)
    invoice = make_invoice(world)
    row = page(
        as_user(world["sid"]).post(
            line_url(world, period, invoice, "tick"), {"final_number": " "}, HTTP_HX_REQUEST="true"
        )
    )
    assert "Give the number the main system gave it." in row
    invoice.refresh_from_db()
    assert invoice.reconciled_at is None


def test_waiving_a_line_is_for_managers_and_needs_a_reason(world):
    period = fallback_on(world)
    invoice = make_invoice(world)
    staff = as_user(world["sid"])
    assert staff.post(line_url(world, period, invoice, "waive"), {"reason": "x"}).status_code == 403
    assert "Waive" not in text(page(staff.get(url("period", world["acme"], number=1))))
    manager = as_user(world["mo"])
    manager.post(line_url(world, period, invoice, "waive"), {"reason": ""})
    invoice.refresh_from_db()
    assert invoice.waived_at is None
    manager.post(line_url(world, period, invoice, "waive"), {"reason": "Customer cancelled"})
    invoice.refresh_from_db()
    assert invoice.waive_reason == "Customer cancelled" and invoice.waived_by == world["mo"]
    # Only a manager undoes a manager's waiver.
    assert staff.post(line_url(world, period, invoice, "reopen")).status_code == 403
    manager.post(line_url(world, period, invoice, "reopen"))
    invoice.refresh_from_db()
    assert invoice.waived_at is None and invoice.is_open


def test_a_line_of_another_period_or_organisation_is_not_found(world):
    period = fallback_on(world)
    invoice = make_invoice(world)
    bravo_period = mode.switch_on(world["bravo"], world["bob"], "down")
    client = as_user(world["bob"])
    bad = url(
        "line",
        world["bravo"],
        number=bravo_period.number,
        what="document",
        pk=invoice.pk,
        action="tick",
    )
    assert client.post(bad, {"final_number": "X"}).status_code == 404
    assert client.get(url("period", world["acme"], number=period.number)).status_code == 404
    odd = url("line", world["acme"], number=1, what="thing", pk=invoice.pk, action="tick")
    assert as_user(world["sid"]).post(odd).status_code == 404


def test_the_incident_cannot_be_resolved_while_lines_are_open(world):
    acme = world["acme"]
    incident = declare(world)
    period = mode.state(acme).period
    assert period is not None and period.incident == incident
    invoice = make_invoice(world)
    note, _ = notes.add(acme, "Promised a refund", "k", world["sid"])
    Incident.objects.filter(pk=incident.pk).update(status=Status.RECOVERING)
    with pytest.raises(lifecycle.IncidentError, match="2 documents or notes"):
        lifecycle.resolve(incident, world["mo"])
    client = as_user(world["sid"])
    client.post(line_url(world, period, invoice, "tick"), {"final_number": "INV-77"})
    with pytest.raises(lifecycle.IncidentError, match="1 document or note"):
        lifecycle.resolve(incident, world["mo"])
    html = page(client.get(url("period", acme, number=period.number)))
    assert "The incident can be resolved once every line is entered or waived." in html
    as_user(world["mo"]).post(line_url(world, period, note, "waive"), {"reason": "Done by phone"})
    html = page(client.get(url("period", acme, number=period.number)))
    assert "resolve the incident" in html
    lifecycle.resolve(incident, world["mo"])
    incident.refresh_from_db()
    assert incident.status == Status.RESOLVED
    mode.state(acme)
    period.refresh_from_db()
    assert period.ended_at is not None


def test_past_periods_are_listed_with_what_is_still_to_enter(world):
    acme = world["acme"]
    period = fallback_on(world)
    make_invoice(world)
    mode.switch_off(acme, world["mo"])
    words = text(page(as_user(world["val"]).get(url("periods", acme))))
    assert f"Period {period.number}" in words and "CRM login broken" in words
    html = page(as_user(world["val"]).get(url("periods", acme)))
    assert '<td data-label="Still to enter" class="num"><strong>1</strong></td>' in html


def test_the_periods_documents_download_in_an_import_shape(world):
    from fallback.desk import exports

    acme = world["acme"]
    period = fallback_on(world)
    invoice = make_invoice(world)
    client = as_user(world["val"])
    html = page(client.get(url("period", acme, number=period.number)))
    for shape in exports.SHAPES:
        assert url("export", acme, number=period.number, shape=shape) in html
    response = client.get(url("export", acme, number=period.number, shape="json"))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    assert invoice.number.encode() in response.content
    assert client.get(url("export", acme, number=period.number, shape="nope")).status_code == 404
    assert client.get(url("export", acme, number=99, shape="json")).status_code == 404


# ----------------------------------------------------------------- settings


def test_a_manager_changes_the_desks_settings(world):
    acme = world["acme"]
    crm = monitor_editing.create_system(acme, name="CloudCRM")
    monitor_editing.create_system(acme, name="Website")
    client = as_user(world["mo"])
    form = page(client.get(url("settings", acme)))
    assert "CloudCRM" in form and "Website" in form
    data = {
        "covered_systems": [crm.pk],
        "number_prefix": "dsk",
        "tax_name": "GST",
        "tax_rate": "15",
        "payment_terms_days": "14",
        "quote_valid_days": "30",
        "letterhead_name": "Acme Trading Ltd",
        "system_back_checklist": "Log in\nEnter the orders",
    }
    assert client.post(url("settings", acme), data).status_code == 302
    desk = DeskSettings.objects.get(org=acme)
    assert desk.number_prefix == "DSK" and desk.tax_rate == Decimal("15")
    assert list(desk.covered_systems.all()) == [crm]
    period = fallback_on(world)
    assert reconciliation.checklist(period) == ["Log in", "Enter the orders"]


def test_a_number_prefix_the_main_system_uses_is_refused(world):
    acme = world["acme"]
    data = {
        "number_prefix": "SO",
        "tax_name": "VAT",
        "tax_rate": "20",
        "payment_terms_days": "30",
        "quote_valid_days": "30",
    }
    html = page(as_user(world["mo"]).post(url("settings", acme), data))
    assert "the main system already has order SO-0999, which starts with SO" in html
    assert DeskSettings.objects.get(org=acme).number_prefix == "FB"
    data["number_prefix"] = "1X"
    assert "starting with a letter" in page(as_user(world["mo"]).post(url("settings", acme), data))


def test_staff_cannot_change_the_desks_settings(world):
    client = as_user(world["sid"])
    assert client.get(url("settings", world["acme"])).status_code == 403
    assert "Desk settings" not in page(client.get(url("home", world["acme"])))


def test_a_manager_renames_a_device(world):
    acme = world["acme"]
    as_user(world["sid"], device="PC 1")
    device = Device.objects.get(org=acme)
    client = as_user(world["mo"])
    assert "PC 1" in page(client.get(url("settings", acme)))
    client.post(url("device-rename", acme, pk=device.pk), {"name": "Counter"})
    device.refresh_from_db()
    assert device.name == "Counter" and device.code == "A"
    assert (
        as_user(world["sid"])
        .post(url("device-rename", acme, pk=device.pk), {"name": "x"})
        .status_code
        == 403
    )
    assert (
        as_user(world["bob"])
        .post(url("device-rename", world["bravo"], pk=device.pk), {"name": "x"})
        .status_code
        == 404
    )


# ---------------------------------------------------------------- every page


def test_every_desk_page_answers_a_viewer(world):
    acme = world["acme"]
    period = fallback_on(world)
    invoice = make_invoice(world)
    client = as_user(world["val"])
    for path in [
        url("home", acme),
        url("search", acme) + "?q=smith",
        url("customer", acme, key="C1"),
        url("supplier", acme, key="S1"),
        url("product", acme, key="P1"),
        url("orders", acme),
        url("documents", acme),
        url("document", acme, pk=invoice.pk),
        url("log", acme),
        url("periods", acme),
        url("period", acme, number=period.number),
        url("card", acme),
    ]:
        html = page(client.get(path))
        assert "Fallback mode" in html, path
    assert client.get(url("home", world["bravo"])).status_code == 404
