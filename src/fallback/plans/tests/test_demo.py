"""The demo's plans: both businesses have started theirs, Hartley is further along, and the
binder of each can be made — so a newcomer sees the plan, readiness and the binder."""

from __future__ import annotations

import pytest

from fallback.demo import build_demo
from fallback.plans import binder, readiness, sections
from fallback.plans.models import Plan, PlanVersion
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


def test_the_demo_binder_is_made(sim):
    build_demo("a long demo password 1", sim.url)
    made = binder.render(Plan.objects.get(org__slug="hartley-plumbing"))
    assert made.pdf.startswith(b"%PDF") and made.pages > 10
