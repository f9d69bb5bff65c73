"""The demo's plans: both businesses have started theirs, Hartley is further along, and the
binder of each can be made — so a newcomer sees the plan, readiness and the binder."""

from __future__ import annotations

import pytest

from fallback.demo import build_demo
from fallback.plans import binder, readiness, sections
from fallback.plans.models import Plan, PlanVersion
from fallback.plans.tests.test_binder import needs_poppler, page_with, pdf_text
from fallback.replica import history, sync
from fallback.replica.models import Connector
from fallback.simulator.runner import Simulator

pytestmark = pytest.mark.django_db


@pytest.fixture
def sim(tmp_path):
    simulator = Simulator("127.0.0.1", 0, home=tmp_path).start()
    yield simulator
    simulator.stop()


def test_the_demo_businesses_have_started_plans(sim):
    build_demo("a long demo password 1", sim.url)
    hartley = Plan.objects.get(org__slug="hartley-plumbing")
    bluebell = Plan.objects.get(org__slug="bluebell-florists")
    assert hartley.owner.email == "margaret.hartley@hartley-plumbing.test"
    assert bluebell.owner.email == "aoife.byrne@bluebell-florists.test"
    assert sections.progress(sections.sections(hartley)) > sections.progress(
        sections.sections(bluebell)
    )
    assert hartley.contacts.filter(kind="staff").count() >= 4
    assert hartley.scope and hartley.policy
    assert readiness.readiness(hartley.org).checks[2].fraction > 0
    assert binder.inputs(hartley).plan_version == hartley.versions.count()
    versions = PlanVersion.objects.count()
    build_demo("a long demo password 1", sim.url)  # again: nothing changes
    assert PlanVersion.objects.count() == versions


@pytest.mark.django_db(transaction=True)  # a sync commits in stages
def test_the_sample_plan_is_complete_once_the_replica_is_copied(sim):
    build_demo("a long demo password 1", sim.url)
    plan = Plan.objects.get(org__slug="hartley-plumbing")
    assert _missing(plan) == {}
    # The replica's customers and suppliers ask for key customers and suppliers in the
    # contact tree: the demo's are those the simulated cloud's sync brings in.
    for connector in Connector.objects.filter(org=plan.org):
        assert sync.run(connector).status == "applied"
    assert _missing(plan) == {}
    keys = set(plan.contacts.filter(kind="key_customer").values_list("replica_key", flat=True))
    assert len(keys) == 3
    assert history.current(plan.org, "customer").filter(key__in=keys).count() >= 3


def _missing(plan: Plan) -> dict[str, list[str]]:
    found = sections.sections(plan)
    return {s.key: [m.text for m in s.missing] for s in found if not s.complete}


@needs_poppler
def test_the_demo_binder_shows_every_section(sim, tmp_path):
    build_demo("a long demo password 1", sim.url)
    made = binder.render(Plan.objects.get(org__slug="hartley-plumbing"))
    assert made.pdf.startswith(b"%PDF") and made.pages > 10
    pages = pdf_text(made.pdf, tmp_path)
    headings = [
        "Roles and the contact tree",
        "Scenarios and procedures",
        "What matters",
        "Risks",
        "Notice scripts",
        "PRICE LIST",
        "WORK LOG",
    ]
    where = [page_with(pages, h) for h in headings]
    assert where == sorted(where)
    text = "\n".join(pages)
    for shown in [
        "Margaret Hartley",  # the incident lead
        "0800 000 4242",  # CloudCRM's support line
        "The internet or phone line is down",
        "Invoicing",
        "Scope",
    ]:
        assert shown in text, shown
