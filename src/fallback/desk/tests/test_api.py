"""The desk's API: fallback mode, look-up, documents, the work log and the way back — scoped to
the organisation, refused to those whose role does not allow it, idempotent per request key,
and bad input named field by field with nothing saved."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from django.test import Client

from fallback.accounts.roles import Role
from fallback.desk import documents, mode, notes, numbering
from fallback.desk.documents import DocumentInput, LineInput
from fallback.desk.models import Device, Document, DocumentLine, WorkNote
from fallback.desk.tests.conftest import put_records
from fallback.incidents.models import Incident, Status
from fallback.monitor import editing
from fallback.testing.factories import join, make_org, make_user, token_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    """Ann owns Acme, Sam is staff there, Val views it; Bob owns Bravo, which is in fallback
    mode with a document and a note of its own."""
    ann, sam, val, bob = (
        make_user("ann@acme.test"),
        make_user("sam@acme.test"),
        make_user("val@acme.test"),
        make_user("bob@bravo.test"),
    )
    acme, bravo = make_org("Acme", owner=ann), make_org("Bravo", owner=bob)
    join(acme, sam, Role.STAFF)
    join(acme, val, Role.VIEWER)
    put_records(
        acme,
        "customer",
        [
            {"key": "C1", "name": "Smith Plumbing", "city": "Leeds", "balance": "120.50"},
            {"key": "C2", "name": "Jones Heating", "city": "York"},
        ],
    )
    put_records(
        acme,
        "contact",
        [
            {"key": "K1", "name": "Jo Smith", "customer": "C1", "role": "Owner"},
            {"key": "K2", "name": "Al Jones", "customer": "C2"},
            {"key": "K3", "name": "Pat Pipes", "supplier": "S1", "phone": "0113 496 0000"},
        ],
    )
    put_records(acme, "supplier", [{"key": "S1", "name": "Pipes Ltd", "city": "Hull"}])
    put_records(
        acme,
        "product",
        [
            {"key": "P1", "name": "Copper pipe", "sku": "CP-15", "price": "4.50", "tax_rate": "20"},
            {"key": "P2", "name": "Gas meter", "sku": "GM-1", "price": "80.00", "tax_rate": "5"},
        ],
    )
    put_records(
        acme,
        "order",
        [
            {
                "key": "O1",
                "number": "1001",
                "customer": "C1",
                "status": "open",
                "total": "9.00",
                "due_date": "2026-03-09",
            },
            {"key": "O2", "number": "1002", "customer": "C1", "status": "closed"},
            {"key": "O3", "number": "1003", "customer": "C2", "status": "open"},
        ],
    )
    put_records(
        acme,
        "invoice",
        [
            {
                "key": "I1",
                "number": "INV-1",
                "customer": "C1",
                "paid": False,
                "balance": "100.00",
                "total": "100.00",
            },
            {"key": "I2", "number": "INV-2", "customer": "C1", "paid": True, "balance": "0.00"},
            {
                "key": "I3",
                "number": "INV-3",
                "customer": "C1",
                "paid": False,
                "balance": "20.50",
                "total": "30.00",
            },
        ],
    )
    mode.switch_on(bravo, bob, "Their CRM down")
    their_device = numbering.register_device(bravo, "Their desk")
    theirs, _ = documents.create(
        bravo,
        their_device,
        DocumentInput(
            kind="quote",
            party_name="Their customer",
            lines=[LineInput(description="X", quantity="1", unit_price="1")],
        ),
        "their-key",
        bob,
    )
    their_note, _ = notes.add(bravo, "Called back", "their-note", bob)
    return {
        "acme": acme,
        "bravo": bravo,
        "owner": token_for(ann),
        "staff": token_for(sam),
        "viewer": token_for(val),
        "theirs": theirs,
        "their_note": their_note,
    }


def call(
    client: Client,
    method: str,
    path: str,
    token: str,
    body: object = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    r = getattr(client, method)(
        "/api" + path,
        data=json.dumps(body) if body is not None else None,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}", **(headers or {})},
    )
    return r.status_code, (r.json() if r.content else None)


def fields(body: dict[str, Any]) -> list[str]:
    return [e["field"] for e in body["errors"]]


def on(client: Client, world, reason: str = "CRM down") -> dict[str, Any]:
    status, body = call(
        client, "post", "/orgs/acme/desk/mode/on", world["owner"], {"reason": reason}
    )
    assert status == 200, body
    return body


QUOTE = {
    "kind": "quote",
    "party_key": "C1",
    "lines": [
        {"product_key": "P1", "quantity": 2},
        {"description": "Call-out fee", "quantity": "1", "unit_price": "45.00", "tax_rate": "0"},
    ],
}


def make_document(client: Client, world, key: str, body: dict[str, Any] | None = None):
    status, document = call(
        client,
        "post",
        "/orgs/acme/desk/documents",
        world["staff"],
        {**(body or QUOTE), "request_key": key},
    )
    assert status == 201, document
    return document


# ------------------------------------------------------------------------- mode


def test_a_manager_switches_fallback_mode_on_and_off(client, world):
    status, body = call(client, "get", "/orgs/acme/desk/mode", world["viewer"])
    assert (status, body["active"], body["periods"]) == (200, False, [])
    status, body = call(client, "post", "/orgs/acme/desk/mode/on", world["owner"], {"reason": " "})
    assert (status, fields(body)) == (422, ["reason"])
    body = on(client, world)
    assert body["active"] is True
    assert body["period"] == 1
    assert body["periods"][0]["reason"] == "CRM down"
    assert call(client, "get", "/orgs/acme/desk/mode", world["viewer"])[1]["active"] is True
    status, body = call(client, "post", "/orgs/acme/desk/mode/off", world["owner"])
    assert (status, body["active"]) == (200, False)


def test_staff_cannot_switch_fallback_mode(client, world):
    status, _ = call(client, "post", "/orgs/acme/desk/mode/on", world["staff"], {"reason": "x"})
    assert status == 403
    assert call(client, "post", "/orgs/acme/desk/mode/off", world["staff"])[0] == 403
    assert not mode.state(world["acme"]).active


def test_mode_of_a_declared_outage_shows_the_system_and_cannot_be_switched_off(client, world):
    crm = editing.create_system(world["acme"], name="CloudCRM")
    status, incident = call(
        client,
        "post",
        "/orgs/acme/incidents",
        world["owner"],
        {"title": "CRM unreachable", "systems": [crm.slug]},
    )
    assert status == 201, incident
    status, body = call(client, "get", "/orgs/acme/desk/mode", world["staff"])
    assert body["active"] is True
    assert body["periods"][0]["incident_id"] == incident["id"]
    assert [d["system"] for d in body["down"]] == ["CloudCRM"]
    status, body = call(client, "post", "/orgs/acme/desk/mode/off", world["owner"])
    assert status == 409
    assert "CRM unreachable" in body["detail"]


# ---------------------------------------------------------------------- look-up


def test_search_finds_customers_and_products_and_names_an_unknown_kind(client, world):
    status, hits = call(client, "get", "/orgs/acme/desk/search?q=smi", world["viewer"])
    assert status == 200
    assert (hits[0]["entity"], hits[0]["key"], hits[0]["title"]) == (
        "customer",
        "C1",
        "Smith Plumbing",
    )
    status, hits = call(
        client, "get", "/orgs/acme/desk/search?q=pipe&kinds=product", world["viewer"]
    )
    assert [(h["entity"], h["key"]) for h in hits] == [("product", "P1")]
    status, body = call(client, "get", "/orgs/acme/desk/search?q=x&kinds=planet", world["viewer"])
    assert (status, fields(body)) == (422, ["kinds"])
    assert call(client, "get", "/orgs/acme/desk/search?q=", world["viewer"])[1] == []


def test_customer_page_has_contacts_open_orders_unpaid_invoices_and_balance(client, world):
    on(client, world)
    make_document(client, world, "k1")
    status, body = call(client, "get", "/orgs/acme/desk/customers/C1", world["viewer"])
    assert status == 200, body
    assert (body["name"], body["data"]["city"], body["balance"]) == (
        "Smith Plumbing",
        "Leeds",
        "120.50",
    )
    assert [c["name"] for c in body["contacts"]] == ["Jo Smith"]
    assert [(o["number"], o["due_date"]) for o in body["open_orders"]] == [("1001", "2026-03-09")]
    assert [(i["number"], i["owed"]) for i in body["unpaid_invoices"]] == [
        ("INV-1", "100.00"),
        ("INV-3", "20.50"),
    ]
    assert body["balance_from_replica"] is True
    assert [d["kind"] for d in body["desk_documents"]] == ["quote"]
    assert call(client, "get", "/orgs/acme/desk/customers/C404", world["viewer"])[0] == 404


def test_supplier_page_has_its_contacts(client, world):
    status, body = call(client, "get", "/orgs/acme/desk/suppliers/S1", world["viewer"])
    assert status == 200, body
    assert body["name"] == "Pipes Ltd"
    assert [(c["name"], c["phone"]) for c in body["contacts"]] == [("Pat Pipes", "0113 496 0000")]
    # A customer's key is not a supplier.
    assert call(client, "get", "/orgs/acme/desk/suppliers/C1", world["viewer"])[0] == 404


# -------------------------------------------------------------------- documents


def test_a_document_is_filled_from_the_replica_and_totalled(client, world):
    on(client, world)
    body = make_document(client, world, "k1")
    assert body["number"] == "FB1-API-Q0001"
    assert (body["party_name"], body["party_key"], body["party_details"]["city"]) == (
        "Smith Plumbing",
        "C1",
        "Leeds",
    )
    pipe, fee = body["lines"]
    assert (pipe["description"], pipe["sku"], pipe["unit_price"], pipe["net"], pipe["tax"]) == (
        "Copper pipe",
        "CP-15",
        "4.5000",
        "9.00",
        "1.80",
    )
    assert (fee["net"], fee["tax"]) == ("45.00", "0.00")
    assert (body["subtotal"], body["tax"], body["total"]) == ("54.00", "1.80", "55.80")
    assert (body["status"], body["created_by"]) == ("open", "sam@acme.test")
    status, again = call(client, "get", f"/orgs/acme/desk/documents/{body['id']}", world["viewer"])
    assert (status, again) == (200, body)


def test_two_lines_of_one_product_keep_their_own_quantity_and_price(client, world):
    on(client, world)
    lines = [
        {"product_key": "P1", "quantity": "2"},
        {"product_key": "P1", "quantity": "3", "unit_price": "4.00", "description": "Offcut"},
    ]
    body = make_document(client, world, "k-twice", {**QUOTE, "lines": lines})
    first, second = body["lines"]
    assert (first["description"], first["quantity"], first["unit_price"]) == (
        "Copper pipe",
        "2.000",
        "4.5000",
    )
    assert (second["description"], second["quantity"], second["unit_price"]) == (
        "Offcut",
        "3.000",
        "4.0000",
    )


def test_the_same_request_key_twice_makes_one_document(client, world):
    on(client, world)
    first = make_document(client, world, "double-click")
    status, second = call(
        client,
        "post",
        "/orgs/acme/desk/documents",
        world["staff"],
        {**QUOTE, "request_key": "double-click"},
    )
    assert (status, second["id"], second["number"]) == (200, first["id"], first["number"])
    # The header does the same as the body's key.
    path = "/orgs/acme/desk/documents"
    header = {"Idempotency-Key": "retry-1"}
    status, third = call(client, "post", path, world["staff"], QUOTE, headers=header)
    assert status == 201 and third["request_key"] == "retry-1"
    status, fourth = call(client, "post", path, world["staff"], QUOTE, headers=header)
    assert (status, fourth["id"]) == (200, third["id"])
    assert Document.objects.filter(org=world["acme"]).count() == 2


def test_a_bad_line_is_named_and_nothing_is_saved(client, world):
    on(client, world)
    body = {
        **QUOTE,
        "request_key": "k1",
        "lines": [
            {"product_key": "P1", "quantity": 1},
            {"description": "Fee", "quantity": "-1", "unit_price": "5"},
            {"description": "Fee", "quantity": "1", "unit_price": "5", "tax_rate": "2O"},
        ],
    }
    status, problems = call(client, "post", "/orgs/acme/desk/documents", world["staff"], body)
    assert status == 422, problems
    assert fields(problems) == ["lines[2].quantity", "lines[3].tax_rate"]
    assert "at least 0" in problems["errors"][0]["message"]
    assert Document.objects.filter(org=world["acme"]).count() == 0
    assert DocumentLine.objects.filter(org=world["acme"]).count() == 0


def test_an_unknown_product_customer_or_device_is_named(client, world):
    on(client, world)
    body = {
        "kind": "invoice",
        "party_key": "C404",
        "device": "Q",
        "request_key": "k1",
        "lines": [{"product_key": "P1", "quantity": 1}, {"product_key": "P404", "quantity": 1}],
    }
    status, problems = call(client, "post", "/orgs/acme/desk/documents", world["staff"], body)
    assert status == 422, problems
    assert fields(problems) == ["device", "lines[2].product_key", "party_key"]
    assert "P404" in problems["detail"]
    assert not Document.objects.filter(org=world["acme"]).exists()
    status, problems = call(client, "post", "/orgs/acme/desk/documents", world["staff"], {**QUOTE})
    assert (status, fields(problems)) == (422, ["request_key"])


def test_a_named_device_numbers_its_own_series_and_the_api_device_is_made_once(client, world):
    on(client, world)
    numbering.register_device(world["acme"], "Front desk")  # code A
    body = make_document(client, world, "k1", {**QUOTE, "device": "a"})
    assert (body["device"], body["number"]) == ("A", "FB1-A-Q0001")
    make_document(client, world, "k2")
    make_document(client, world, "k3")
    assert Device.objects.filter(org=world["acme"], code="API").count() == 1
    assert sorted(Document.objects.filter(org=world["acme"]).values_list("number", flat=True)) == [
        "FB1-A-Q0001",
        "FB1-API-Q0001",
        "FB1-API-Q0002",
    ]


def test_no_document_while_fallback_mode_is_off(client, world):
    status, body = call(
        client, "post", "/orgs/acme/desk/documents", world["staff"], {**QUOTE, "request_key": "k"}
    )
    assert status == 409
    assert "fallback mode is off" in body["detail"]
    assert not Document.objects.filter(org=world["acme"]).exists()


def test_a_viewer_reads_but_cannot_create_or_void(client, world):
    on(client, world)
    made = make_document(client, world, "k1")
    v = world["viewer"]
    body = {**QUOTE, "request_key": "k2"}
    assert call(client, "post", "/orgs/acme/desk/documents", v, body)[0] == 403
    assert (
        call(client, "post", "/orgs/acme/desk/notes", v, {"text": "x", "request_key": "n"})[0]
        == 403
    )
    path = f"/orgs/acme/desk/documents/{made['id']}/void"
    assert call(client, "post", path, v, {"reason": "no"})[0] == 403
    status, listed = call(client, "get", "/orgs/acme/desk/documents", v)
    assert (status, [d["id"] for d in listed]) == (200, [made["id"]])
    assert Document.objects.filter(org=world["acme"]).count() == 1


def test_documents_are_listed_by_period_and_kind(client, world):
    on(client, world)
    quote = make_document(client, world, "k1")
    order = make_document(client, world, "k2", {**QUOTE, "kind": "order"})
    t = world["viewer"]
    status, listed = call(client, "get", "/orgs/acme/desk/documents?period=1", t)
    assert [d["id"] for d in listed] == [order["id"], quote["id"]]
    status, listed = call(client, "get", "/orgs/acme/desk/documents?kind=order", t)
    assert [d["number"] for d in listed] == ["FB1-API-SO0001"]
    assert call(client, "get", "/orgs/acme/desk/documents?period=2", t)[1] == []
    status, body = call(client, "get", "/orgs/acme/desk/documents?kind=memo", t)
    assert (status, fields(body)) == (422, ["kind"])


def test_a_voided_document_stays_listed_with_its_reason(client, world):
    on(client, world)
    made = make_document(client, world, "k1")
    path = f"/orgs/acme/desk/documents/{made['id']}/void"
    status, body = call(client, "post", path, world["staff"], {"reason": ""})
    assert (status, fields(body)) == (422, ["reason"])
    status, body = call(client, "post", path, world["staff"], {"reason": "typed twice"})
    assert (status, body["status"], body["void_reason"]) == (200, "void", "typed twice")
    assert body["voided_by"] == "sam@acme.test"
    listed = call(client, "get", "/orgs/acme/desk/documents", world["viewer"])[1]
    assert [(d["number"], d["status"]) for d in listed] == [(made["number"], "void")]


# ------------------------------------------------------------------------ notes


def test_work_notes_are_logged_once_per_key_and_voided_not_deleted(client, world):
    on(client, world)
    made = make_document(client, world, "k1")
    note = {"text": "Promised Friday delivery", "kind": "promise", "document": made["id"]}
    path = "/orgs/acme/desk/notes"
    status, body = call(client, "post", path, world["staff"], {**note, "request_key": "n1"})
    assert status == 201, body
    assert (body["period"], body["document"], body["party_name"]) == (
        1,
        made["number"],
        "Smith Plumbing",
    )
    status, again = call(client, "post", path, world["staff"], {**note, "request_key": "n1"})
    assert (status, again["id"]) == (200, body["id"])
    status, bad = call(client, "post", path, world["staff"], {"text": " ", "request_key": "n2"})
    assert (status, fields(bad)) == (422, ["text"])
    status, called = call(
        client,
        "post",
        path,
        world["staff"],
        {"text": "Called about the leak", "kind": "call", "party_key": "C2", "request_key": "n3"},
    )
    assert (status, called["party_name"]) == (201, "Jones Heating")
    status, listed = call(client, "get", "/orgs/acme/desk/notes?period=1", world["viewer"])
    assert [n["id"] for n in listed] == [called["id"], body["id"]]
    void = f"/orgs/acme/desk/notes/{body['id']}/void"
    status, voided = call(client, "post", void, world["staff"], {"reason": "wrong customer"})
    assert (status, voided["status"], voided["void_reason"]) == (200, "void", "wrong customer")
    assert WorkNote.objects.filter(org=world["acme"]).count() == 2


# ---------------------------------------------------------------- the way back


def test_period_lines_are_ticked_waived_and_reopened(client, world):
    on(client, world)
    quote = make_document(client, world, "k1")
    order = make_document(client, world, "k2", {**QUOTE, "kind": "order"})
    status, period = call(client, "get", "/orgs/acme/desk/periods/1", world["viewer"])
    assert status == 200, period
    assert (period["open_count"], period["documents"], period["notes"]) == (2, 2, 0)
    assert [(line["number"], line["status"]) for line in period["lines"]] == [
        (quote["number"], "open"),
        (order["number"], "open"),
    ]
    assert period["checklist"] and period["exports"][0]["shape"] == "quickbooks_invoices"
    base = "/orgs/acme/desk/periods/1/lines/document"
    status, body = call(client, "post", f"{base}/{quote['id']}/tick", world["staff"], {})
    assert (status, fields(body)) == (422, ["final_number"])
    tick = {"final_number": "Q-501"}
    status, line = call(client, "post", f"{base}/{quote['id']}/tick", world["staff"], tick)
    assert (status, line["status"], line["final_number"]) == (200, "entered", "Q-501")
    # The same final number is fine for a document of another kind.
    status, body = call(client, "post", f"{base}/{order['id']}/tick", world["staff"], tick)
    assert status == 200
    status, body = call(client, "post", f"{base}/{order['id']}/reopen", world["staff"])
    assert (status, body["status"], body["final_number"]) == (200, "open", "")
    waive = {"reason": "the customer cancelled by phone"}
    assert call(client, "post", f"{base}/{order['id']}/waive", world["staff"], waive)[0] == 403
    status, body = call(client, "post", f"{base}/{order['id']}/waive", world["owner"], waive)
    assert (status, body["status"], body["waive_reason"]) == (200, "waived", waive["reason"])
    # Staff cannot take back a manager's waiver.
    assert call(client, "post", f"{base}/{order['id']}/reopen", world["staff"])[0] == 403
    status, periods = call(client, "get", "/orgs/acme/desk/periods", world["viewer"])
    assert [(p["number"], p["open_count"], p["documents"]) for p in periods] == [(1, 0, 2)]


def test_a_final_number_given_twice_is_refused(client, world):
    on(client, world)
    first = make_document(client, world, "k1")
    second = make_document(client, world, "k2")
    base = "/orgs/acme/desk/periods/1/lines/document"
    tick = {"final_number": "Q-501"}
    assert call(client, "post", f"{base}/{first['id']}/tick", world["staff"], tick)[0] == 200
    status, body = call(client, "post", f"{base}/{second['id']}/tick", world["staff"], tick)
    assert (status, fields(body)) == (422, ["final_number"])
    assert first["number"] in body["detail"]


def test_the_export_downloads_as_a_file(client, world):
    on(client, world)
    make_document(client, world, "k1", {**QUOTE, "kind": "invoice"})
    period = call(client, "get", "/orgs/acme/desk/periods/1", world["viewer"])[1]
    (url,) = [e["url"] for e in period["exports"] if e["shape"] == "quickbooks_invoices"]
    assert url == "/api/orgs/acme/desk/periods/1/export/quickbooks_invoices"
    r = client.get(url, headers={"Authorization": f"Bearer {world['viewer']}"})
    assert r.status_code == 200
    assert r["Content-Type"] == "text/csv; charset=utf-8"
    assert r["Content-Disposition"] == (
        'attachment; filename="acme-fallback-1-quickbooks-invoices.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"), newline="")))
    assert [(row["InvoiceNo"], row["ItemAmount"]) for row in rows] == [
        ("FB1-API-INV0001", "9.00"),
        ("FB1-API-INV0001", "45.00"),
    ]
    status, body = call(client, "get", "/orgs/acme/desk/periods/1/export/sage", world["viewer"])
    assert status == 404
    assert "quickbooks_invoices" in body["detail"]


def test_another_organisations_desk_answers_404(client, world):
    on(client, world)
    t = world["owner"]
    theirs, note = world["theirs"], world["their_note"]
    assert call(client, "get", "/orgs/bravo/desk/mode", t)[0] == 404
    assert call(client, "get", "/orgs/bravo/desk/documents", t)[0] == 404
    assert call(client, "get", f"/orgs/acme/desk/documents/{theirs.pk}", t)[0] == 404
    why = {"reason": "x"}
    assert call(client, "post", f"/orgs/acme/desk/documents/{theirs.pk}/void", t, why)[0] == 404
    assert call(client, "post", f"/orgs/acme/desk/notes/{note.pk}/void", t, why)[0] == 404
    tick = f"/orgs/acme/desk/periods/1/lines/document/{theirs.pk}/tick"
    assert call(client, "post", tick, t, {"final_number": "1"})[0] == 404
    assert call(client, "get", "/orgs/acme/desk/periods/2", t)[0] == 404
    # Bravo's request key is theirs: the same key here makes Acme's own document.
    made = make_document(client, world, "their-key")
    assert made["id"] != theirs.pk
    listed = call(client, "get", "/orgs/acme/desk/documents", t)[1]
    assert [d["id"] for d in listed] == [made["id"]]
    theirs.refresh_from_db()
    assert theirs.voided_at is None and theirs.final_number == ""


def test_the_incident_resolves_only_once_the_desk_lines_are_entered(client, world):
    crm = editing.create_system(world["acme"], name="CloudCRM")
    t = world["owner"]
    status, incident = call(
        client, "post", "/orgs/acme/incidents", t, {"title": "CRM down", "systems": [crm.slug]}
    )
    assert status == 201
    made = make_document(client, world, "k1")
    assert made["period"] == 1
    resolve = f"/orgs/acme/incidents/{incident['id']}/resolve"
    status, body = call(client, "post", resolve, t, {})
    assert status == 409
    assert "1 document or note made at the desk" in body["detail"]
    assert "not yet in the main system" in body["detail"]
    assert Incident.objects.get(pk=incident["id"]).status == Status.DECLARED
    tick = f"/orgs/acme/desk/periods/1/lines/document/{made['id']}/tick"
    assert call(client, "post", tick, world["staff"], {"final_number": "Q-9001"})[0] == 200
    status, body = call(client, "post", resolve, t, {})
    assert (status, body["status"]) == (200, "resolved")
    status, state = call(client, "get", "/orgs/acme/desk/mode", t)
    assert state["active"] is False


def test_a_note_line_is_ticked_without_a_number(client, world):
    on(client, world)
    status, note = call(
        client,
        "post",
        "/orgs/acme/desk/notes",
        world["staff"],
        {"text": "Sent 3 boxes", "kind": "goods_sent", "request_key": "n1"},
    )
    assert status == 201
    base = "/orgs/acme/desk/periods/1/lines"
    status, line = call(client, "post", f"{base}/note/{note['id']}/tick", world["staff"], {})
    assert (status, line["type"], line["status"]) == (200, "note", "entered")
    assert call(client, "post", f"{base}/memo/{note['id']}/tick", world["staff"], {})[0] == 404
    status, period = call(client, "get", "/orgs/acme/desk/periods/1", world["viewer"])
    assert (period["notes"], period["open_count"]) == (1, 0)
