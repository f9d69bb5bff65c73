"""The replica's pages: connectors (with their secrets never shown back), syncs and the
decision on a held one, uploads, browsing now and "as of", and who may do what."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from fallback.accounts.models import Organisation, User
from fallback.accounts.roles import Role
from fallback.monitor import editing as monitor_editing
from fallback.replica import credentials, editing, sync
from fallback.replica.models import Connector, Ended, KeptFile, Record, Sync, SyncStatus
from fallback.testing.factories import join, make_org, make_user

pytestmark = pytest.mark.django_db

SECRET = "shpat_VERY-secret-token-4242"
CUSTOMERS = "id,name,email,balance\n" + "".join(
    f"{n},Customer {n:02d},c{n}@example.test,{n}0.5\n" for n in range(1, 13)
)


@pytest.fixture
def world():
    """Ann owns Acme (Mo manages, Sid is staff, Val views); Bob owns Bravo."""
    ann, bob = make_user("ann@acme.test"), make_user("bob@bravo.test")
    acme, bravo = make_org("Acme", owner=ann), make_org("Bravo", owner=bob)
    people = {"ann": ann, "bob": bob, "acme": acme, "bravo": bravo}
    for name, role in [("mo", Role.MANAGER), ("sid", Role.STAFF), ("val", Role.VIEWER)]:
        people[name] = make_user(f"{name}@acme.test")
        join(acme, people[name], role)
    return people


def as_user(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(name: str, org: Organisation, **kwargs) -> str:
    return reverse(f"replica:{name}", kwargs={"org_slug": org.slug, **kwargs})


def page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def text(html: str) -> str:
    """The page's words, without tags, collapsed: what a reader sees."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def files_connector(org: Organisation, name: str = "Customer export") -> Connector:
    return editing.create_connector(
        org,
        name=name,
        kind="files",
        config={
            "streams": [
                {
                    "name": "customers",
                    "pattern": "customers*.csv",
                    "entity": "customer",
                    "key": "id",
                }
            ]
        },
        mapping={"customers": {"fields": {"name": "name", "email": "email", "balance": "balance"}}},
    )


def drop(connector: Connector, name: str, content: str) -> Path:
    folder = sync.uploads_folder(connector)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(content)
    return path


def shop_post(**extra) -> dict[str, object]:
    data: dict[str, object] = {
        "kind": "shopify",
        "action": "save",
        "name": "Shop",
        "interval_minutes": "15",
        "rpo_minutes": "60",
        "drop_guard_percent": "20",
        "full_sweep_hours": "24",
        "enabled": "on",
        "config__base_url": "https://shop.example.com/admin/api/2024-10/",
        "config__streams": ["customers", "products", "orders"],
        "secret__token": SECRET,
    }
    data.update(extra)
    return data


@pytest.fixture
def shop(world):
    return editing.create_connector(
        world["acme"],
        name="Shop",
        kind="shopify",
        config={"base_url": "https://shop.example.com/admin/api/2024-10/"},
        secrets={"token": SECRET},
    )


@pytest.fixture(autouse=True)
def home(settings, tmp_path):
    """Each test its own data folder, so uploads never leak from one test to the next."""
    settings.FALLBACK_HOME = tmp_path / "home"
    settings.FALLBACK_HOME.mkdir()
    return settings.FALLBACK_HOME


@pytest.fixture
def immediate_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


# ----------------------------------------------------------------------- list


def test_list_shows_connectors_freshness_and_held_syncs(world, shop):
    export = files_connector(world["acme"])
    now = timezone.now()
    Connector.objects.filter(pk=shop.pk).update(last_good_at=now - timedelta(hours=3))
    Connector.objects.filter(pk=export.pk).update(last_good_at=now - timedelta(minutes=12))
    Sync.objects.create(
        org=world["acme"],
        connector=shop,
        status=SyncStatus.HELD,
        hold_reasons=["customers: 80% fewer"],
    )
    html = page(as_user(world["val"]).get(url("list", world["acme"])))
    words = text(html)
    assert "Shop" in words and "Customer export" in words
    assert "Shopify-like shop" in words and "CSV / XLSX exports" in words
    assert "Older than 1 h" in words and "3 h old" in words  # the shop is past its RPO
    assert "12 min old" in words
    assert "Held syncs waiting for a decision" in words and "customers: 80% fewer" in words
    assert "1 held" in words
    assert "Sync now" not in words  # a viewer cannot
    assert "Add connector" not in words


def test_list_offers_sync_now_to_staff_with_a_fresh_key_per_render(world, shop):
    client = as_user(world["sid"])
    first = page(client.get(url("list", world["acme"])))
    second = page(client.get(url("list", world["acme"])))
    assert "Sync now" in first
    keys = [re.search(r'name="request_key" value="([^"]+)"', h).group(1) for h in (first, second)]
    assert keys[0] != keys[1]


def test_replica_is_in_the_main_navigation(world):
    html = page(as_user(world["val"]).get(reverse("front:dashboard", args=[world["acme"].slug])))
    assert f'href="/o/{world["acme"].slug}/replica/"' in html
    assert "replica/cards/replica.html" not in html  # the card is included, not named
    assert 'id="replica-card-heading"' in html


def test_dashboard_card_puts_stale_copies_first_with_held_count(world, shop):
    export = files_connector(world["acme"])
    Connector.objects.filter(pk=export.pk).update(last_good_at=timezone.now())
    Sync.objects.create(org=world["acme"], connector=export, status=SyncStatus.HELD)
    html = page(as_user(world["val"]).get(url("card", world["acme"])))
    words = text(html)
    assert words.index("Shop") < words.index("Customer export")  # never synced: first
    assert "No copy yet" in words
    assert "1 held sync" in words


def test_system_page_says_how_fresh_its_replica_is(world, shop):
    crm = monitor_editing.create_system(world["acme"], name="Shopify")
    Connector.objects.filter(pk=shop.pk).update(
        system=crm, last_good_at=timezone.now() - timedelta(minutes=5)
    )
    html = page(
        as_user(world["val"]).get(reverse("monitor:system", args=[world["acme"].slug, crm.slug]))
    )
    assert "Replica" in text(html) and "5 min old" in text(html)


# ------------------------------------------------------------- add and edit


def test_kind_chooser_lists_every_kind(world):
    words = text(page(as_user(world["mo"]).get(url("create", world["acme"]))))
    for label in ("Shopify-like shop", "HubSpot-like CRM", "QuickBooks", "REST JSON API"):
        assert label in words
    assert "CSV / XLSX exports" in words and "Plain files to keep" in words


def test_form_shows_each_mapped_field_with_its_default(world):
    html = page(as_user(world["mo"]).get(url("create", world["acme"]) + "?kind=shopify"))
    assert 'name="map__customers__email"' in html
    assert "<code>email</code>" in html  # Shopify's default source of a customer's email
    assert 'name="mapkey__orders"' in html
    assert 'type="password"' in html and 'autocomplete="new-password"' in html


def test_create_saves_secret_sealed_and_never_shows_it_back(world):
    client = as_user(world["mo"])
    data = shop_post(**{"map__customers__email": "contact_email", "map__customers__name": ""})
    response = client.post(url("create", world["acme"]) + "?kind=shopify", data)
    assert response.status_code == 302
    shop = Connector.objects.get(org=world["acme"])
    assert shop.kind == "shopify" and shop.slug == "shop"
    assert shop.config == {"base_url": "https://shop.example.com/admin/api/2024-10/"}
    assert shop.mapping == {"customers": {"fields": {"email": "contact_email"}}}  # only overrides
    assert credentials.secrets_of(shop) == {"token": SECRET}
    assert SECRET not in shop.sealed_secrets
    pages = [
        url("list", world["acme"]),
        url("connector", world["acme"], slug="shop"),
        url("edit", world["acme"], slug="shop"),
        url("card", world["acme"]),
        reverse("front:dashboard", args=[world["acme"].slug]),
        reverse("front:audit", args=[world["acme"].slug]),
    ]
    for address in pages:
        assert SECRET not in page(client.get(address)), address
    edit = page(client.get(url("edit", world["acme"], slug="shop")))
    assert ">set<" in edit and "Leave empty to keep it." in edit
    assert 'value="contact_email"' in edit


def test_edit_keeps_the_secret_when_left_empty(world, shop):
    client = as_user(world["mo"])
    data = shop_post(name="Web shop", secret__token="")
    response = client.post(url("edit", world["acme"], slug="shop"), data)
    assert response.status_code == 302
    shop.refresh_from_db()
    assert shop.name == "Web shop"
    assert credentials.secrets_of(shop) == {"token": SECRET}


def test_edit_replaces_or_clears_the_secret(world, shop):
    client = as_user(world["mo"])
    client.post(url("edit", world["acme"], slug="shop"), shop_post(secret__token="new-one"))
    shop.refresh_from_db()
    assert credentials.secrets_of(shop) == {"token": "new-one"}
    client.post(
        url("edit", world["acme"], slug="shop"), shop_post(secret__token="", clear__token="on")
    )
    shop.refresh_from_db()
    assert credentials.which_are_set(shop) == []
    assert ">not set<" in page(client.get(url("edit", world["acme"], slug="shop")))


def test_bad_config_is_shown_on_its_fields_and_nothing_is_saved(world):
    client = as_user(world["mo"])
    data = shop_post(
        **{
            "config__base_url": "ftp://shop.example.com",
            "map__customers__phone": "{unclosed",
            "config__streams": [],
        }
    )
    html = page(client.post(url("create", world["acme"]) + "?kind=shopify", data))
    assert not Connector.objects.exists()
    assert "Nothing was saved" in html
    assert "Choose at least one list to copy." in html
    assert SECRET not in html  # a typed secret is not sent back either
    data["config__streams"] = ["customers"]
    html = page(client.post(url("create", world["acme"]) + "?kind=shopify", data))
    assert not Connector.objects.exists()
    base = html.index('id="id_config__base_url_error"')
    assert "must be an http:// or https:// address" in html[base : base + 400]
    data["config__base_url"] = "https://shop.example.com/admin/api/2024-10/"
    html = page(client.post(url("create", world["acme"]) + "?kind=shopify", data))
    assert not Connector.objects.exists()
    phone = html.index('id="id_map__customers__phone_error"')
    assert "is not a template" in html[phone : phone + 300]


def test_quickbooks_asks_for_its_company_id(world):
    client = as_user(world["mo"])
    data = shop_post(kind="quickbooks", config__streams=["customers"], config__client_id="abc")
    data.pop("secret__token")
    html = page(client.post(url("create", world["acme"]) + "?kind=quickbooks", data))
    assert not Connector.objects.exists()
    assert 'id="id_config__realm_id_error"' in html


def test_files_connector_is_added_from_rows(world):
    client = as_user(world["mo"])
    data = {
        "kind": "files",
        "action": "save",
        "name": "Price list",
        "interval_minutes": "60",
        "rpo_minutes": "1440",
        "drop_guard_percent": "20",
        "full_sweep_hours": "24",
        "enabled": "on",
        "fs_rows": "1",
        "fs0__entity": "product",
        "fs0__pattern": "prices*.csv",
        "fs0__key": "SKU",
        "fs0__name": "",
    }
    # Choosing what the list holds shows that record's fields to map (htmx refreshes them).
    refreshed = page(
        client.post(url("create", world["acme"]) + "?kind=files", {**data, "action": "refresh"})
    )
    assert 'name="map__products__price"' in refreshed
    assert not Connector.objects.exists()
    data["map__products__name"] = "Description"
    data["map__products__price"] = "Unit price"
    response = client.post(url("create", world["acme"]) + "?kind=files", data)
    assert response.status_code == 302, text(response.content.decode())[:2000]
    c = Connector.objects.get(org=world["acme"])
    assert c.config == {
        "streams": [
            {"name": "products", "pattern": "prices*.csv", "entity": "product", "key": "SKU"}
        ]
    }
    assert c.mapping == {"products": {"fields": {"name": "Description", "price": "Unit price"}}}


def test_rest_yaml_problems_point_at_their_line(world):
    client = as_user(world["mo"])
    data = {
        "kind": "rest",
        "action": "save",
        "name": "CRM",
        "interval_minutes": "15",
        "rpo_minutes": "60",
        "drop_guard_percent": "20",
        "full_sweep_hours": "24",
        "config__yaml": "base_url: https://crm.example.com/api/\nresources:\n  - name: customers\n"
        "    entity: customer\n",
    }
    html = page(client.post(url("create", world["acme"]) + "?kind=rest", data))
    assert not Connector.objects.exists()
    assert "line 3: resources.0.path" in html
    data["config__yaml"] = "base_url: [unclosed\n"
    assert "line 2: YAML syntax" in page(
        client.post(url("create", world["acme"]) + "?kind=rest", data)
    )


def test_rest_yaml_masks_header_values_and_keeps_them(world):
    config = {
        "base_url": "https://crm.example.com/api/",
        "headers": {"X-Api-Key": "hidden-header-value"},
        "resources": [{"name": "customers", "path": "customers", "entity": "customer"}],
    }
    crm = editing.create_connector(world["acme"], name="CRM", kind="rest", config=config)
    client = as_user(world["mo"])
    html = page(client.get(url("edit", world["acme"], slug=crm.slug)))
    assert "hidden-header-value" not in html and "X-Api-Key: •••" in html
    assert "hidden-header-value" not in page(
        client.get(url("connector", world["acme"], slug=crm.slug))
    )
    yaml_text = re.search(r'<textarea name="config__yaml"[^>]*>\n?(.*?)</textarea>', html, re.S)
    assert yaml_text is not None
    import html as htmllib

    data = {
        "action": "save",
        "name": "CRM renamed",
        "interval_minutes": "15",
        "rpo_minutes": "60",
        "drop_guard_percent": "20",
        "full_sweep_hours": "24",
        "config__yaml": htmllib.unescape(yaml_text.group(1)),
    }
    assert client.post(url("edit", world["acme"], slug=crm.slug), data).status_code == 302
    crm.refresh_from_db()
    assert crm.name == "CRM renamed"
    assert crm.config["headers"] == {"X-Api-Key": "hidden-header-value"}


def test_preview_shows_the_first_records_without_saving(world, tmp_path):
    (tmp_path / "customers-2025.csv").write_text(CUSTOMERS)
    data = {
        "kind": "files",
        "action": "preview",
        "name": "",
        "config__folder": str(tmp_path),
        "fs_rows": "1",
        "fs0__entity": "customer",
        "fs0__pattern": "customers*.csv",
        "fs0__key": "id",
        "map__customers__name": "name",
        "map__customers__balance": "balance",
    }
    client = as_user(world["mo"])
    html = page(
        client.post(url("create", world["acme"]) + "?kind=files", data, HTTP_HX_REQUEST="true")
    )
    assert not Connector.objects.exists()
    words = text(html)
    assert "Customer 01" in words and "Customer 10" in words
    assert "Customer 11" not in words  # the first 10 only
    assert "10.50" in words  # money as money
    assert "Fields in the source: id , name , email , balance" in words
    assert "Nothing was saved" not in words  # a preview judges no empty name


def test_preview_reports_problems_instead_of_fetching(world):
    data = shop_post(action="preview", **{"config__base_url": "not an address"})
    html = page(as_user(world["mo"]).post(url("create", world["acme"]) + "?kind=shopify", data))
    assert "The preview could not run" in html and "must be an http:// or https:// address" in html
    assert not Connector.objects.exists()


def test_refresh_shows_the_mapping_of_a_new_list(world):
    data = {
        "kind": "files",
        "action": "refresh",
        "fs_rows": "1",
        "fs0__entity": "invoice",
        "fs0__pattern": "invoices*.csv",
        "fs0__key": "Number",
    }
    html = page(as_user(world["mo"]).post(url("create", world["acme"]) + "?kind=files", data))
    assert 'name="map__invoices__balance"' in html


def test_add_another_list_adds_a_row(world):
    data = {"kind": "files", "action": "add_stream", "fs_rows": "1"}
    html = page(as_user(world["mo"]).post(url("create", world["acme"]) + "?kind=files", data))
    assert 'name="fs1__pattern"' in html and 'value="2"' in html


# --------------------------------------------------------------------- roles


def test_staff_and_viewers_cannot_change_connectors(world, shop):
    for who in ("sid", "val"):
        client = as_user(world[who])
        assert client.get(url("create", world["acme"])).status_code == 403
        assert client.get(url("edit", world["acme"], slug="shop")).status_code == 403
        assert (
            client.post(url("create", world["acme"]) + "?kind=shopify", shop_post()).status_code
            == 403
        )
    assert Connector.objects.count() == 1


def test_viewer_cannot_sync_or_upload(world):
    export = files_connector(world["acme"])
    client = as_user(world["val"])
    assert client.post(url("sync_now", world["acme"], slug=export.slug)).status_code == 403
    upload = SimpleUploadedFile("customers.csv", CUSTOMERS.encode())
    assert (
        client.post(url("upload", world["acme"], slug=export.slug), {"file": upload}).status_code
        == 403
    )


def test_another_organisations_replica_is_404(world):
    theirs = files_connector(world["bravo"], name="Bravo export")
    drop(theirs, "customers.csv", CUSTOMERS)
    done = sync.run(theirs)
    record = Record.objects.filter(org=world["bravo"]).first()
    client = as_user(world["ann"])
    assert client.get(url("list", world["bravo"])).status_code == 404
    assert client.get(url("connector", world["acme"], slug=theirs.slug)).status_code == 404
    assert client.get(url("edit", world["acme"], slug=theirs.slug)).status_code == 404
    assert (
        client.get(url("sync", world["acme"], slug=theirs.slug, sync_id=done.pk)).status_code == 404
    )
    assert client.get(url("record", world["acme"], record_id=record.pk)).status_code == 404
    assert client.post(url("sync_now", world["acme"], slug=theirs.slug)).status_code == 404
    # Nor does one of Acme's connectors show another's sync.
    mine = files_connector(world["acme"])
    assert (
        client.get(url("sync", world["acme"], slug=mine.slug, sync_id=done.pk)).status_code == 404
    )
    assert "Customer 01" not in page(client.get(url("browse", world["acme"])))


# ---------------------------------------------------------------------- syncs


def held_sync(world) -> tuple[Connector, Sync]:
    export = files_connector(world["acme"])
    path = drop(export, "customers.csv", CUSTOMERS)
    assert sync.run(export).status == SyncStatus.APPLIED
    path.write_text("id,name,email,balance\n1,Customer 01 Renamed,c1@example.test,1\n")
    held = sync.run(export)
    assert held.status == SyncStatus.HELD
    return export, held


def test_sync_page_shows_why_it_was_held_and_what_came(world):
    export, held = held_sync(world)
    words = text(
        page(
            as_user(world["val"]).get(url("sync", world["acme"], slug=export.slug, sync_id=held.pk))
        )
    )
    assert "Held: why" in words and "92% fewer than the 12" in words
    assert "Customer 01 Renamed" in words  # a sample of what it fetched
    assert "Release (apply)" not in words  # a viewer only looks
    assert "A manager or owner decides" in words


def test_staff_cannot_release_or_discard(world):
    export, held = held_sync(world)
    client = as_user(world["sid"])
    for name in ("release", "discard"):
        response = client.post(url(name, world["acme"], slug=export.slug, sync_id=held.pk))
        assert response.status_code == 403
    held.refresh_from_db()
    assert held.status == SyncStatus.HELD


def test_manager_releases_a_held_sync(world):
    export, held = held_sync(world)
    client = as_user(world["mo"])
    sync_page = url("sync", world["acme"], slug=export.slug, sync_id=held.pk)
    assert "Release (apply)" in page(client.get(sync_page))
    response = client.post(
        url("release", world["acme"], slug=export.slug, sync_id=held.pk), follow=True
    )
    words = text(page(response))
    assert "Released: 0 new, 1 changed, 11 gone" in words
    held.refresh_from_db()
    assert held.status == SyncStatus.APPLIED and held.decided_by == world["mo"]
    assert Record.objects.filter(org=world["acme"], valid_to__isnull=True).count() == 1
    again = client.post(
        url("release", world["acme"], slug=export.slug, sync_id=held.pk), follow=True
    )
    assert "Not released: this sync is applied, not held" in text(page(again))


def test_manager_discards_a_held_sync(world):
    export, held = held_sync(world)
    client = as_user(world["mo"])
    response = client.post(
        url("discard", world["acme"], slug=export.slug, sync_id=held.pk), follow=True
    )
    assert "Discarded" in text(page(response))
    held.refresh_from_db()
    assert held.status == SyncStatus.DISCARDED
    assert Record.objects.filter(org=world["acme"], valid_to__isnull=True).count() == 12


def test_connector_page_lists_syncs_with_counts(world):
    export, _held = held_sync(world)
    words = text(page(as_user(world["val"]).get(url("connector", world["acme"], slug=export.slug))))
    assert "Last syncs" in words and "Applied" in words and "Held for review" in words
    assert "Held syncs" in words
    assert "newest file matching customers*.csv" in words


def test_sync_now_twice_with_the_same_key_syncs_once(world, immediate_tasks):
    export = files_connector(world["acme"])
    drop(export, "customers.csv", CUSTOMERS)
    client = as_user(world["sid"])
    address = url("sync_now", world["acme"], slug=export.slug)
    first = client.post(address, {"request_key": "double-click-key-1"}, follow=True)
    assert f"{export.name} synced: applied." in text(page(first))
    second = client.post(address, {"request_key": "double-click-key-1"}, follow=True)
    assert "already asked for" in text(page(second))
    assert Sync.objects.filter(connector=export).count() == 1
    assert Sync.objects.get(connector=export).trigger == "manual"
    client.post(address, {"request_key": "another-click-key-2"})
    assert Sync.objects.filter(connector=export).count() == 2


def test_sync_now_queues_one_task_per_key(world):
    export = files_connector(world["acme"])
    client = as_user(world["sid"])
    address = url("sync_now", world["acme"], slug=export.slug)
    for _ in range(2):
        client.post(address, {"request_key": "double-click-key-1", "back": "list"})
    assert DBTaskResult.objects.count() == 1
    task = DBTaskResult.objects.get()
    assert task.args_kwargs["args"][:3] == [export.pk, "manual", None]


# -------------------------------------------------------------------- uploads


def test_upload_saves_the_file_in_the_connectors_folder(world):
    export = files_connector(world["acme"])
    client = as_user(world["sid"])
    upload = SimpleUploadedFile("../../customers 2025.csv", CUSTOMERS.encode(), "text/csv")
    response = client.post(
        url("upload", world["acme"], slug=export.slug), {"file": upload}, follow=True
    )
    words = text(page(response))
    assert "customers_2025.csv is saved. Sync now" in words
    saved = sync.uploads_folder(export) / "customers_2025.csv"
    assert saved.read_text() == CUSTOMERS
    incoming = Path(settings.FALLBACK_HOME) / "uploads" / ".incoming"
    assert list(incoming.iterdir()) == []  # the temporary file became the upload
    assert sync.run(export).created == 12


def test_upload_warns_when_no_list_reads_that_name(world):
    export = files_connector(world["acme"])
    upload = SimpleUploadedFile("products.csv", b"sku,name\n1,A\n")
    response = as_user(world["sid"]).post(
        url("upload", world["acme"], slug=export.slug), {"file": upload}, follow=True
    )
    assert "no list reads a file of that name (customers*.csv)" in text(page(response))


def test_upload_refuses_a_file_over_the_limit(world, monkeypatch):
    from fallback.replica import forms

    monkeypatch.setattr(forms, "UPLOAD_LIMIT", 10)
    export = files_connector(world["acme"])
    upload = SimpleUploadedFile("customers.csv", CUSTOMERS.encode())
    response = as_user(world["sid"]).post(
        url("upload", world["acme"], slug=export.slug), {"file": upload}, follow=True
    )
    assert "The file was not saved" in text(page(response))
    assert not (sync.uploads_folder(export) / "customers.csv").exists()


def test_kept_files_can_be_downloaded_by_version(world):
    kept = editing.create_connector(world["acme"], name="Templates", kind="kept_files", config={})
    path = drop(kept, "quote.txt", "Quote v1")
    sync.run(kept)
    path.write_text("Quote v2, better")
    sync.run(kept)
    client = as_user(world["val"])
    words = text(page(client.get(url("connector", world["acme"], slug=kept.slug))))
    assert "Kept files" in words and "quote.txt" in words and "current" in words
    first = KeptFile.objects.filter(connector=kept).order_by("valid_from", "pk").first()
    response = client.get(url("kept_file", world["acme"], slug=kept.slug, file_id=first.pk))
    assert response.status_code == 200 and response.content == b"Quote v1"
    assert response["Content-Disposition"] == 'attachment; filename="quote.txt"'


# --------------------------------------------------------------------- browse


@pytest.fixture
def renamed(world):
    """One customer renamed on 1 June 2025 at 12:00 UTC (08:00 in New York)."""
    world["acme"].time_zone = "America/New_York"
    world["acme"].save()
    export = files_connector(world["acme"])
    t0 = datetime(2025, 5, 1, 9, 0, tzinfo=UTC)
    t1 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    common = {
        "org": world["acme"],
        "connector": export,
        "stream": "customers",
        "entity": "customer",
    }
    old = Record.objects.create(
        **common,
        key="c1",
        name="Old Name Ltd",
        data={"name": "Old Name Ltd", "balance": "10.00", "email": "a@old.test"},
        digest="a",
        valid_from=t0,
        valid_to=t1,
        ended=Ended.CHANGED,
    )
    new = Record.objects.create(
        **common,
        key="c1",
        name="New Name Ltd",
        data={"name": "New Name Ltd", "balance": "1250.50", "email": "a@old.test"},
        digest="b",
        valid_from=t1,
    )
    return old, new


def test_browse_shows_the_current_copy(world, renamed):
    words = text(page(as_user(world["val"]).get(url("browse", world["acme"]))))
    assert "New Name Ltd" in words and "Old Name Ltd" not in words
    assert "1250.50" in words
    html = page(as_user(world["val"]).get(url("browse", world["acme"])))
    assert '<td class="num" data-label="Balance">1250.50</td>' in html


def test_browse_as_of_shows_the_old_value_in_the_organisations_time(world, renamed):
    client = as_user(world["val"])
    before = text(page(client.get(url("browse", world["acme"]), {"as_of": "2025-06-01T07:30"})))
    assert "Old Name Ltd" in before and "New Name Ltd" not in before
    # 08:30 in New York is after the change (12:00 UTC); read as UTC it would not be.
    after = text(page(client.get(url("browse", world["acme"]), {"as_of": "2025-06-01T08:30"})))
    assert "New Name Ltd" in after and "Old Name Ltd" not in after
    earlier = text(page(client.get(url("browse", world["acme"]), {"as_of": "2025-04-01T00:00"})))
    assert "No customers were in the copy then" in earlier


def test_browse_searches_names_and_keys(world, renamed):
    client = as_user(world["val"])
    assert "New Name Ltd" in text(page(client.get(url("browse", world["acme"]), {"q": "name l"})))
    assert "New Name Ltd" in text(page(client.get(url("browse", world["acme"]), {"q": "c1"})))
    assert "No customers match" in text(
        page(client.get(url("browse", world["acme"]), {"q": "zzz"}))
    )


def test_browse_refuses_a_bad_date_politely(world, renamed):
    words = text(
        page(as_user(world["val"]).get(url("browse", world["acme"]), {"as_of": "yesterday"}))
    )
    assert "Write the date and time as" in words and "New Name Ltd" in words


def test_browse_pages_fifty_at_a_time(world):
    export = files_connector(world["acme"])
    drop(export, "customers.csv", "id,name\n" + "".join(f"{n},Cust {n:03d}\n" for n in range(120)))
    sync.run(export)
    client = as_user(world["val"])
    first = text(page(client.get(url("browse", world["acme"]))))
    assert "Cust 000" in first and "Cust 049" in first and "Cust 050" not in first
    assert "Page 1 of 3" in first
    third = text(page(client.get(url("browse", world["acme"]), {"page": "3"})))
    assert "Cust 119" in third


def test_record_page_shows_every_field_and_what_changed(world, renamed):
    old, new = renamed
    client = as_user(world["val"])
    words = text(page(client.get(url("record", world["acme"], record_id=new.pk))))
    assert "Current version" in words
    assert "Name : was Old Name Ltd → now New Name Ltd" in words
    assert "Balance : was 10.00 → now 1250.50" in words
    assert "First copied." in words
    assert "Email" not in words.split("History")[1]  # unchanged fields are not listed
    older = text(page(client.get(url("record", world["acme"], record_id=old.pk))))
    assert "An older version" in older and "See the current version" in older


def test_order_page_shows_its_lines(world):
    export = files_connector(world["acme"])
    Record.objects.create(
        org=world["acme"],
        connector=export,
        stream="orders",
        entity="order",
        key="o1",
        name="SO-1001",
        data={
            "number": "SO-1001",
            "total": "30.00",
            "lines": [
                {"sku": "W-1", "description": "Widget", "quantity": "3", "unit_price": "10.00"}
            ],
        },
        digest="x",
        valid_from=timezone.now(),
    )
    record = Record.objects.get(key="o1")
    words = text(page(as_user(world["val"]).get(url("record", world["acme"], record_id=record.pk))))
    assert "Lines" in words and "Widget" in words and "W-1" in words


@pytest.mark.parametrize(
    ("given", "saved"),
    [
        ("../../customers 2025.csv", "customers_2025.csv"),
        ("..", "upload"),
        (".htaccess", "htaccess"),
        ("C:\\Users\\me\\prices.xlsx", "prices.xlsx"),
        ("x" * 300 + ".csv", "x" * 116 + ".csv"),
    ],
)
def test_uploaded_names_are_made_safe(given, saved):
    from fallback.replica.views import safe_name

    assert safe_name(given) == saved


def test_browse_keeps_the_search_in_its_links(world, renamed):
    html = page(as_user(world["val"]).get(url("browse", world["acme"]), {"q": "A&B #1"}))
    assert "?entity=product&amp;q=A%26B+%231" in html
