import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from fallback.comms import notices, outbox, preferences
from fallback.comms.audiences import Target
from fallback.comms.models import ItemState, Notice, OutboxItem
from fallback.comms.rendering import EXERCISE_BANNER
from fallback.comms.tests.builders import declare, mail_setup, put_records
from fallback.testing.factories import make_org, make_user

pytestmark = pytest.mark.django_db


def make_notice(org, is_exercise=False, audience="all_customers"):
    notice, _ = notices.create(declare(org, is_exercise=is_exercise), audience, "first_notice")
    return notice


def plain(target):
    return "Subject", f"Hello {target.name}"


@pytest.fixture
def org():
    org = make_org("Hartley")
    mail_setup(org, 2525)
    put_records(
        org,
        "customer",
        [{"key": f"C{i}", "name": f"Customer {i}", "email": f"c{i}@example.com"} for i in range(5)],
    )
    return org


def test_the_same_message_twice_is_one_item(org):
    notice = make_notice(org)
    targets = [Target("email", "a@example.com", "A"), Target("email", "b@example.com", "B")]
    first = outbox.enqueue(notice, targets, plain)
    again = outbox.enqueue(notice, [*targets, Target("email", "c@example.com")], plain)
    assert (first.created, first.already) == (2, 0)
    assert (again.created, again.already) == (1, 2)
    assert OutboxItem.objects.filter(notice=notice).count() == 3


def test_a_drill_reaches_only_its_test_recipients_and_says_so(org):
    preferences.update_settings(org, drill_recipients="drill@hartley.example\n07700 900123")
    notice = make_notice(org, is_exercise=True)
    sent = notices.send(notice, make_user("mo@hartley.example"))
    items = list(OutboxItem.objects.filter(notice=notice))
    assert [i.address for i in items] == ["drill@hartley.example"]
    assert sent.enqueued.withheld == 5 and sent.enqueued.is_exercise
    item = items[0]
    assert item.is_exercise and item.subject.startswith("[EXERCISE] ")
    assert item.body.startswith(EXERCISE_BANNER)


def test_a_real_address_enqueued_directly_for_a_drill_never_gets_an_item(org):
    preferences.update_settings(org, drill_recipients="drill@hartley.example")
    notice = make_notice(org, is_exercise=True)
    # Even with the notice's own flag wrong, the incident decides.
    Notice.objects.filter(pk=notice.pk).update(is_exercise=False)
    notice.refresh_from_db()
    result = outbox.enqueue(notice, [Target("email", "c1@example.com", "Customer 1")], plain)
    assert result.withheld == 1
    assert list(OutboxItem.objects.values_list("address", flat=True)) == ["drill@hartley.example"]
    notice.refresh_from_db()
    assert notice.is_exercise


def test_a_drill_without_test_recipients_sends_nothing(org):
    notice = make_notice(org, is_exercise=True)
    result = outbox.enqueue(notice, [Target("email", "c1@example.com")], plain)
    assert result.created == 0 and result.withheld == 1 and not OutboxItem.objects.exists()


def test_chat_rooms_are_never_part_of_a_drill(org):
    preferences.update_settings(org, drill_recipients="drill@hartley.example")
    room = preferences.save_channel(
        org, name="Customers' group", kind="chat", url="json://127.0.0.1:9/room"
    )
    notice = make_notice(org, is_exercise=True)
    notices.edit(notice, channels=["email", "chat"])
    outbox.enqueue(notice, [Target("chat", f"chat:{room.pk}", room.name, via_id=room.pk)], plain)
    assert list(OutboxItem.objects.values_list("channel", flat=True)) == ["email"]


def test_two_senders_never_claim_the_same_item(org):
    notice = make_notice(org)
    outbox.enqueue(notice, [Target("email", f"x{i}@example.com") for i in range(10)], plain)
    a = outbox.claim("a", ["email"], 4)
    b = outbox.claim("b", ["email"], 100)
    assert len(a) == 4 and len(b) == 6 and not {i.pk for i in a} & {i.pk for i in b}
    assert outbox.claim("c", ["email"], 100) == []


def test_an_item_is_claimed_only_when_due(org):
    notice = make_notice(org)
    outbox.enqueue(notice, [Target("email", "later@example.com")], plain)
    OutboxItem.objects.update(next_attempt_at=timezone.now() + timedelta(minutes=1))
    assert outbox.claim("a", ["email"], 10) == []


def test_a_dead_sender_s_claimed_items_go_back_and_handed_over_ones_become_unknown(org):
    notice = make_notice(org)
    outbox.enqueue(notice, [Target("email", f"x{i}@example.com") for i in range(3)], plain)
    held = outbox.claim("dead", ["email"], 10)
    assert outbox.hand_over(held[0], "dead", "<m@x>")
    later = timezone.now() + outbox.LEASE + timedelta(seconds=1)
    assert outbox.recover(later) == (2, 1)
    states = dict(OutboxItem.objects.values_list("pk", "state"))
    assert states[held[0].pk] == ItemState.UNKNOWN
    assert states[held[1].pk] == states[held[2].pk] == ItemState.QUEUED
    assert "may have been" in OutboxItem.objects.get(pk=held[0].pk).last_error


def test_renewing_the_lease_keeps_a_live_sender_s_items(org):
    notice = make_notice(org)
    outbox.enqueue(notice, [Target("email", "x@example.com")], plain)
    outbox.claim("alive", ["email"], 10)
    soon = timezone.now() + outbox.LEASE - timedelta(seconds=1)
    outbox.renew("alive", soon)
    assert outbox.recover(soon + timedelta(seconds=5)) == (0, 0)


def test_an_item_taken_back_cannot_be_handed_over_by_its_old_sender(org):
    notice = make_notice(org)
    outbox.enqueue(notice, [Target("email", "x@example.com")], plain)
    [item] = outbox.claim("slow", ["email"], 10)
    outbox.recover(timezone.now() + outbox.LEASE * 2)  # the lease ran out
    assert not outbox.hand_over(item, "slow")
    [again] = outbox.claim("other", ["email"], 10)
    assert outbox.hand_over(again, "other")


def test_failures_are_retried_with_backoff_then_given_up(org, monkeypatch):
    notice = make_notice(org)
    outbox.enqueue(notice, [Target("email", "x@example.com")], plain)
    now = timezone.now()
    for attempt in range(1, outbox.MAX_ATTEMPTS + 1):
        OutboxItem.objects.update(next_attempt_at=now)
        [item] = outbox.claim("s", ["email"], 1, now)
        state = outbox.record_failure(item, "451 try later", now=now)
        if attempt < outbox.MAX_ATTEMPTS:
            assert state == ItemState.QUEUED
            waited = OutboxItem.objects.get().next_attempt_at - now
            expected = min(outbox.FIRST_RETRY * 2 ** (attempt - 1), outbox.MAX_RETRY)
            assert expected * 0.8 <= waited <= expected * 1.2
    item = OutboxItem.objects.get()
    assert item.state == ItemState.FAILED and item.attempts == outbox.MAX_ATTEMPTS
    assert item.last_error == "451 try later"


def test_a_refused_recipient_is_a_bounce_at_once(org):
    notice = make_notice(org)
    outbox.enqueue(notice, [Target("email", "x@example.com")], plain)
    [item] = outbox.claim("s", ["email"], 1)
    assert outbox.record_failure(item, "550 No such user", bounced=True) == ItemState.BOUNCED


def test_stopping_a_notice_keeps_its_claimed_items_from_being_handed_over(org):
    notice = make_notice(org)
    notices.send(notice, make_user("mo@hartley.example"))
    held = outbox.claim("s", ["email"], 2)
    notices.stop(notice)
    assert not outbox.hand_over(held[0], "s")
    assert set(OutboxItem.objects.values_list("state", flat=True)) == {ItemState.CANCELLED}


def test_progress_counts_each_state(org):
    notice = make_notice(org)
    notices.send(notice, make_user("mo@hartley.example"))
    [a, b] = outbox.claim("s", ["email"], 2)
    outbox.hand_over(a, "s")
    outbox.record_sent(a, "250 OK")
    outbox.record_failure(b, "550 no", bounced=True)
    p = outbox.progress(org)
    assert (p.total, p.sent, p.n("bounced"), p.waiting, p.per_minute) == (5, 1, 1, 3, 1)
    assert p.percent == 40 and p.as_dict()["queued"] == 3


@pytest.mark.django_db(transaction=True)
def test_senders_claiming_at_the_same_moment_share_the_items_out_without_overlap():
    org = make_org("Race")
    notice = make_notice(org)
    outbox.enqueue(notice, [Target("email", f"x{i}@example.com") for i in range(300)], plain)
    taken: dict[str, list[int]] = {}
    start = threading.Barrier(4)

    def take(name):
        start.wait()
        mine = []
        try:
            while batch := outbox.claim(name, ["email"], 25):
                mine += [i.pk for i in batch]
        finally:
            connections.close_all()
        taken[name] = mine

    threads = [threading.Thread(target=take, args=(f"s{n}",)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    everything = [pk for pks in taken.values() for pk in pks]
    assert len(everything) == len(set(everything)) == 300
