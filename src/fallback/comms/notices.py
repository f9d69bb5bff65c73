"""Notices: composed for an incident from the organisation's template, edited as five
parts, checked, acknowledged where a person decides to send anyway, and sent — which puts
one message per recipient into the outbox and notes it on the incident's timeline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from fallback.accounts.models import Organisation
from fallback.audit.trail import diff, record
from fallback.comms import audiences, checker, compensation, defaults, outbox, rendering
from fallback.comms.audiences import Selection, Target
from fallback.comms.checker import Finding, Situation
from fallback.comms.models import ChannelKind, CommsSettings, Notice, NoticeStatus, Phase
from fallback.comms.preferences import down_routes, mail_ready, settings_for
from fallback.incidents import timeline
from fallback.incidents.models import EntryKind, Incident

WORDS = ["subject", *rendering.PARTS]
FACTS = ["expected_return", "next_update_by"]
EDITABLE = [*WORDS, *FACTS, "channels"]
SAMPLE_NAME = "Sam Taylor"


class NoticeError(Exception):
    """What the notice's state does not allow; says what to do instead."""


class NoticeBlocked(NoticeError):
    """The checker's findings stop the notice; each says what to fix."""

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings
        super().__init__(
            "The notice was not sent: "
            + " ".join(f"{f.part_label}: {f.message}" for f in findings[:3])
        )


def _person(by: Any) -> Any:
    return by if by is not None and getattr(by, "is_authenticated", False) else None


def _channels(channels: Sequence[str]) -> list[str]:
    chosen = [c for c in ChannelKind.values if c in set(channels)]
    unknown = [c for c in channels if c not in ChannelKind.values]
    if unknown:
        raise NoticeError(f"Unknown channel(s): {', '.join(unknown)}; known: email, sms, chat.")
    if not chosen:
        raise NoticeError("Choose at least one channel: email, sms or chat.")
    return chosen


# ------------------------------------------------------------------ composing


def create(
    incident: Incident,
    audience: str,
    phase: str,
    channels: Sequence[str] = ("email",),
    *,
    by: Any = None,
    request_key: str | None = None,
    now: datetime | None = None,
) -> tuple[Notice, bool]:
    """A draft notice from the organisation's template; (notice, created). The same
    request_key returns the notice it made the first time."""
    org = incident.org
    if request_key:
        found = Notice.objects.filter(org=org, request_key=request_key).first()
        if found is not None:
            return found, False
    audiences.composable(audience)  # raises for an unknown audience or a status-page one
    if phase not in Phase.values:
        raise NoticeError(f"Unknown phase {phase!r}; known: {', '.join(Phase.values)}.")
    chosen = _channels(channels)
    template = defaults.template_for(org, audience, phase)
    notice = Notice(
        org=org,
        incident=incident,
        audience=audience,
        phase=phase,
        channels=chosen,
        is_exercise=incident.is_exercise,
        next_update_by=rendering.default_next_update(org, now),
        created_by=_person(by),
        created_at=now or timezone.now(),
        request_key=request_key or "",
        **rendering.parts_of(template),
    )
    try:
        with transaction.atomic():
            notice.save()
            record(
                org,
                "comms.notice.created",
                notice,
                {
                    "incident": [None, incident.pk],
                    "audience": [None, audience],
                    "phase": [None, phase],
                },
            )
    except IntegrityError:
        if not request_key:
            raise
        found = Notice.objects.filter(org=org, request_key=request_key).first()
        if found is None:
            raise
        return found, False
    return notice, True


def edit(notice: Notice, by: Any = None, **fields: Any) -> dict[str, list[Any]]:
    """Change a draft's words, facts or channels. Acknowledged findings are cleared when
    the words change: what was acknowledged was about other words."""
    if notice.status != NoticeStatus.DRAFT:
        raise NoticeError("This notice was sent already; compose a new one (an update).")
    before = {name: getattr(notice, name) for name in EDITABLE}
    for name, value in fields.items():
        if name not in EDITABLE:
            raise ValueError(f"unknown notice field {name!r}")
        if value is None:
            continue
        if name == "channels":
            value = _channels(value)
        elif name == "subject":
            value = " ".join(str(value).split())[:200]
        elif name in FACTS:
            value = str(value).strip()[:200]
        else:
            value = str(value).replace("\r\n", "\n").strip()
        setattr(notice, name, value)
    changes = diff(before, {name: getattr(notice, name) for name in EDITABLE})
    if not changes:
        return {}
    if notice.acknowledged:
        notice.acknowledged, notice.acknowledged_by, notice.acknowledged_at = [], None, None
    with transaction.atomic():
        notice.save()
        shown = {k: (v if k in ("channels", *FACTS) else ["…", "…"]) for k, v in changes.items()}
        record(notice.org, "comms.notice.edited", notice, shown)
    return changes


# ------------------------------------------------------------------ checking


def situation(notice: Notice, settings: CommsSettings | None = None) -> Situation:
    settings = settings or settings_for(notice.org)
    email_down, phone_down = down_routes(notice.org, notice.incident)
    return Situation(
        phase=notice.phase,
        channels=tuple(notice.channels),
        email_down=email_down,
        phone_down=phone_down,
        usual_email=settings.usual_email,
        usual_phone=settings.usual_phone,
        backup_email=settings.backup_email,
        reply_to=settings.reply_to or settings.from_address,
    )


def values(
    notice: Notice, settings: CommsSettings | None = None, name: str = SAMPLE_NAME
) -> dict[str, str]:
    settings = settings or settings_for(notice.org)
    found = rendering.incident_values(notice, settings)
    found["customer_name"] = name
    if compensation.uses_compensation(notice):
        found.update(compensation.sample_values(notice))
    return found


def findings(notice: Notice, settings: CommsSettings | None = None) -> list[Finding]:
    settings = settings or settings_for(notice.org)
    found = checker.check(
        rendering.parts_of(notice), values(notice, settings), situation(notice, settings)
    )
    forgotten = compensation.forgotten_offer(notice)
    return [*found, forgotten] if forgotten is not None else found


def acknowledge(notice: Notice, keys: Sequence[str], by: Any) -> list[str]:
    """Send anyway despite these findings (a person who may send notices decides);
    returns the keys now acknowledged. A finding that must be fixed cannot be."""
    if notice.status != NoticeStatus.DRAFT:
        raise NoticeError("This notice was sent already.")
    current = {f.key: f for f in findings(notice)}
    wanted = list(dict.fromkeys(keys))
    unknown = [k for k in wanted if k not in current]
    if unknown:
        raise NoticeError(
            f"No such finding now: {', '.join(unknown)} (the words changed; check again)."
        )
    fixed_only = [current[k] for k in wanted if current[k].must_fix]
    if fixed_only:
        raise NoticeError(
            "These must be fixed, not acknowledged: "
            + " ".join(f"{f.part_label}: {f.message}" for f in fixed_only)
        )
    notice.acknowledged = sorted(set(notice.acknowledged) | set(wanted))
    notice.acknowledged_by = _person(by)
    notice.acknowledged_at = timezone.now()
    with transaction.atomic():
        notice.save(update_fields=["acknowledged", "acknowledged_by", "acknowledged_at"])
        record(notice.org, "comms.notice.acknowledged", notice, {"findings": [None, wanted]})
    return list(notice.acknowledged)


# ------------------------------------------------------------------ who, and the messages


def selection(notice: Notice, settings: CommsSettings | None = None) -> Selection:
    return audiences.select(notice.org, notice.audience, notice.channels, settings)


def greeting(notice: Notice, target_name: str) -> str:
    return target_name or audiences.kind(notice.audience).greeting


def renderer(
    notice: Notice, settings: CommsSettings, given_out: compensation.Prepared | None = None
) -> Any:
    shared = rendering.incident_values(notice, settings)
    parts = rendering.parts_of(notice)

    def render(target: Target) -> tuple[str, str]:
        given = dict(shared)
        if given_out is not None:
            given.update(given_out.values_for(target))
        if target.channel == ChannelKind.CHAT:
            given["customer_name"] = "everyone"
        else:
            given["customer_name"] = greeting(notice, target.name)
        if target.channel == ChannelKind.EMAIL:
            message = rendering.compose(parts, given)
            return message.subject, message.body
        subject = rendering.compose(parts, given).subject
        return subject, rendering.short_text(parts, given, is_exercise=False)

    return render


def preview(notice: Notice, settings: CommsSettings | None = None) -> rendering.Message:
    settings = settings or settings_for(notice.org)
    given = values(notice, settings)
    message = rendering.compose(rendering.parts_of(notice), given)
    if notice.is_exercise or notice.incident.is_exercise:
        subject, body = outbox.mark_exercise(ChannelKind.EMAIL, message.subject, message.body)
        return rendering.Message(subject, body)
    return message


# ------------------------------------------------------------------ sending


@dataclass
class Sent:
    notice: Notice
    enqueued: outbox.Enqueued
    selection: Selection
    repeated: bool = False  # the same send_key again: nothing new was done


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def send(notice: Notice, by: Any = None, send_key: str = "") -> Sent:
    """Put the notice's messages in the outbox. Refused while findings are not fixed or
    acknowledged; a second call (a double click, a retried request) sends nothing more."""
    org = notice.org
    settings = settings_for(org)
    if notice.status != NoticeStatus.DRAFT:
        if notice.status == NoticeStatus.SENT:
            return Sent(notice, outbox.Enqueued(), Selection(notice.audience), repeated=True)
        raise NoticeError("This notice was stopped; compose a new one.")
    open_findings = checker.blocking(findings(notice, settings), notice.acknowledged)
    if open_findings:
        raise NoticeBlocked(open_findings)
    if ChannelKind.EMAIL in notice.channels:
        problem = mail_ready(settings)
        if problem:
            raise NoticeError(problem)
    chosen = selection(notice, settings)
    if chosen.problems:
        raise NoticeError(" ".join(chosen.problems))
    now = timezone.now()
    with transaction.atomic():
        # One sender wins: the draft becomes sent in a conditional update.
        taken = Notice.objects.filter(pk=notice.pk, status=NoticeStatus.DRAFT).update(
            status=NoticeStatus.SENT, sent_at=now, sent_by=_person(by), send_key=send_key[:80]
        )
        if not taken:
            notice.refresh_from_db()
            return Sent(notice, outbox.Enqueued(), chosen, repeated=True)
        notice.refresh_from_db()
        try:
            # Each customer's compensation is recorded before their message is written.
            given_out = compensation.prepare(notice, chosen.targets, chosen.calls)
        except compensation.CompensationError as exc:
            raise NoticeError(str(exc)) from exc
        enqueued = outbox.enqueue(
            notice,
            chosen.targets,
            renderer(notice, settings, given_out),
            given_out.tag if given_out is not None else None,
        )
        counts = chosen.summary()
        counts["queued"] = enqueued.created
        counts["withheld_for_drill"] = enqueued.withheld
        notice.counts = counts
        notice.save(update_fields=["counts"])
        kind = audiences.kind(notice.audience)
        what = (
            ", ".join(
                _plural(n, label)
                for label, n in (
                    ("email", _count(notice, ChannelKind.EMAIL)),
                    ("SMS", _count(notice, ChannelKind.SMS)),
                    ("chat message", _count(notice, ChannelKind.CHAT)),
                )
                if n
            )
            or "no messages"
        )
        calls = f"; {_plural(len(chosen.calls), 'key account')} to call" if chosen.calls else ""
        drill = " (exercise: only the drill's test recipients)" if enqueued.is_exercise else ""
        timeline.add(
            notice.incident,
            EntryKind.NOTE,
            f"Notice “{notice.get_phase_display()}” to {kind.label.lower()} sent to the "
            f"outbox: {what}{calls}{drill}.",
            by=by,
            at=now,
            data={"notice": notice.pk},
        )
        record(
            org,
            "comms.notice.sent",
            notice,
            {"status": [NoticeStatus.DRAFT, NoticeStatus.SENT], "queued": [None, enqueued.created]},
        )
    return Sent(notice, enqueued, chosen)


def _count(notice: Notice, channel: str) -> int:
    return notice.items.filter(channel=channel).count()


def stop(notice: Notice, by: Any = None) -> int:
    """Stop sending: what is not yet handed over is not sent."""
    if notice.status != NoticeStatus.SENT:
        raise NoticeError("Only a notice that is being sent can be stopped.")
    with transaction.atomic():
        stopped = outbox.stop(notice)
        Notice.objects.filter(pk=notice.pk).update(status=NoticeStatus.STOPPED)
        notice.status = NoticeStatus.STOPPED
        timeline.add(
            notice.incident,
            EntryKind.NOTE,
            f"Notice “{notice.get_phase_display()}” stopped: {_plural(stopped, 'message')} "
            "not sent.",
            by=by,
            data={"notice": notice.pk},
        )
        record(notice.org, "comms.notice.stopped", notice, {"cancelled": [None, stopped]})
    return stopped


def resend(notice: Notice, states: Sequence[str], by: Any = None) -> int:
    """Send again the failed messages, or (after a person checked) the unknown ones."""
    if notice.status == NoticeStatus.DRAFT:
        raise NoticeError("This notice has not been sent yet.")
    allowed = {"failed", "unknown"}
    if not set(states) <= allowed or not states:
        raise NoticeError("Only failed or unknown messages can be sent again.")
    with transaction.atomic():
        n = outbox.requeue(notice, list(states))
        if n and notice.status == NoticeStatus.STOPPED:
            Notice.objects.filter(pk=notice.pk).update(status=NoticeStatus.SENT)
            notice.status = NoticeStatus.SENT
        record(
            notice.org,
            "comms.notice.resent",
            notice,
            {"states": [None, list(states)], "messages": [None, n]},
        )
    return n


def mark_unknown_sent(notice: Notice, by: Any = None) -> int:
    with transaction.atomic():
        n = outbox.mark_sent_by_person(notice)
        record(notice.org, "comms.notice.unknown_marked_sent", notice, {"messages": [None, n]})
    return n


def for_incident(org: Organisation, incident: Incident) -> list[Notice]:
    return list(Notice.objects.filter(org=org, incident=incident).order_by("-created_at", "-pk"))
