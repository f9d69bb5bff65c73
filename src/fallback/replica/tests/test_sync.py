"""Syncs against the simulated cloud: copies, history, incremental reads, and every failure
mode leaving the replica as it was, with staff alerted."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fallback.incidents.models import AlertChannel, AlertDelivery
from fallback.replica import editing, history, staging
from fallback.replica import sync as syncing
from fallback.replica.connectors import rest
from fallback.replica.models import Record, StagedChunk, Sync, SyncStatus
from fallback.simulator import control
from fallback.simulator.runner import Simulator
from fallback.testing.factories import make_org

pytestmark = pytest.mark.django_db

CUSTOMERS = 120


@pytest.fixture(scope="module")
def sim():
    simulator = Simulator(port=0, scale=CUSTOMERS).start()
    yield simulator
    simulator.stop()


@pytest.fixture(autouse=True)
def clean_sim(sim):
    control.clear_faults(sim.url)
    control.set_mode(sim.url, "up")
    yield
    control.clear_faults(sim.url)
    control.set_mode(sim.url, "up")


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch):
    monkeypatch.setattr(rest, "MAX_ATTEMPTS", 2)
    monkeypatch.setattr(rest, "BACKOFF_FACTOR", 0.01)
    monkeypatch.setattr(rest, "MAX_RETRY_DELAY", 2)


@pytest.fixture
def org():
    org = make_org("Harbour Plumbing")
    AlertChannel.objects.create(org=org, name="Phones", url="json://127.0.0.1:9/alerts")
    return org


def shop(org, sim, streams=("customers",), page_size=25):
    return editing.create_connector(
        org,
        name="Shop",
        kind="shopify",
        config={
            "base_url": f"{sim.url}/shopify/admin/api/2024-10/",
            "streams": list(streams),
            "page_size": page_size,
        },
        secrets={"token": "shpat_demo"},
    )


def versions(connector) -> list[tuple[str, str, str]]:
    """Everything the replica holds for the connector: a fingerprint to compare."""
    return list(
        Record.objects.filter(connector=connector)
        .order_by("pk")
        .values_list("key", "digest", "ended")
    )


def alerts(org, event) -> int:
    return AlertDelivery.objects.filter(org=org, event=event).count()


def test_first_sync_copies_every_customer(org, sim):
    connector = shop(org, sim)
    done = syncing.run(connector, trigger="test")
    assert done.status == SyncStatus.APPLIED, (done.error, done.hold_reasons)
    assert done.fetched == done.created == CUSTOMERS
    customers = history.current(org, "customer")
    assert customers.count() == CUSTOMERS
    first = customers.get(key="1")
    assert first.name and first.data["email"].endswith(".test")
    assert not StagedChunk.objects.exists()  # staging is dropped once applied


def test_a_sync_with_nothing_changed_adds_no_versions(org, sim):
    connector = shop(org, sim)
    syncing.run(connector)
    before = versions(connector)
    again = syncing.run(connector, full=True)
    assert again.status == SyncStatus.APPLIED
    assert (again.unchanged, again.created, again.changed) == (CUSTOMERS, 0, 0)
    assert versions(connector) == before


def test_incremental_sync_fetches_only_what_changed(org, sim):
    connector = shop(org, sim)
    syncing.run(connector)
    changed = control.change(sim.url, share=0.05, entity="customers")
    done = syncing.run(connector, full=False)
    assert done.status == SyncStatus.APPLIED
    assert not done.full
    assert done.fetched < CUSTOMERS
    assert done.changed == changed


def test_as_of_gives_the_old_price_after_a_price_change(org, sim):
    connector = shop(org, sim, streams=("products",))
    syncing.run(connector)
    before_change = timezone.now()
    old = {r.key: r.data["price"] for r in history.current(org, "product")}
    control.change(sim.url, share=1.0, entity="products")
    done = syncing.run(connector, full=False)
    assert done.changed == len(old)
    now_prices = {r.key: r.data["price"] for r in history.current(org, "product")}
    then_prices = {r.key: r.data["price"] for r in history.as_of(org, before_change, "product")}
    assert then_prices == old
    assert now_prices != old
    key = next(iter(old))
    assert [v.data["price"] for v in history.versions(org, connector.pk, "products", key)] == [
        now_prices[key],
        old[key],
    ]


def test_ratelimited_source_is_read_in_full_after_waiting(org, sim):
    control.set_fault(sim.url, "ratelimit", every=3, retry_after=1)
    connector = shop(org, sim, page_size=40)
    done = syncing.run(connector)
    assert done.status == SyncStatus.APPLIED, done.error
    assert done.fetched == CUSTOMERS


@pytest.mark.parametrize(
    ("fault", "params", "held_because"),
    [
        ("empty", {}, "no records came back"),
        ("short", {}, "fewer than the"),
        ("truncated", {"page": 2}, "not complete JSON"),
        ("fail_after", {"pages": 2}, "HTTP 500"),
    ],
)
def test_a_damaging_sync_is_held_and_staff_alerted(org, sim, fault, params, held_because):
    connector = shop(org, sim)
    syncing.run(connector)
    before = versions(connector)
    control.set_fault(sim.url, fault, **params)
    done = syncing.run(connector, full=True)
    assert done.status == SyncStatus.HELD
    assert held_because in " ".join(done.hold_reasons)
    assert versions(connector) == before
    assert alerts(org, "sync_held") == 1


@pytest.mark.parametrize(("fault", "mode"), [("errors", "up"), (None, "down")])
def test_a_sync_that_cannot_read_fails_and_alerts_once(org, sim, fault, mode):
    connector = shop(org, sim)
    syncing.run(connector)
    before = versions(connector)
    if fault:
        control.set_fault(sim.url, fault)
    control.set_mode(sim.url, mode)
    first = syncing.run(connector, full=True)
    second = syncing.run(connector, full=True)
    assert first.status == second.status == SyncStatus.FAILED
    assert "HTTP 5" in first.error
    assert versions(connector) == before
    assert alerts(org, "sync_failed") == 1  # one per spell of failures, not one per sync


def test_first_sync_of_an_empty_source_is_held(org, sim):
    control.set_fault(sim.url, "empty")
    connector = shop(org, sim)
    done = syncing.run(connector)
    assert done.status == SyncStatus.HELD


def test_held_sync_released_is_applied(org, sim, django_user_model):
    connector = shop(org, sim)
    syncing.run(connector)
    control.set_fault(sim.url, "short")
    held = syncing.run(connector, full=True)
    assert StagedChunk.objects.filter(sync=held).exists()
    person = django_user_model.objects.create_user("boss@example.com", "pw long enough 123")
    released = syncing.release(held, by=person)
    assert released.status == SyncStatus.APPLIED
    assert released.decided_by == person
    # The short page set was a real shrink, confirmed by a person: the rest are retired.
    assert history.current(org, "customer").count() == held.fetched
    assert released.retired == CUSTOMERS - held.fetched


def test_held_sync_discarded_changes_nothing(org, sim, django_user_model):
    connector = shop(org, sim)
    syncing.run(connector)
    before = versions(connector)
    control.set_fault(sim.url, "empty")
    held = syncing.run(connector, full=True)
    person = django_user_model.objects.create_user("boss@example.com", "pw long enough 123")
    syncing.discard(held, by=person)
    held.refresh_from_db()
    assert held.status == SyncStatus.DISCARDED
    assert versions(connector) == before
    assert not StagedChunk.objects.filter(sync=held).exists()
    with pytest.raises(syncing.SyncRefused, match="discarded"):
        syncing.release(held, by=person)


def test_held_sync_older_than_the_replica_cannot_be_released(org, sim, django_user_model):
    connector = shop(org, sim)
    syncing.run(connector)
    control.set_fault(sim.url, "empty")
    held = syncing.run(connector, full=True)
    control.clear_faults(sim.url)
    syncing.run(connector, full=True)
    person = django_user_model.objects.create_user("boss@example.com", "pw long enough 123")
    with pytest.raises(syncing.SyncRefused, match="newer sync"):
        syncing.release(held, by=person)


def test_a_record_gone_from_the_source_is_retired_only_by_a_full_sweep(org, sim):
    connector = shop(org, sim)
    syncing.run(connector)
    record = history.current(org, "customer").get(key="7")
    # As if the source had lost it: the replica has one the source does not list.
    Record.objects.filter(pk=record.pk).update(key="gone-7")
    incremental = syncing.run(connector, full=False)
    assert incremental.retired == 0
    assert Record.objects.get(pk=record.pk).valid_to is None
    full = syncing.run(connector, full=True)
    assert full.retired == 1
    assert Record.objects.get(pk=record.pk).ended == "retired"


def test_mapping_that_lost_its_key_field_holds_the_sync(org, sim):
    connector = shop(org, sim)
    syncing.run(connector)
    editing.update_connector(connector, mapping={"customers": {"key": "customer_number"}})
    done = syncing.run(connector, full=True)
    assert done.status == SyncStatus.HELD
    assert "have no key" in " ".join(done.hold_reasons)


def test_a_field_that_disappears_everywhere_holds_the_sync(org, sim):
    connector = shop(org, sim)
    syncing.run(connector)
    editing.update_connector(
        connector, mapping={"customers": {"fields": {"email": "email_address"}}}
    )
    done = syncing.run(connector, full=True)
    assert done.status == SyncStatus.HELD
    assert "email is empty in every record" in " ".join(done.hold_reasons)


def test_an_abandoned_sync_is_failed_and_its_staging_dropped(org, sim):
    connector = shop(org, sim)
    long_ago = timezone.now() - timedelta(hours=1)
    dead = Sync.objects.create(
        org=org, connector=connector, started_at=long_ago, heartbeat_at=long_ago
    )
    writer = staging.ChunkWriter(dead, "customers")
    writer.add("1", "x", "d", "{}")
    writer.flush()
    syncing.run(connector)
    dead.refresh_from_db()
    assert dead.status == SyncStatus.FAILED
    assert "stopped before it finished" in dead.error
    assert not StagedChunk.objects.filter(sync=dead).exists()


def test_a_second_sync_of_the_same_connector_is_refused_while_one_runs(org, sim):
    connector = shop(org, sim)
    assert syncing.claim(connector, timezone.now())
    with pytest.raises(syncing.SyncRefused, match="already syncing"):
        syncing.run(connector)


def test_the_same_request_key_starts_one_sync(org, sim):
    connector = shop(org, sim)
    first = syncing.run(connector, request_key="click-1")
    again = syncing.run(connector, request_key="click-1")
    assert again.pk == first.pk
    assert Sync.objects.filter(connector=connector).count() == 1


@pytest.mark.parametrize(
    ("kind", "config", "secrets", "entities"),
    [
        (
            "hubspot",
            {"base_url": "{url}/hubspot/"},
            {"token": "pat-demo"},
            {"customer", "contact", "product", "order"},
        ),
        (
            "quickbooks",
            {
                "base_url": "{url}/quickbooks/",
                "realm_id": "9130350000000001",
                "client_id": "demo-client",
                "token_url": "{url}/quickbooks/oauth2/v1/tokens/bearer",
            },
            {"client_secret": "demo-secret", "refresh_token": "demo-refresh"},
            {"customer", "supplier", "product", "invoice"},
        ),
    ],
)
def test_each_preset_copies_its_lists(org, sim, kind, config, secrets, entities):
    config = {k: v.replace("{url}", sim.url) for k, v in config.items()}
    connector = editing.create_connector(
        org, name=kind, kind=kind, config={**config, "page_size": 50}, secrets=secrets
    )
    done = syncing.run(connector)
    assert done.status == SyncStatus.APPLIED, (done.error, done.hold_reasons)
    found = set(history.current(org).values_list("entity", flat=True))
    assert found == entities
    assert done.problem_count == 0, done.problems


def test_wrong_credentials_fail_with_the_http_status(org, sim):
    connector = editing.create_connector(
        org,
        name="Shop",
        kind="shopify",
        config={"base_url": f"{sim.url}/shopify/admin/api/2024-10/", "streams": ["customers"]},
        secrets={"token": "wrong"},
    )
    done = syncing.run(connector)
    assert done.status == SyncStatus.FAILED
    assert "HTTP 401" in done.error
