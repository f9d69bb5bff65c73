"""The templates every organisation starts with: short, honest, British English, one
apology each, and an alternate route in every Solve. Seeded per organisation on first use;
the organisation edits its own copies.

Words in [square brackets] are for the person sending to replace with what only they
know (the checker will not let them go out as they are).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from fallback.accounts.models import Organisation
from fallback.comms.models import MessageTemplate, Phase


@dataclass(frozen=True)
class Words:
    subject: str
    notify: str
    explain: str
    solve: str
    predict: str
    apologise: str


NEXT = "Expected back: {{ expected_return }}. Next update by {{ next_update_by }}, even if nothing has changed."  # noqa: E501

CUSTOMERS: dict[str, Words] = {
    Phase.FIRST_NOTICE: Words(
        subject="{{ business }}: {{ systems }} is down — how to reach us now",
        notify="Dear {{ customer_name }},\n\nSince {{ since }}, {{ systems }} at {{ business }} has not been working, and it affects our service to you.",  # noqa: E501
        explain="The fault is at a provider we rely on, not in your account; we are working with them on it.",  # noqa: E501
        solve="Your orders still stand. To reach us now, {{ alternate_routes }}.",
        predict=NEXT,
        apologise="We are sorry for the trouble this causes you.",
    ),
    Phase.UPDATE: Words(
        subject="Update from {{ business }}: {{ systems }} is still down",
        notify="Dear {{ customer_name }},\n\nAn update on the problem with {{ systems }} that began at {{ since }}: it is not fixed yet.",  # noqa: E501
        explain="[What has changed since our last message, in a sentence or two.]",
        solve="We are still taking orders and answering questions. To reach us now, {{ alternate_routes }}.",  # noqa: E501
        predict=NEXT,
        apologise="We are sorry it is taking this long.",
    ),
    Phase.RESOLVED: Words(
        subject="{{ business }}: {{ systems }} is working again",
        notify="Dear {{ customer_name }},\n\n{{ systems }} is working again, and our service to you is back to normal.",  # noqa: E501
        explain="It was down from {{ since }}, because of a fault at a provider we rely on.",
        solve="If anything from the outage still looks wrong, contact us as usual or {{ alternate_routes }}.",  # noqa: E501
        predict="We are checking every order placed during the outage and will tell you if yours needs anything.",  # noqa: E501
        apologise="Thank you for your patience, and sorry for the disruption.",
    ),
    Phase.FOLLOW_UP: Words(
        subject="{{ business }}: what happened to {{ systems }}, and what we are changing",
        notify="Dear {{ customer_name }},\n\nWe promised to follow up on the outage of {{ systems }} that began at {{ since }}.",  # noqa: E501
        explain="What happened: [the cause, in plain words].",
        solve="If the outage cost you anything, reply to this email or {{ alternate_routes }}, and we will put it right.",  # noqa: E501
        predict="What we are changing so it does not happen again: [the change].",
        apologise="We are sorry for the disruption it caused you.",
    ),
}

SUPPLIERS: dict[str, Words] = {
    Phase.FIRST_NOTICE: Words(
        subject="{{ business }}: {{ systems }} is down — orders may come by phone or paper",
        notify="Dear {{ customer_name }},\n\nSince {{ since }}, {{ systems }} at {{ business }} has not been working.",  # noqa: E501
        explain="The fault is at a provider we rely on. Our orders and payments may be late, or come by phone or on paper.",  # noqa: E501
        solve="Please keep supplying as agreed; we will confirm paper orders afterwards. To reach us now, {{ alternate_routes }}.",  # noqa: E501
        predict=NEXT,
        apologise="Sorry for the inconvenience.",
    ),
    Phase.UPDATE: Words(
        subject="Update from {{ business }}: {{ systems }} is still down",
        notify="Dear {{ customer_name }},\n\nAn update on the problem with {{ systems }} that began at {{ since }}: it is not fixed yet.",  # noqa: E501
        explain="[What has changed since our last message, in a sentence or two.]",
        solve="Please keep supplying as agreed. To reach us now, {{ alternate_routes }}.",
        predict=NEXT,
        apologise="Sorry it is taking this long.",
    ),
    Phase.RESOLVED: Words(
        subject="{{ business }}: {{ systems }} is working again",
        notify="Dear {{ customer_name }},\n\n{{ systems }} is working again.",
        explain="It was down from {{ since }}, because of a fault at a provider we rely on.",
        solve="We are entering the orders and payments of the outage now. If anything does not match your records, contact us as usual or {{ alternate_routes }}.",  # noqa: E501
        predict="We will confirm every provisional purchase order with its final number within the next few days.",  # noqa: E501
        apologise="Thank you for your patience, and sorry for the inconvenience.",
    ),
    Phase.FOLLOW_UP: Words(
        subject="{{ business }}: what happened to {{ systems }}",
        notify="Dear {{ customer_name }},\n\nA short follow-up on the outage of {{ systems }} that began at {{ since }}.",  # noqa: E501
        explain="What happened: [the cause, in plain words].",
        solve="If anything from that time is still open with you, {{ alternate_routes }}.",
        predict="What we are changing so it does not happen again: [the change].",
        apologise="Sorry for the inconvenience it caused.",
    ),
}

STAFF: dict[str, Words] = {
    Phase.FIRST_NOTICE: Words(
        subject="{{ systems }} is down: we are in fallback mode",
        notify="Hello {{ customer_name }},\n\n{{ systems }} has been down since {{ since }}.",
        explain="The outage is declared: we are in fallback mode until it is back.",
        solve="Work from the fallback desk: customers, prices and open orders are there. Follow the plan. Customers are told to {{ alternate_routes }}.",  # noqa: E501
        predict=NEXT,
        apologise="Sorry for the extra work this brings.",
    ),
    Phase.UPDATE: Words(
        subject="Update: {{ systems }} is still down",
        notify="Hello {{ customer_name }},\n\n{{ systems }} is still down (since {{ since }}).",
        explain="[What has changed since the last update.]",
        solve="Keep working from the fallback desk. Customers are being told to {{ alternate_routes }}.",  # noqa: E501
        predict=NEXT,
        apologise="Sorry it is dragging on; thank you for keeping things going.",
    ),
    Phase.RESOLVED: Words(
        subject="{{ systems }} is back: the way back starts now",
        notify="Hello {{ customer_name }},\n\n{{ systems }} is working again.",
        explain="It was down from {{ since }}.",
        solve="Open the desk's way-back list and enter each document made during the outage in the main system, ticking it off with its final number.",  # noqa: E501
        predict="Once every document is ticked off, the incident will be resolved and the desk leaves fallback mode.",  # noqa: E501
        apologise="Sorry for the extra work, and thank you.",
    ),
    Phase.FOLLOW_UP: Words(
        subject="Looking back at the outage of {{ systems }}",
        notify="Hello {{ customer_name }},\n\nA short look back at the outage of {{ systems }} that began at {{ since }}.",  # noqa: E501
        explain="What happened: [the cause, in plain words].",
        solve="If anything from that time is still open, tell the office manager.",
        predict="What we are changing: [the change].",
        apologise="Sorry again for the disruption.",
    ),
}

WORDINGS: dict[str, dict[str, Words]] = {
    "customers": CUSTOMERS,
    "suppliers": SUPPLIERS,
    "staff": STAFF,
}


def words_for(wording: str, phase: str) -> Words:
    return WORDINGS.get(wording, CUSTOMERS)[phase]


def template_for(org: Organisation, audience: str, phase: str) -> MessageTemplate:
    """The organisation's template for this audience and phase, made from the defaults the
    first time it is asked for."""
    from fallback.comms.audiences import kind

    found = MessageTemplate.objects.filter(org=org, audience=audience, phase=phase).first()
    if found is not None:
        return found
    words = words_for(kind(audience).wording, phase)
    try:
        with transaction.atomic():
            return MessageTemplate.objects.create(
                org=org,
                audience=audience,
                phase=phase,
                subject=words.subject,
                notify=words.notify,
                explain=words.explain,
                solve=words.solve,
                predict=words.predict,
                apologise=words.apologise,
                updated_at=timezone.now(),
            )
    except IntegrityError:  # made by someone else a moment ago
        return MessageTemplate.objects.get(org=org, audience=audience, phase=phase)


def seed(org: Organisation) -> list[MessageTemplate]:
    """Every template of every audience and phase (made where missing)."""
    from fallback.comms.audiences import registered

    # Status page subscribers get the words staff post, not templates.
    return [
        template_for(org, k.key, phase) for k in registered() if k.listed for phase in Phase.values
    ]
