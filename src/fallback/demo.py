"""The demo: two small businesses looked after by one bookkeeper, with realistic people.

Idempotent: running it again on the same data folder changes nothing. Later features add
their own sample data (systems, replica records, a plan…) from here.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from fallback.accounts.membership import add_member, create_organisation, update_organisation
from fallback.accounts.models import Membership, Organisation, User
from fallback.accounts.roles import Role
from fallback.audit.context import acting_as
from fallback.comms.models import StatusPage
from fallback.desk.models import DeskSettings
from fallback.incidents import channels, lifecycle
from fallback.incidents.models import Incident
from fallback.monitor import editing, heartbeats
from fallback.monitor.models import (
    Check,
    CheckRollup,
    Criticality,
    Resolution,
    State,
    StateChange,
    System,
    SystemKind,
)
from fallback.plans.models import Plan
from fallback.replica import editing as replica_editing
from fallback.replica.models import Connector
from fallback.simulator.mailbox import DEFAULT_SMTP_PORT
from fallback.simulator.service import Credentials

if TYPE_CHECKING:
    from fallback.plans.seeds import Suggestion

DEMO_EMAIL = "demo@fallback.test"
LONDON = ZoneInfo("Europe/London")
DEFAULT_SIMULATOR_URL = "http://127.0.0.1:8081"
DEFAULT_SITE_URL = "http://127.0.0.1:8080"  # where `fallback demo` serves

BUSINESSES = [
    {
        "slug": "hartley-plumbing",
        "name": "Hartley & Sons Plumbing Supplies",
        "time_zone": "Europe/London",
        "currency": "GBP",
        "locale": "en-GB",
        "people": [
            ("margaret.hartley@hartley-plumbing.test", "Margaret Hartley", Role.OWNER),
            ("dev.patel@hartley-plumbing.test", "Dev Patel", Role.MANAGER),
            ("sian.evans@hartley-plumbing.test", "Siân Evans", Role.STAFF),
            ("tom.okafor@hartley-plumbing.test", "Tom Okafor", Role.STAFF),
            ("warehouse@hartley-plumbing.test", "Warehouse Desk", Role.VIEWER),
        ],
    },
    {
        "slug": "bluebell-florists",
        "name": "Bluebell Florists",
        "time_zone": "Europe/Dublin",
        "currency": "EUR",
        "locale": "en-IE",
        "people": [
            ("aoife.byrne@bluebell-florists.test", "Aoife Byrne", Role.OWNER),
            ("liam.walsh@bluebell-florists.test", "Liam Walsh", Role.STAFF),
        ],
    },
]


SIM_CREDENTIALS = Credentials()


@transaction.atomic
def build_demo(
    password: str,
    simulator_url: str = DEFAULT_SIMULATOR_URL,
    site_url: str = DEFAULT_SITE_URL,
    smtp_port: int = DEFAULT_SMTP_PORT,
) -> User:
    with acting_as(None, "cli"):
        user = User.objects.filter(email=DEMO_EMAIL).first()
        if user is None:
            user = User.objects.create_user(
                DEMO_EMAIL, password, first_name="Jo", last_name="Demo (bookkeeper)"
            )
        else:
            user.set_password(password)
            user.save(update_fields=["password"])
        if not user.is_superuser:  # the demo's administrator: it sees Backups too
            user.is_superuser = user.is_staff = True
            user.save(update_fields=["is_superuser", "is_staff"])
        for spec in BUSINESSES:
            org = Organisation.objects.filter(slug=spec["slug"]).first()
            if org is None:
                org = create_organisation(str(spec["name"]), slug=str(spec["slug"]))
                update_organisation(
                    org,
                    time_zone=str(spec["time_zone"]),
                    currency=str(spec["currency"]),
                    locale=str(spec["locale"]),
                )
            if not Membership.objects.filter(org=org, user=user).exists():
                add_member(org, DEMO_EMAIL, Role.OWNER)
            for email, name, role in spec["people"]:
                if not Membership.objects.filter(org=org, user__email=email).exists():
                    add_member(org, email, role, name=name)
        hartley = Organisation.objects.get(slug="hartley-plumbing")
        bluebell = Organisation.objects.get(slug="bluebell-florists")
        if not System.objects.filter(org=hartley).exists():
            build_monitoring(hartley, simulator_url, timezone.now())
        if not System.objects.filter(org=bluebell).exists():
            build_shop(bluebell, simulator_url)
        if not Connector.objects.filter(org__in=[hartley, bluebell]).exists():
            build_replica(hartley, bluebell, simulator_url)
        if not DeskSettings.objects.filter(org__in=[hartley, bluebell]).exists():
            build_desk(hartley, bluebell)
        if not Plan.objects.filter(org__in=[hartley, bluebell]).exists():
            build_plans(hartley, bluebell)
        if not StatusPage.objects.filter(org__in=[hartley, bluebell]).exists():
            build_comms(hartley, bluebell, site_url, smtp_port)
    return user


# Telling people: a backup mail account on the simulator's SMTP sink (127.0.0.1:1025, no
# security; what it receives shows on the simulator's /mail page, where a subscriber's
# confirmation link can be clicked), the routes customers can use while the usual ones are
# down, and a status page published into the demo's data folder (status/<slug>/index.html),
# served by Fallback itself at /status/<slug>/.


def build_comms(
    hartley: Organisation,
    bluebell: Organisation,
    site_url: str,
    smtp_port: int = DEFAULT_SMTP_PORT,
) -> None:
    from django.conf import settings

    from fallback.comms import preferences, statuspage

    home = Path(settings.FALLBACK_HOME)
    for org, routes, shown in (
        (
            hartley,
            {
                "from_address": "notices@hartley-backup.test",
                "reply_to": "help@hartley-backup.test",
                "phone_numbers": "01632 960123\n07700 900123",
                "backup_email": "help@hartley-backup.test",
                "usual_email": "orders@hartley-plumbing.test",
                "usual_phone": "01632 960000",
                "drill_recipients": "margaret.hartley@hartley-plumbing.test",
            },
            [("cloudcrm", "Orders and customer accounts"), ("xero", "Invoices and statements")],
        ),
        (
            bluebell,
            {
                "from_address": "notices@bluebell-backup.test",
                "phone_numbers": "01 555 0142",
                "backup_email": "bluebellflorists@backup-mail.test",
                "usual_email": "hello@bluebell.test",
                "drill_recipients": "aoife.byrne@bluebell-florists.test",
            },
            [("web-shop", "Online shop")],
        ),
    ):
        preferences.update_settings(
            org,
            smtp_host="127.0.0.1",
            smtp_port=smtp_port,
            smtp_security="none",
            from_name=org.name[:120],
            status_url=f"{site_url}/status/{org.slug}/",
            **cast(dict[str, Any], routes),
        )
        statuspage.update_page(
            org,
            public_url=f"{site_url}/status/{org.slug}/",
            fallback_url=site_url,
            folder_path=str(home / "status" / org.slug),
        )
        systems = {s.slug: s for s in System.objects.filter(org=org)}
        statuspage.save_components(
            org, [(systems[slug], name, "") for slug, name in shown if slug in systems]
        )


# The continuity plan: both businesses have started theirs (Fallback's suggestions). Hartley's
# is complete — what matters confirmed with its impact, the risks and scenarios confirmed,
# the contacts added, the incident lead's stand-in named — so its binder shows every section;
# Bluebell's is a fresh start, so a newcomer sees the guide at work.


def build_plans(hartley: Organisation, bluebell: Organisation) -> None:
    from fallback.plans import editing as plan_editing
    from fallback.plans import seeds
    from fallback.plans.models import Band, ContactKind, ScenarioKind

    margaret = User.objects.get(email="margaret.hartley@hartley-plumbing.test")
    dev = User.objects.get(email="dev.patel@hartley-plumbing.test")
    aoife = User.objects.get(email="aoife.byrne@bluebell-florists.test")
    plan_editing.start(bluebell, aoife)
    plan = plan_editing.start(hartley, margaret)
    orders = plan.activities.filter(name="Taking orders").first()
    if orders is not None:
        plan_editing.save_activity(
            plan,
            orders,
            owner=margaret,
            rpo_minutes=15,  # stricter than the replica's own 30 min: the plan's RPO is fed to it
            impacts={
                Band.HOURS_1_8: plan_editing.ImpactInput(money=1500, customers=20),
                Band.HOURS_8_24: plan_editing.ImpactInput(money=4000, customers=60),
                Band.DAYS_1_3: plan_editing.ImpactInput(money=15000, customers=200),
            },
        )
    # The rest of what matters, confirmed with an owner and a first estimate of the impact.
    for i, activity in enumerate(plan.activities.filter(suggested=True), start=1):
        plan_editing.save_activity(
            plan,
            activity,
            owner=dev if i % 2 else margaret,
            impacts={
                Band.HOURS_8_24: plan_editing.ImpactInput(money=500 * i, customers=5 * i),
                Band.DAYS_1_3: plan_editing.ImpactInput(money=2000 * i, customers=20 * i),
            },
        )
    for risk in plan.risks.filter(suggested=True):
        plan_editing.confirm(risk)
    # The scenarios as suggested; "a system is lost" covers every system the work uses.
    used = {system for a in plan.activities.all() for system in a.systems.all()}
    for scenario in plan.scenarios.filter(suggested=True):
        if scenario.kind == ScenarioKind.SYSTEM_LOST:
            plan_editing.save_scenario(plan, scenario, systems=sorted(used, key=lambda x: x.pk))
        else:
            plan_editing.confirm(scenario)
    lead = plan.roles.filter(is_incident_lead=True).first()
    if lead is not None:
        plan_editing.save_role(plan, lead, holder=margaret, alternates=[dev])
    plan_editing.add_suggested(plan, seeds.suggestions(plan) + _simulated_contacts())
    # The staff were checked when they were added; the vendors' lines are left to check, so
    # the dashboard shows a part due for a check.
    plan_editing.verify_contacts(plan, list(plan.contacts.filter(kind=ContactKind.STAFF)), margaret)
    plan_editing.set_statements(
        plan,
        "Trading from the Leeds warehouse and trade counter: orders, invoicing and dispatch "
        "on CloudCRM and Xero. The website is out of scope.",
        "Hartley & Sons keeps this plan so that customers can still order and be served when "
        "a system or the warehouse is out. It is reviewed every year and after every outage "
        "or drill, and drilled at least once a year. Margaret Hartley answers for it.",
    )


def _simulated_contacts() -> list[Suggestion]:
    """Hartley's busiest customers and first suppliers, as its replica will hold them.

    The plan is built before the first sync, when the replica is still empty; the simulated
    cloud's business is computed from its seed, so its records are known now (the same keys
    the sync brings in), and the plan is complete once they arrive.
    """
    from fallback.plans.models import ContactKind
    from fallback.plans.seeds import Suggestion
    from fallback.simulator.business import DEFAULT_CUSTOMERS, Business, Customer, Supplier

    business = Business(customers=DEFAULT_CUSTOMERS)
    customers = sorted(
        (business.customer(i) for i in range(business.customers)),
        key=lambda c: (-c.orders_count, c.id),
    )[:3]
    suppliers = [business.supplier(i) for i in range(2)]
    parties: list[tuple[str, Customer | Supplier, str, str]] = [
        *((ContactKind.KEY_CUSTOMER, c, "busiest customer", "") for c in customers),
        *((ContactKind.SUPPLIER, s, "supplier", s.account_number) for s in suppliers),
    ]
    found = []
    for kind, party, why, account in parties:
        fields = {
            "phones": party.phone,
            "email": party.email,
            "organisation": "",
            "replica_key": str(party.id),
            "account_number": account,
            "notes": f"Contact: {party.first_name} {party.last_name}",
        }
        found.append(Suggestion(f"{kind}:r:{party.id}", kind, party.company, why, fields))
    return found


# The desk: letterheads, what switches fallback mode on, and prefixes the main systems never
# use. Declaring the CloudCRM outage (or "Take it down" on its page) puts Hartley's desk in
# fallback mode.


def build_desk(hartley: Organisation, bluebell: Organisation) -> None:
    desk = DeskSettings.objects.create(
        org=hartley,
        number_prefix="HS",
        tax_name="VAT",
        tax_rate=Decimal("20"),
        letterhead_name="Hartley & Sons Plumbing Supplies Ltd",
        letterhead_address="Unit 4, Canal Wharf\nLeeds LS11 5PS",
        letterhead_phone="0113 496 0123",
        letterhead_email="orders@hartley-plumbing.test",
        letterhead_tax_number="GB 123 4567 89",
        footer="Registered in England No. 01234567. Payment by bank transfer: "
        "Hartley & Sons, sort code 00-00-00, account 12345678.",
    )
    desk.covered_systems.set(System.objects.filter(org=hartley, slug__in=["cloudcrm", "xero"]))
    shop = DeskSettings.objects.create(
        org=bluebell,
        number_prefix="BB",
        tax_rate=Decimal("20"),
        prices_include_tax=True,
        letterhead_name="Bluebell Florists",
        letterhead_address="12 Market Street\nYork YO1 8SS",
        letterhead_phone="01904 496 000",
        letterhead_email="hello@bluebell.test",
    )
    shop.covered_systems.set(System.objects.filter(org=bluebell, slug="web-shop"))


# The replica: the simulated cloud speaks three dialects; each business copies its records
# from it. Syncs come every 5 minutes (the worker starts the first within seconds).

DEMO_SYNC = {"interval_minutes": 5, "rpo_minutes": 30}


def build_replica(hartley: Organisation, bluebell: Organisation, sim: str) -> None:
    crm = System.objects.get(org=hartley, slug="cloudcrm")
    books = System.objects.get(org=hartley, slug="xero")
    shop = System.objects.get(org=bluebell, slug="web-shop")
    replica_editing.create_connector(
        hartley,
        name="CloudCRM records",
        slug="cloudcrm",
        kind="hubspot",
        config={"base_url": f"{sim}/hubspot/"},
        secrets={"token": SIM_CREDENTIALS.hubspot_token},
        system=crm,
        **DEMO_SYNC,
    )
    replica_editing.create_connector(
        hartley,
        name="Accounts (QuickBooks-style)",
        slug="accounts",
        kind="quickbooks",
        config={
            "base_url": f"{sim}/quickbooks/",
            "realm_id": "9130350000000001",
            "client_id": SIM_CREDENTIALS.quickbooks_client_id,
            "token_url": f"{sim}/quickbooks/oauth2/v1/tokens/bearer",
        },
        secrets={
            "client_secret": SIM_CREDENTIALS.quickbooks_client_secret,
            "refresh_token": SIM_CREDENTIALS.quickbooks_refresh_token,
        },
        system=books,
        **DEMO_SYNC,
    )
    replica_editing.create_connector(
        bluebell,
        name="Web shop records",
        slug="web-shop",
        kind="shopify",
        config={"base_url": f"{sim}/shopify/admin/api/2024-10/"},
        secrets={"token": SIM_CREDENTIALS.shopify_token},
        system=shop,
        **DEMO_SYNC,
    )


# Systems, checks, alerts and incident history, watching the simulated cloud service
# (fallback.simulator) on loopback: the demo works with no internet at all. Intervals are
# short and the trigger is 2 minutes, so a newcomer who takes the service down sees it go
# down within a minute and an outage declared two minutes later.

QUICK = {"interval_seconds": 10, "timeout_seconds": 5.0, "retries": 1, "retry_delay_seconds": 2.0}


def build_monitoring(org: Organisation, sim: str, now: datetime) -> None:
    dev = User.objects.get(email="dev.patel@hartley-plumbing.test")
    margaret = User.objects.get(email="margaret.hartley@hartley-plumbing.test")
    crm = editing.create_system(
        org,
        name="CloudCRM",
        slug="cloudcrm",
        kind=SystemKind.CRM,
        criticality=Criticality.CRITICAL,
        vendor="CloudCRM Ltd (simulated)",
        vendor_contacts="Support: 0800 000 4242 (24 h)\nsupport@cloudcrm.test",
        account_number="HSP-20331",
        sla_percent=Decimal("99.9"),
        credit_terms="10% of the monthly fee when availability is below 99.9% in a month, "
        "25% below 99%; claimed within 30 days.",
        credit_tiers="99.9:10, 99:25",
        monthly_fee=Decimal("249.00"),
        status_page_url=f"{sim}/status",
        notes="Customers, quotes and orders. Everything stops without it.",
        trigger_minutes=2,
    )
    xero = editing.create_system(
        org,
        name="Xero",
        slug="xero",
        kind=SystemKind.ACCOUNTING,
        criticality=Criticality.HIGH,
        vendor="Xero (simulated)",
        vendor_contacts="Support: 0800 000 7781\nsupport@xero.test",
        account_number="HART-7781",
        sla_percent=Decimal("99.9"),
        credit_terms="Service credit of 10% of the monthly fee when availability is "
        "below 99.9% in a month.",
        credit_tiers="99.9:10",
        monthly_fee=Decimal("59.00"),
    )
    link = editing.create_system(
        org,
        name="Office internet",
        slug="office-internet",
        kind=SystemKind.INTERNET,
        criticality=Criticality.CRITICAL,
        vendor="Local broadband (simulated)",
        vendor_contacts="Faults: 0800 000 2020 (24 h)",
        notes="The canaries here point at the simulator. A real installation points them at "
        "neutral public targets, e.g. the recommended public DNS resolvers.",
    )
    backup = editing.create_system(
        org,
        name="Nightly backup",
        slug="nightly-backup",
        kind=SystemKind.OTHER,
        criticality=Criticality.MEDIUM,
        notes="The backup script on the office server pings its heartbeat after each run.",
    )
    for system, days in ((crm, 120), (xero, 120), (link, 120), (backup, 30)):
        System.objects.filter(pk=system.pk).update(created_at=now - timedelta(days=days))
        system.refresh_from_db()
    _history(crm, xero, dev, margaret, now)
    health = editing.create_check(
        crm,
        name="Health endpoint",
        kind="http",
        config={"url": f"{sim}/health", "max_response_ms": 1500},
        **QUICK,
    )
    editing.create_check(
        crm,
        name="Login page",
        kind="http",
        config={"url": f"{sim}/login", "keyword": "Sign in to CloudCRM"},
        **{**QUICK, "interval_seconds": 15},
    )
    editing.create_check(
        crm,
        name="Vendor status page",
        kind="statuspage",
        config={"url": f"{sim}/status", "component": "CRM API"},
        **{**QUICK, "interval_seconds": 15},
    )
    editing.create_check(
        xero,
        name="API health",
        kind="http",
        config={"url": f"{sim}/vendors/xero/health"},
        interval_seconds=30,
    )
    for n, name in enumerate(("one", "two"), start=1):
        editing.create_check(
            link,
            name=f"Canary {n}",
            kind="http",
            config={"url": f"{sim}/canary/{name}"},
            is_canary=True,
            **{**QUICK, "interval_seconds": 15},
        )
    beat = editing.create_check(
        backup,
        name="Backup finished",
        kind="heartbeat",
        config={"period_seconds": 86400, "grace_seconds": 3600},
    )
    # Last night's and the night before's runs pinged (the way a script does).
    for hours in (29, 5):
        heartbeats.record_ping(str(beat.push_token), now - timedelta(hours=hours))
    _response_times(health, now)
    editing.add_maintenance(
        org,
        xero,
        title="Xero's monthly maintenance",
        weekdays="7",
        start_time=time(2, 0),
        duration_minutes=60,
        time_zone=org.time_zone,
    )
    # Channels last: the history above must not send alerts when the demo starts.
    channels.create_channel(
        org,
        name="Demo alerts page",
        url=sim.replace("http://", "json://", 1) + "/alerts",
        remind_every_minutes=10,
    )


def build_shop(org: Organisation, sim: str) -> None:
    shop = editing.create_system(
        org,
        name="Web shop",
        slug="web-shop",
        kind=SystemKind.ECOMMERCE,
        criticality=Criticality.CRITICAL,
        vendor="Shopwise (simulated)",
    )
    editing.create_check(
        shop,
        name="Shop health",
        kind="http",
        config={"url": f"{sim}/vendors/shop/health"},
        interval_seconds=30,
    )


def _at(now: datetime, months_back: int, day: int, hour: int, minute: int) -> datetime:
    """A moment in an earlier month (London time), e.g. the 12th of last month at 09:14."""
    first = now.astimezone(LONDON).date().replace(day=1)
    for _ in range(months_back):
        first = (first - timedelta(days=1)).replace(day=1)
    local = datetime.combine(first.replace(day=day), time(hour, minute), tzinfo=LONDON)
    return local.astimezone(UTC)


def _change(system: System, at: datetime, to: str, reason: str = "") -> StateChange:
    change = StateChange.objects.create(
        org_id=system.org_id,
        system=system,
        at=at,
        from_state=system.state,
        to_state=to,
        reason=reason,
    )
    System.objects.filter(pk=system.pk).update(state=to, state_since=at, state_reason=reason)
    system.refresh_from_db()
    lifecycle.on_system_state_change(system, change)
    return change


def _history(crm: System, xero: System, dev: User, margaret: User, now: datetime) -> None:
    """Past outages, played through the incident lifecycle at the times they happened."""
    for system in (crm, xero):
        _change(system, system.created_at + timedelta(minutes=1), State.UP, "All checks up")
    # Two months ago: a drill.
    drill_at = _at(now, 2, 9, 10, 0)
    drill = lifecycle.declare_manually(
        crm.org,
        [crm],
        "Quarterly drill: CloudCRM unavailable for the morning",
        margaret,
        is_exercise=True,
        summary="Practise quoting and taking orders from the fallback desk.",
        now=drill_at,
    )
    lifecycle.add_note(
        drill,
        dev,
        "Took 14 phone orders from the price list copy; two needed a callback for stock.",
        now=drill_at + timedelta(minutes=95),
    )
    lifecycle.resolve(drill, margaret, now=drill_at + timedelta(hours=2), note="Drill over.")
    # Last month: Xero down most of a morning, declared, then resolved by Dev.
    down = _at(now, 1, 12, 9, 14)
    _change(xero, down, State.DOWN, "API health: HTTP 503 Service Unavailable")
    incident = Incident.objects.filter(org_id=xero.org_id, systems=xero).latest("opened_at")
    lifecycle.declare(incident, None, down + timedelta(minutes=30))
    lifecycle.add_note(
        incident,
        dev,
        "Called Xero support: a fault on their side, no time given yet. Invoices today are "
        "written from the desk with provisional numbers.",
        now=down + timedelta(minutes=41),
    )
    _change(xero, down + timedelta(minutes=207), State.UP, "All checks up")
    lifecycle.resolve(
        incident,
        dev,
        now=down + timedelta(minutes=240),
        note="Six provisional invoices re-entered in Xero.",
    )
    # Later last month, a short blip that never became an outage.
    blip = _at(now, 1, 24, 14, 2)
    _change(xero, blip, State.DOWN, "API health: timed out after 10 s")
    _change(xero, blip + timedelta(minutes=17), State.UP, "All checks up")
    # Earlier this week: CloudCRM slow for a while (degraded is not down).
    slow = now - timedelta(days=3, hours=2)
    _change(crm, slow, State.DEGRADED, "Health endpoint: answered in 2.4 s (limit 1.5 s)")
    _change(crm, slow + timedelta(minutes=35), State.UP, "All checks up")


def _response_times(check: Check, now: datetime) -> None:
    """A day of hourly response times, so the chart has a shape from the start."""
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    rows = []
    for n in range(1, 24):
        bucket = this_hour - timedelta(hours=n)
        busy = 9 <= bucket.astimezone(LONDON).hour <= 17
        # Loopback answers in milliseconds; busier office hours a little slower.
        average = 3.0 + (2.5 if busy else 0.0) + (n * 37 % 23) / 10
        rows.append(
            CheckRollup(
                org_id=check.org_id,
                for_check=check,
                resolution=Resolution.HOUR,
                bucket=bucket,
                up=360,
                timed=360,
                total_ms=average * 360,
                max_ms=average * 2.6,
            )
        )
    CheckRollup.objects.bulk_create(rows)
