"""People who subscribed to the status page: double opt-in, their choice of systems, one-click
unsubscribe, and the email of every status update — through the outbox, so each update
reaches each subscriber at most once, with retries and the stall alarm.

Double opt-in: `subscribe` records the request and makes a confirmation email due; a worker
(`send_confirmations`, claimed from the database like the outbox) sends it through the
organisation's backup mail account. Nothing else is sent until its link is followed. The
link carries a signed token naming the organisation, the subscriber, the address and the
systems chosen, so the choice made on the form is the one confirmed — nobody can change
another person's subscription without their mailbox. Unsubscribe links (in every email, and
as List-Unsubscribe) are signed the same way and never expire.

The subscribe form is public, so it is throttled: a few requests per address of the asker
per quarter hour, and one confirmation email per subscriber per quarter hour.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from fallback.accounts.models import Organisation
from fallback.audit.trail import record
from fallback.comms import audiences, mail, outbox, preferences
from fallback.comms.audiences import Person, Target
from fallback.comms.models import (
    ChannelKind,
    CommsSettings,
    ItemState,
    Notice,
    NoticeStatus,
    OutboxItem,
    Phase,
    PublicStatus,
    StatusComponent,
    StatusPage,
    StatusUpdate,
    Subscriber,
)
from fallback.monitor.models import System
from fallback.runtime import schedulers

log = logging.getLogger("fallback.comms")

AUDIENCE = "subscribers"
SALT = "fallback.comms.subscriber"
CONFIRM_DAYS = 7
THROTTLE_WINDOW = timedelta(minutes=15)
REQUESTS_PER_ASKER = 5
CONFIRM_LEASE = timedelta(minutes=2)
CONFIRM_ATTEMPTS = 6
SEND_EVERY = 5.0  # seconds between looks for due confirmation emails


class SubscribeProblem(Exception):
    """Bad input on the subscribe form; `errors` are (field, message) pairs."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{f}: {m}" for f, m in errors))
        self.errors = errors


class Throttled(Exception):
    """Too many requests from one asker: try again later."""


class BadLink(Exception):
    """A confirm or unsubscribe link that is not ours, altered, or expired."""


# ------------------------------------------------------------------ links


def _token(sub: Subscriber, action: str, choice: Sequence[int] | None = None) -> str:
    data: dict[str, Any] = {"o": sub.org_id, "s": sub.pk, "e": sub.email, "a": action}
    if action == "confirm":
        data["c"] = "all" if choice is None else sorted(choice)
    return signing.dumps(data, salt=SALT, compress=True)


def _read(org: Organisation, token: str, action: str, max_age: timedelta | None) -> dict[str, Any]:
    try:
        data = signing.loads(token, salt=SALT, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise BadLink(
            "This link is too old. Subscribe again to get a new one."
            if action == "confirm"
            else "This link is too old."
        ) from exc
    except signing.BadSignature as exc:
        raise BadLink("This link is not valid (it may have been cut short).") from exc
    if not isinstance(data, dict) or data.get("o") != org.pk or data.get("a") != action:
        raise BadLink("This link is not valid for this page.")
    return data


def _base(sub: Subscriber, page: StatusPage | None = None) -> str:
    from fallback.comms.statuspage import page_for

    return ((page or page_for(sub.org)).fallback_url or sub.links_base).rstrip("/")


def confirm_url(sub: Subscriber, choice: Sequence[int] | None) -> str:
    return f"{_base(sub)}/status/{sub.org.slug}/confirm/{_token(sub, 'confirm', choice)}/"


def unsubscribe_url(sub: Subscriber, page: StatusPage | None = None) -> str:
    """`page`: the organisation's status page when the caller has it (one query fewer)."""
    return f"{_base(sub, page)}/status/{sub.org.slug}/unsubscribe/{_token(sub, 'unsubscribe')}/"


# ------------------------------------------------------------------ subscribing


def choosable(org: Organisation) -> list[System]:
    """The systems a subscriber may choose: those the page shows."""
    return [c.system for c in StatusComponent.objects.filter(org=org).select_related("system")]


@dataclass(frozen=True)
class Requested:
    subscriber: Subscriber
    email_due: bool  # a confirmation email will go (not within the throttle window)


def subscribe(
    org: Organisation,
    email: str,
    systems: Sequence[int] | None,
    *,
    asker: str = "",
    links_base: str = "",
    now: datetime | None = None,
) -> Requested:
    """Record a subscription request and make its confirmation email due. `systems` None
    means every system the page shows. The answer never says whether the address was
    subscribed already (the form is public)."""
    from fallback.comms.statuspage import page_for

    now = now or timezone.now()
    page = page_for(org)
    errors = []
    if not page.allow_subscribers:
        errors.append(("email", "This page does not take subscribers."))
    address = audiences.normal_email(email)
    if not address:
        errors.append(("email", "Give an email address like name@example.com."))
    allowed = {s.pk for s in choosable(org)}
    choice: list[int] | None = None
    if systems is not None:
        choice = sorted(set(systems))
        unknown = [s for s in choice if s not in allowed]
        if unknown:
            errors.append(("systems", "Choose among the systems listed."))
        elif not choice:
            errors.append(("systems", "Choose at least one system, or all of them."))
    if errors:
        raise SubscribeProblem(errors)
    since = now - THROTTLE_WINDOW
    if asker and (
        Subscriber.objects.filter(org=org, requested_from=asker, requested_at__gte=since).count()
        >= REQUESTS_PER_ASKER
    ):
        raise Throttled("Too many requests from your address. Try again in a quarter of an hour.")
    with transaction.atomic():
        try:
            sub, created = Subscriber.objects.get_or_create(
                org=org,
                email=address,
                defaults={
                    "all_systems": choice is None,
                    "created_at": now,
                    "requested_at": now,
                    "requested_from": asker[:64],
                    "links_base": links_base[:300],
                    "requested_systems": choice,
                },
            )
        except IntegrityError:  # the same address at the same moment: one row
            sub, created = Subscriber.objects.get(org=org, email=address), False
        if created and choice is not None:
            sub.systems.set(choice)
        recent = sub.confirm_sent_at is not None and sub.confirm_sent_at >= since
        email_due = not recent and sub.confirm_due_at is None
        Subscriber.objects.filter(pk=sub.pk).update(
            requested_at=now,
            requested_from=asker[:64],
            links_base=links_base[:300] or sub.links_base,
            requested_systems=choice,
            **({"confirm_due_at": now, "confirm_attempts": 0} if email_due else {}),
        )
        # The choice travels in the confirmation link; a pending row keeps the newest.
        if not sub.active and not created:
            Subscriber.objects.filter(pk=sub.pk).update(all_systems=choice is None)
            sub.systems.set(choice or [])
        sub.refresh_from_db()
        if created:
            record(org, "comms.subscriber.requested", sub, {"email": [None, address]})
    return Requested(sub, email_due)


def _named(org: Organisation, data: dict[str, Any]) -> Subscriber | None:
    pk, email = data.get("s"), data.get("e")
    if not isinstance(pk, int) or not isinstance(email, str):
        return None
    return Subscriber.objects.filter(org=org, pk=pk, email=email).first()


def confirm(org: Organisation, token: str, now: datetime | None = None) -> Subscriber:
    """Follow a confirmation link: the subscription (with the systems chosen on the form)
    starts. Following it twice is harmless."""
    data = _read(org, token, "confirm", timedelta(days=CONFIRM_DAYS))
    sub = _named(org, data)
    if sub is None:
        raise BadLink("This subscription no longer exists. Subscribe again.")
    choice = data.get("c")
    allowed = {s.pk for s in choosable(org)}
    with transaction.atomic():
        sub.all_systems = choice == "all"
        sub.confirmed_at = now or timezone.now()
        sub.unsubscribed_at = None
        sub.save(update_fields=["all_systems", "confirmed_at", "unsubscribed_at"])
        sub.systems.set([] if sub.all_systems else [s for s in choice or [] if s in allowed])
        record(org, "comms.subscriber.confirmed", sub, {"email": [None, sub.email]})
    return sub


def unsubscribe_token(org: Organisation, token: str) -> Subscriber:
    """The subscriber an unsubscribe link names (the link is checked, nothing changes)."""
    data = _read(org, token, "unsubscribe", None)
    sub = _named(org, data)
    if sub is None:
        raise BadLink("This subscription no longer exists.")
    return sub


def unsubscribe(sub: Subscriber, now: datetime | None = None, by_staff: bool = False) -> bool:
    """Stop sending to this subscriber; False when they were not subscribed anyway. Their
    queued update emails are not sent."""
    now = now or timezone.now()
    with transaction.atomic():
        changed = Subscriber.objects.filter(pk=sub.pk, unsubscribed_at__isnull=True).update(
            unsubscribed_at=now, confirm_due_at=None
        )
        OutboxItem.objects.filter(
            org_id=sub.org_id,
            notice__audience=AUDIENCE,
            address=sub.email,
            state__in=[ItemState.QUEUED],
        ).update(state=ItemState.CANCELLED)
        if changed:
            record(
                sub.org,
                "comms.subscriber.removed" if by_staff else "comms.subscriber.unsubscribed",
                sub,
                {"email": [sub.email, None]},
            )
    sub.refresh_from_db()
    return bool(changed)


# ------------------------------------------------------------------ confirmation emails


def _confirmation(sub: Subscriber, title: str) -> OutboxItem:
    # The choice made on the form last, which the link confirms.
    choice = sub.requested_systems if isinstance(sub.requested_systems, list) else None
    names = "every system on the page"
    if choice is not None:
        names = ", ".join(
            StatusComponent.objects.filter(org=sub.org, system_id__in=choice).values_list(
                "name", flat=True
            )
        )
    body = (
        f"Someone (we hope you) asked for email updates from {title} about {names}.\n\n"
        f"To start them, open this link and press Confirm:\n{confirm_url(sub, choice)}\n\n"
        f"The link works for {CONFIRM_DAYS} days. If you did not ask, ignore this email: "
        "nothing more will be sent.\n"
    )
    return OutboxItem(
        org_id=sub.org_id,
        notice_id=0,
        pk=sub.pk,
        channel=ChannelKind.EMAIL,
        address=sub.email,
        subject=f"Confirm your subscription to {title}",
        body=body,
    )


def send_confirmation(sub: Subscriber, settings: CommsSettings) -> str | None:
    """Send one confirmation email now; None when the server took it."""
    from fallback.comms.statuspage import page_for, title_of

    try:
        account = mail.account_for(settings)
    except preferences.MailSetupError as exc:
        return str(exc)
    item = _confirmation(sub, title_of(page_for(sub.org)))
    connection = mail.MailConnection(account)
    try:
        msg_id = f"<fallback.{sub.org_id}.confirm.{sub.pk}.{sub.confirm_attempts}@{account.domain}>"
        outcome = connection.deliver(item, msg_id, mail.at_once)
    finally:
        connection.close()
    return None if outcome.ok else f"{outcome.kind}: {outcome.reply}"


@schedulers.register("comms.subscriber_confirmations", SEND_EVERY)
def send_confirmations(now: datetime | None = None) -> int:
    """Send the confirmation emails that are due; each claimed by a conditional UPDATE (its
    due time moved past a lease), so two workers never send the same one. Returns how many
    the mail server took."""
    now = now or timezone.now()
    sent = 0
    due = Subscriber.objects.filter(confirm_due_at__lte=now).select_related("org")
    for sub in list(due.order_by("confirm_due_at", "pk")[:100]):
        taken = Subscriber.objects.filter(pk=sub.pk, confirm_due_at=sub.confirm_due_at).update(
            confirm_due_at=now + CONFIRM_LEASE
        )
        if not taken:
            continue
        blocked = audiences.opted_out(sub.org)
        if sub.email in blocked.get("email", set()) | blocked.get("", set()):
            error: str | None = "the address is on the opt-out list: nothing is sent to it"
            attempts = CONFIRM_ATTEMPTS
        else:
            error = send_confirmation(sub, preferences.settings_for(sub.org))
            attempts = sub.confirm_attempts + 1
        if error is None:
            Subscriber.objects.filter(pk=sub.pk).update(
                confirm_due_at=None,
                confirm_sent_at=now,
                confirm_error="",
                confirm_attempts=attempts,
            )
            sent += 1
            continue
        retry = attempts < CONFIRM_ATTEMPTS and not error.startswith("bounced")
        Subscriber.objects.filter(pk=sub.pk).update(
            confirm_due_at=now + outbox.backoff(attempts) if retry else None,
            confirm_attempts=attempts,
            confirm_error=error[:2000],
        )
        log.warning("confirmation email to subscriber %s failed: %s", sub.pk, error)
    return sent


# ------------------------------------------------------------------ update emails


def active(org: Organisation) -> Any:
    return Subscriber.objects.filter(org=org, confirmed_at__isnull=False, unsubscribed_at=None)


def for_systems(org: Organisation, system_ids: Sequence[int]) -> list[Subscriber]:
    """Confirmed subscribers of every system, or of one of these."""
    wanted = active(org).filter(Q(all_systems=True) | Q(systems__in=list(system_ids)))
    return list(wanted.distinct().select_related("org").order_by("pk"))


PHASE_OF = {
    PublicStatus.RESOLVED: Phase.RESOLVED,
    PublicStatus.POSTMORTEM: Phase.FOLLOW_UP,
}


def notify(update: StatusUpdate, now: datetime | None = None) -> Notice | None:
    """Email `update` to the confirmed subscribers of the systems it affects, through the
    outbox (a drill's goes only to the drill's test recipients, marked). None when the page
    takes no subscribers or nobody is to be told."""
    from fallback.comms.statuspage import components, page_for, public_name, title_of

    org = update.incident.org
    page = page_for(org)
    if not page.allow_subscribers:
        return None
    people = for_systems(org, update.systems)
    if not people and not update.is_exercise:
        return None
    now = now or timezone.now()
    blocked = audiences.opted_out(org)
    refused = blocked.get(ChannelKind.EMAIL, set()) | blocked.get("", set())
    title = title_of(page)
    incident = update.incident
    named = public_name(incident, {c.system_id: c for c in components(org)})
    subject = f"[{title}] {update.get_status_display()}: {named}"
    notice = Notice.objects.create(
        org=org,
        incident=incident,
        audience=AUDIENCE,
        phase=PHASE_OF.get(PublicStatus(update.status), Phase.UPDATE),
        channels=[ChannelKind.EMAIL],
        subject=subject[:200],
        notify=update.body,
        status=NoticeStatus.SENT,
        is_exercise=update.is_exercise,
        created_at=now,
        sent_at=now,
        created_by=update.created_by,
        sent_by=update.created_by,
    )
    targets = [
        Target(
            ChannelKind.EMAIL,
            s.email,
            "",
            f"subscriber:{s.pk}",
            unsubscribe_url=unsubscribe_url(s, page),
        )
        for s in people
        if s.email not in refused
    ]
    names = list(
        StatusComponent.objects.filter(org=org, system_id__in=update.systems).values_list(
            "name", flat=True
        )
    )
    when = update.created_at.astimezone(timezone.get_current_timezone())
    from fallback.comms.rendering import when as said_when

    at = said_when(when, org, now)

    def render(target: Target) -> tuple[str, str]:
        lines = [f"{update.get_status_display()} — {at}", "", update.body, ""]
        if names:
            lines.append(f"Affected: {', '.join(names)}")
        if page.public_url:
            lines.append(f"Status page: {page.public_url}")
        if target.unsubscribe_url:
            lines += ["", f"You subscribed to {title}. Unsubscribe: {target.unsubscribe_url}"]
        return subject, "\n".join(lines).strip() + "\n"

    enqueued = outbox.enqueue(notice, targets, render)
    notice.counts = {
        "audience": AUDIENCE,
        "subscribers": len(people),
        "opted_out": len(people) - len(targets),
        "queued": enqueued.created,
        "withheld_for_drill": enqueued.withheld,
    }
    notice.save(update_fields=["counts"])
    StatusUpdate.objects.filter(pk=update.pk).update(notice=notice)
    update.notice = notice
    return notice


def _people(org: Organisation, settings: CommsSettings, today: date) -> Iterator[Person]:
    for sub in active(org).order_by("pk"):
        yield Person(name="", key=f"subscriber:{sub.pk}", email=sub.email)


audiences.register(
    audiences.AudienceKind(
        AUDIENCE,
        "Status page subscribers",
        "People who subscribed to the status page's email updates (and confirmed).",
        "customers",
        _people,
        greeting="subscriber",
        listed=False,
    )
)
