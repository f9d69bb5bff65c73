"""Post-incident reviews: started for a resolved real outage, filled in from what Fallback
recorded (its times, the monitor's downtime, the desk's documents, who was told), lessons
that become corrective actions, and completing it makes the whole plan due for a review."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from fallback.desk import documents, numbering
from fallback.desk.documents import DocumentInput
from fallback.desk.tests.conftest import put_records
from fallback.incidents import lifecycle
from fallback.monitor.models import State, StateChange
from fallback.plans import actions, editing, reviews, staleness
from fallback.plans.models import PostIncidentReview

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(world):
    return editing.start(world["acme"], world["ann"])


@pytest.fixture
def outage(world, plan):
    """CloudCRM was down two hours (from 3 hours ago); the outage was declared 10 minutes
    in; the desk made two documents; it is resolved."""
    acme, crm, ann = world["acme"], world["crm"], world["ann"]
    now = timezone.now()
    began = now - timedelta(hours=3)
    crm.created_at = now - timedelta(days=30)
    crm.save(update_fields=["created_at"])
    StateChange.objects.create(
        org=acme, system=crm, at=began, from_state=State.UP, to_state=State.DOWN
    )
    StateChange.objects.create(
        org=acme,
        system=crm,
        at=began + timedelta(hours=2),
        from_state=State.DOWN,
        to_state=State.UP,
    )
    incident = lifecycle.declare_manually(
        acme, [crm], "CloudCRM unreachable", ann, now=began + timedelta(minutes=10)
    )
    put_records(acme, "customer", [{"key": "C1", "name": "Smith & Co"}])
    put_records(acme, "product", [{"key": "P1", "name": "Pipe", "price": "1"}])
    device = numbering.register_device(acme, "Front desk")
    name, details = documents.party_details(acme, "customer", "C1")
    made = []
    for kind, key in [("order", "o1"), ("invoice", "i1")]:
        doc, _ = documents.create(
            acme,
            device,
            DocumentInput(
                kind=kind,
                party_key="C1",
                party_name=name,
                party_details=details,
                lines=[documents.product_line(acme, "P1", 1)],
            ),
            key,
            ann,
        )
        made.append(doc)
    from fallback.desk import reconciliation

    for doc in made:
        reconciliation.tick(doc, f"MAIN-{doc.pk}", ann)
    lifecycle.resolve(incident, ann, now=began + timedelta(hours=2, minutes=5))
    incident.refresh_from_db()
    return incident


def test_a_review_starts_filled_in_from_what_fallback_recorded(world, plan, outage):
    review = reviews.start(plan, outage, world["ann"])
    f = review.facts
    assert f["title"] == "CloudCRM unreachable"
    assert f["declared_minutes"] == 115  # declared 10 min in, resolved at 2 h 5 min
    assert f["systems"] == [
        {
            "name": "CloudCRM",
            "downtime_minutes": 120,  # the monitor's, from before the declaration
            "outages": 1,
            "first_down": f["systems"][0]["first_down"],
        }
    ]
    assert (f["documents_total"], f["documents"]) == (2, {"Invoice": 1, "Sales order": 1})
    assert [e["kind"] for e in f["timeline"]][:1] == ["Declared"]
    assert reviews.start(plan, outage, world["ann"]) == review  # one review per outage


def test_customers_told_are_counted_from_the_notices(world, plan, outage):
    comms = pytest.importorskip("fallback.comms.models")
    notice = comms.Notice.objects.create(
        org=world["acme"],
        incident=outage,
        audience="all_customers",
        phase="first_notice",
        subject="Down",
        status="sent",
        sent_at=outage.declared_at,
    )
    for address, state in [("a@x.test", "sent"), ("b@x.test", "sent"), ("c@x.test", "failed")]:
        comms.OutboxItem.objects.create(
            org=world["acme"],
            notice=notice,
            channel="email",
            address=address,
            recipient_key=f"customer:{address[0]}",
            body="Down",
            state=state,
        )
    comms.CallRecord.objects.create(
        org=world["acme"], notice=notice, customer_key="K1", outcome="spoke"
    )
    told = reviews.facts(outage)["told"]
    assert (told["customers"], told["messages"], told["calls"]) == (3, 2, 1)
    assert told["notices"][0]["failed"] == 1


def test_compensation_given_and_sla_credit_claimed_are_in_the_facts(world, plan, outage):
    from fallback.comms import compensation
    from fallback.comms.models import Compensation
    from fallback.monitor import sla_claims

    offer = compensation.save_offer(outage, "text", "a free month of support")
    Compensation.objects.create(
        org=world["acme"], offer=offer, incident=outage, customer_key="C1", customer_name="Smith"
    )
    claim, _ = sla_claims.create(world["crm"], outage.opened_at.date(), outage)
    sla_claims.mark_sent(claim)
    sla_claims.answer(claim, "credited", amount="12.50")
    f = reviews.facts(outage)
    assert f["compensation"] == {"offer": "a free month of support", "given": 1, "redeemed": 0}
    assert f["sla_claims"] == [
        {
            "reference": claim.reference,
            "system": "CloudCRM",
            "status": "Credited",
            "credited_amount": "12.50",
        }
    ]


def test_only_a_resolved_real_outage_is_reviewed(world, plan):
    open_one = lifecycle.declare_manually(world["acme"], [world["crm"]], "Down", world["ann"])
    with pytest.raises(reviews.ReviewError, match="Resolve the incident first"):
        reviews.start(plan, open_one, world["ann"])
    drill = lifecycle.declare_manually(world["acme"], [], "A drill", world["ann"], is_exercise=True)
    lifecycle.resolve(drill, world["ann"])
    with pytest.raises(reviews.ReviewError, match="drill"):
        reviews.start(plan, drill, world["ann"])
    theirs = lifecycle.declare_manually(world["bravo"], [], "Theirs", world["bob"])
    with pytest.raises(reviews.ReviewError):
        reviews.start(plan, theirs, world["ann"])
    assert not PostIncidentReview.objects.exists()


def test_the_outages_to_review_leave_the_list_once_reviewed(world, plan, outage):
    assert reviews.reviewable(plan) == [outage]
    review = reviews.start(plan, outage, world["ann"])
    assert reviews.reviewable(plan) == [outage]  # started, not completed
    reviews.save(review, went_well="The desk", went_badly="", lessons="Print the binder")
    assert reviews.complete(review, world["ann"])
    assert not reviews.complete(review, world["ann"])
    assert reviews.reviewable(plan) == []


def test_completing_needs_something_written_and_makes_the_plan_due(world, plan, outage):
    editing.mark_reviewed(plan, world["ann"])  # after the outage: not due for it any more
    assert not next(p for p in staleness.parts(plan) if p.key == "plan").stale
    review = reviews.start(plan, outage, world["ann"])
    with pytest.raises(editing.PlanInvalid):
        reviews.complete(review, world["ann"])
    reviews.save(review, went_well="", went_badly="Nobody had the vendor's number", lessons="")
    reviews.complete(review, world["ann"])
    part = next(p for p in staleness.parts(plan) if p.key == "plan")
    assert part.stale
    assert part.why == "not reviewed since the review of the outage “CloudCRM unreachable”"
    assert part.period == f"review:{review.pk}"


def test_lessons_become_actions_and_facts_are_kept_once_completed(world, plan, outage):
    review = reviews.start(plan, outage, world["ann"])
    item = actions.add(plan, finding="No vendor number", review=review, owner=world["mo"])
    assert item.source == "Review: CloudCRM unreachable"
    reviews.refresh_facts(review)
    reviews.save(review, went_well="x", went_badly="", lessons="")
    reviews.complete(review, world["ann"])
    with pytest.raises(reviews.ReviewError):
        reviews.refresh_facts(review)
    with pytest.raises(editing.PlanInvalid):
        reviews.save(review, went_well="x" * 20_001, went_badly="", lessons="")
