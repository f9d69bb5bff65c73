import email
import os
import re
import signal
import threading
import time
from contextlib import nullcontext

import pytest
from django.db import connections

from fallback.audit.models import AuditEvent
from fallback.comms import compensation, notices, outbox
from fallback.comms.compensation import CompensationError
from fallback.comms.models import (
    Compensation,
    DiscountCode,
    ItemState,
    Notice,
    NoticeStatus,
    OfferKind,
    OutboxItem,
)
from fallback.comms.notices import NoticeError
from fallback.comms.tests import test_kill
from fallback.comms.tests.builders import declare, mail_setup, put_records, sink
from fallback.testing.factories import make_org, make_user

CODE = re.compile(r"with the code (\S+)\.")


@pytest.fixture
def world(db):
    mo = make_user("mo@hartley.example")
    org = make_org("Hartley", owner=mo)
    mail_setup(org, 2525)
    put_records(
        org,
        "customer",
        [
            {"key": "C1", "name": "Smith Plumbing", "email": "jo@smith.example"},
            {"key": "C2", "name": "Brown & Co", "email": "accounts@brown.example"},
            {"key": "C3", "name": "Patel Foods", "email": "orders@patel.example"},
        ],
    )
    put_records(
        org,
        "contact",
        [{"key": "K1", "name": "Ann Smith", "email": "ann@smith.example", "customer": "C1"}],
    )
    return {"mo": mo, "org": org, "incident": declare(org, mo)}


def follow_up(incident, with_offer=True, channels=("email",)):
    """A follow-up to all customers, its placeholders filled, the offer in Solve."""
    notice, _ = notices.create(incident, "all_customers", "follow_up", channels)
    solve = notice.solve + (" " + compensation.LEAD_IN if with_offer else "")
    notices.edit(
        notice,
        explain="What happened: our hosting provider had a power failure.",
        predict="What we are changing: a second provider for the order system.",
        solve=solve,
    )
    return notice


def codes_of(notice):
    return {
        i.address: CODE.search(i.body).group(1) if CODE.search(i.body) else None
        for i in OutboxItem.objects.filter(notice=notice)
    }


# ------------------------------------------------------------------ code lists


def test_a_pasted_list_with_a_duplicate_names_both_lines_and_adds_nothing(world):
    offer = compensation.save_offer(world["incident"], "list", "15% off your next order")
    with pytest.raises(CompensationError) as refused:
        compensation.add_codes(offer, "SORRY-AAA1\n\nSORRY-BBB2\nsorry-aaa1\n")
    assert "line 4: sorry-aaa1 is listed twice (also line 1)" in str(refused.value)
    assert refused.value.errors == [("line 4", "line 4: sorry-aaa1 is listed twice (also line 1).")]
    assert not DiscountCode.objects.exists()


def test_a_code_that_is_not_a_code_names_its_line(world):
    with pytest.raises(CompensationError, match=r"line 2: “SAVE 10” is not a code"):
        compensation.parse_codes("SAVE10\nSAVE 10\n")


def test_a_csv_file_takes_the_column_headed_code():
    parsed = compensation.parse_codes(
        "Title,Code,Usage\r\nSorry,SORRY-1AB,1\r\nSorry,SORRY-2CD,1\r\n"
    )
    assert parsed.codes == [(2, "SORRY-1AB"), (3, "SORRY-2CD")]


def test_an_empty_list_says_so():
    with pytest.raises(CompensationError, match="No codes found"):
        compensation.parse_codes("\n# nothing here\n")


def test_a_code_already_on_another_incident_s_list_is_refused_with_its_line(world):
    first = compensation.save_offer(world["incident"], "list", "10% off")
    compensation.add_codes(first, "SHOP-0001\nSHOP-0002")
    other = declare(world["org"], world["mo"], title="Email is down")
    second = compensation.save_offer(other, "list", "10% off")
    with pytest.raises(CompensationError) as refused:
        compensation.add_codes(second, "SHOP-0003\nshop-0002")
    assert "line 2: SHOP-0002 is already in CloudCRM is down." in str(refused.value)
    assert DiscountCode.objects.filter(offer=second).count() == 0


def test_only_a_list_offer_takes_codes(world):
    offer = compensation.save_offer(world["incident"], "generated", "10% off")
    with pytest.raises(CompensationError, match="Only an offer of codes from your list"):
        compensation.add_codes(offer, "SHOP-0001")


def test_an_offer_says_what_is_wrong_with_it(world):
    with pytest.raises(CompensationError) as refused:
        compensation.save_offer(world["incident"], "generated", "", prefix="no spaces")
    assert [f for f, _ in refused.value.errors] == ["description", "prefix"]
    free = compensation.save_offer(world["incident"], "free_shipping")
    assert free.description == "free shipping on your next order"


# ------------------------------------------------------------------ giving codes


def test_each_customer_gets_their_own_code_from_the_list_recorded_before_queueing(world):
    offer = compensation.save_offer(world["incident"], "list", "15% off your next order")
    compensation.add_codes(offer, "A-0001\nA-0002\nA-0003\nA-0004\nA-0005")
    notice = follow_up(world["incident"])
    notices.send(notice, world["mo"])
    given = {c.customer_key: c for c in Compensation.objects.filter(incident=world["incident"])}
    assert set(given) == {"C1", "C2", "C3"}
    assert sorted(c.code_text for c in given.values()) == ["A-0001", "A-0002", "A-0003"]
    sent = codes_of(notice)
    # Jo and Ann work at the same customer: one code, in both messages.
    assert sent["jo@smith.example"] == sent["ann@smith.example"] == given["C1"].code_text
    assert sent["accounts@brown.example"] == given["C2"].code_text
    item = OutboxItem.objects.get(notice=notice, address="orders@patel.example")
    assert item.compensation == given["C3"] and given["C3"].notice == notice
    assert "To make up for it: 15% off your next order with the code A-000" in item.body
    assert compensation.free_codes(offer).count() == 2
    assert AuditEvent.objects.filter(action="comms.compensation.given").exists()


def test_a_list_that_runs_out_stops_the_send_and_uses_no_code(world):
    offer = compensation.save_offer(world["incident"], "list", "15% off")
    compensation.add_codes(offer, "A-0001\nA-0002")
    notice = follow_up(world["incident"])
    with pytest.raises(NoticeError, match=r"run out: 3 customers need a code and 2 are left"):
        notices.send(notice, world["mo"])
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.DRAFT
    assert not OutboxItem.objects.exists() and not Compensation.objects.exists()
    compensation.add_codes(offer, "A-0003")
    assert notices.send(notice, world["mo"]).enqueued.created == 4


def test_sending_again_or_a_second_follow_up_gives_nobody_a_second_code(world):
    offer = compensation.save_offer(world["incident"], "generated", "10% off", prefix="sorry")
    first = follow_up(world["incident"])
    notices.send(first, world["mo"])
    notices.send(Notice.objects.get(pk=first.pk), world["mo"])  # a double click
    codes = codes_of(first)
    second = follow_up(world["incident"])
    notices.send(second, world["mo"])
    assert codes_of(second) == codes
    assert Compensation.objects.count() == 3
    assert DiscountCode.objects.filter(offer=offer).count() == 3


def test_a_send_that_dies_before_committing_gives_nothing_and_a_retry_gives_once(
    world, monkeypatch
):
    offer = compensation.save_offer(world["incident"], "list", "15% off")
    compensation.add_codes(offer, "A-0001\nA-0002\nA-0003")
    notice = follow_up(world["incident"])
    real = outbox.enqueue

    def dies(*args, **kwargs):
        real(*args, **kwargs)
        raise SystemExit("killed after the messages were written, before the commit")

    monkeypatch.setattr(outbox, "enqueue", dies)
    with pytest.raises(SystemExit):
        notices.send(notice, world["mo"])
    assert not Compensation.objects.exists() and not OutboxItem.objects.exists()
    assert compensation.free_codes(offer).count() == 3
    monkeypatch.setattr(outbox, "enqueue", real)
    notices.send(Notice.objects.get(pk=notice.pk), world["mo"])
    assert Compensation.objects.count() == 3 and compensation.free_codes(offer).count() == 0


@pytest.mark.django_db(transaction=True)
def test_two_follow_ups_sent_at_the_same_moment_give_each_customer_one_code():
    mo = make_user("mo@race.example")
    org = make_org("Race", owner=mo)
    mail_setup(org, 2525)
    rows = [{"key": f"C{i}", "name": f"C{i}", "email": f"c{i}@race.example"} for i in range(40)]
    put_records(org, "customer", rows)
    incident = declare(org, mo)
    offer = compensation.save_offer(incident, "list", "15% off")
    compensation.add_codes(offer, "\n".join(f"R-{i:04d}" for i in range(100)))
    pair = [follow_up(incident), follow_up(incident)]
    start = threading.Barrier(2)
    problems: list[BaseException] = []

    def send(notice):
        try:
            start.wait()
            for _ in range(20):
                try:
                    notices.send(Notice.objects.get(pk=notice.pk), mo)
                    return
                except NoticeError as exc:  # the other one held the customers a moment
                    if "Another follow-up" not in str(exc) and "locked" not in str(exc):
                        raise
        except BaseException as exc:
            problems.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(n,)) for n in pair]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert problems == []
    assert Compensation.objects.filter(incident=incident).count() == 40
    a, b = codes_of(pair[0]), codes_of(pair[1])
    assert a == b and len(set(a.values())) == 40 and None not in a.values()
    assert compensation.free_codes(offer).count() == 60


def test_made_codes_are_unguessable_and_never_repeat(world):
    compensation.save_offer(world["incident"], "generated", "10% off", prefix="Sorry")
    offer = compensation.offer_for(world["incident"])
    made = compensation._make_codes(offer, 2000, offer.created_at)
    texts = [c.code for c in made]
    assert len(set(texts)) == 2000
    assert all(re.fullmatch(r"SORRY-[A-HJKMNP-Z2-9]{10}", t) for t in texts)
    # The database holds the rule too: a code is unique in its organisation.
    with pytest.raises(Exception):  # noqa: B017
        DiscountCode.objects.create(org=world["org"], offer=offer, code=texts[0])


def test_a_drill_uses_test_codes_and_never_touches_the_real_list(world):
    from fallback.comms import preferences

    preferences.update_settings(world["org"], drill_recipients="drill@hartley.example")
    drill = declare(world["org"], world["mo"], title="Drill", is_exercise=True)
    offer = compensation.save_offer(drill, "list", "15% off")
    compensation.add_codes(offer, "REAL-0001\nREAL-0002")
    notice = follow_up(drill)
    notices.send(notice, world["mo"])
    [item] = OutboxItem.objects.filter(notice=notice)
    assert item.address == "drill@hartley.example" and item.is_exercise
    [given] = Compensation.objects.filter(incident=drill)
    assert given.is_exercise and given.code is None
    assert given.code_text.startswith("TEST-") and given.code_text in item.body
    assert "REAL-" not in item.body and compensation.free_codes(offer).count() == 2


def test_free_shipping_has_no_code_and_may_go_to_a_chat_room(world):
    compensation.save_offer(world["incident"], "free_shipping")
    notice = follow_up(world["incident"])
    notices.send(notice, world["mo"])
    item = OutboxItem.objects.filter(notice=notice).first()
    assert "To make up for it: free shipping on your next order." in item.body
    assert all(c.code is None and c.code_text == "" for c in Compensation.objects.all())


def test_a_key_account_on_the_call_list_gets_a_code_too_and_hears_it_by_phone(world):
    from fallback.comms import call_list, preferences

    preferences.save_key_account(world["org"], "C2", name="Brown & Co", call_dont_email=True)
    compensation.save_offer(world["incident"], "generated", "10% off", prefix="SORRY")
    notice = follow_up(world["incident"])
    notices.send(notice, world["mo"])
    brown = Compensation.objects.get(customer_key="C2")
    assert not OutboxItem.objects.filter(address="accounts@brown.example").exists()
    [row] = call_list.rows(notice)
    assert row.call.customer_key == "C2" and row.code == brown.code_text
    said = dict(call_list.script(notice))["What they can do now"]
    assert "10% off with the code on their line of the call list" in said
    assert brown.code_text in call_list.call_list_html(notice)


def test_a_personal_code_is_not_sent_to_a_chat_room(world):
    from fallback.comms import preferences

    preferences.save_channel(
        world["org"], name="Customers", kind="chat", url="json://127.0.0.1:9/", enabled=True
    )
    compensation.save_offer(world["incident"], "generated", "10% off")
    notice = follow_up(world["incident"], channels=("email", "chat"))
    with pytest.raises(NoticeError, match=r"a chat room .* is not a customer"):
        notices.send(notice, world["mo"])
    assert not Compensation.objects.exists() and not DiscountCode.objects.exists()


def test_the_checker_asks_for_an_offer_when_the_words_name_one(world):
    notice = follow_up(world["incident"])
    found = notices.findings(notice)
    assert [(f.code, f.part, f.must_fix) for f in found] == [("empty_variable", "solve", True)]
    assert "Follow up" in found[0].message
    compensation.save_offer(world["incident"], "generated", "10% off")
    assert notices.findings(notice) == []
    assert "10% off with the code SAMPLE-CODE" in notices.preview(notice).body


def test_a_follow_up_that_leaves_out_the_chosen_offer_is_questioned(world):
    compensation.save_offer(world["incident"], "free_shipping")
    notice = follow_up(world["incident"], with_offer=False)
    [found] = notices.findings(notice)
    assert (found.code, found.part, found.must_fix) == ("offer_left_out", "solve", False)
    assert "free shipping on your next order" in found.message
    staff, _ = notices.create(world["incident"], "staff", "follow_up")
    assert all(f.code != "offer_left_out" for f in notices.findings(staff))


def test_the_kind_cannot_change_once_something_was_given(world):
    compensation.save_offer(world["incident"], "generated", "10% off")
    notices.send(follow_up(world["incident"]), world["mo"])
    with pytest.raises(CompensationError, match="kind cannot change"):
        compensation.save_offer(world["incident"], "free_shipping")
    changed = compensation.save_offer(world["incident"], "generated", "12% off")
    assert changed.description == "12% off"


# ------------------------------------------------------------------ the record


def test_the_record_says_who_got_what_and_whether_it_was_sent(world):
    compensation.save_offer(world["incident"], "generated", "10% off")
    notice = follow_up(world["incident"])
    notices.send(notice, world["mo"])
    OutboxItem.objects.filter(notice=notice, address="accounts@brown.example").update(
        state=ItemState.SENT
    )
    OutboxItem.objects.filter(notice=notice, address="orders@patel.example").update(
        state=ItemState.BOUNCED
    )
    rows = {r.given.customer_key: r for r in compensation.rows(world["org"], world["incident"])}
    assert rows["C2"].message == "sent" and rows["C3"].message == "problem"
    assert rows["C1"].message == "waiting"
    text = compensation.export_csv(world["org"], world["incident"])
    lines = text.splitlines()
    assert lines[0] == ",".join(compensation.EXPORT_COLUMNS)
    assert any(line.startswith("C2,Brown & Co,") and ",sent," in line for line in lines)


def test_codes_are_marked_redeemed_one_by_one_or_from_a_pasted_list(world):
    compensation.save_offer(world["incident"], "generated", "10% off")
    notices.send(follow_up(world["incident"]), world["mo"])
    given = list(Compensation.objects.order_by("customer_key"))
    assert compensation.redeem(given[0], True, world["mo"])
    assert not compensation.redeem(given[0], True, world["mo"])
    with pytest.raises(CompensationError, match="line 2: NOPE-123 was not given"):
        compensation.redeem_codes(
            world["org"], world["incident"], f"{given[1].code_text}\nNOPE-123"
        )
    assert Compensation.objects.filter(redeemed_at__isnull=False).count() == 1
    n = compensation.redeem_codes(world["org"], world["incident"], given[1].code_text.lower())
    assert n == 1 and Compensation.objects.filter(redeemed_at__isnull=False).count() == 2


def test_another_org_s_codes_do_not_clash(world):
    other = make_org("Bravo")
    incident = declare(other, None, title="Shop down")
    ours = compensation.save_offer(world["incident"], "list", "10% off")
    theirs = compensation.save_offer(incident, "list", "10% off")
    compensation.add_codes(ours, "SAME-0001")
    assert compensation.add_codes(theirs, "SAME-0001") == 1
    assert ours.kind == theirs.kind == OfferKind.LIST


# ------------------------------------------------------------------ a killed sender

KILL_SETUP = """
import json, sys
import django
django.setup()
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
from fallback.comms import compensation, notices, preferences
from fallback.comms.tests.builders import declare, put_records
from fallback.testing.factories import make_org, make_user
port, count = int(sys.argv[1]), int(sys.argv[2])
org = make_org("Kill test")
preferences.update_settings(
    org, smtp_host="127.0.0.1", smtp_port=port, smtp_security="none",
    from_address="notices@backup.example", phone_numbers="01632 960123", email_per_second=200.0,
)
rows = [{"key": f"C{i}", "name": f"C{i}", "email": f"c{i}@example.com"} for i in range(count)]
put_records(org, "customer", rows)
incident = declare(org, None)
offer = compensation.save_offer(incident, "list", "15% off")
compensation.add_codes(offer, "\\n".join(f"K-{i:05d}" for i in range(count + 10)))
notice, _ = notices.create(incident, "all_customers", "follow_up")
notices.edit(notice, explain="What happened: a fault.", predict="What changes: a spare.",
             solve=notice.solve + " " + compensation.LEAD_IN)
sent = notices.send(notice, make_user("mo@kill.test"))
print(json.dumps({"queued": sent.enqueued.created}))
"""

KILL_STATES = """
import json
import django
django.setup()
from fallback.comms.models import Compensation, OutboxItem
items = OutboxItem.objects.select_related("compensation")
print(json.dumps({
    "items": {i.address: [i.state, i.compensation.code_text] for i in items},
    "given": Compensation.objects.count(),
}))
"""


def test_a_sender_killed_mid_follow_up_never_sends_a_code_twice_or_to_two_people(tmp_path):
    count = 300
    url = os.environ.get("DATABASE_URL", "")
    on_postgres = url.startswith(("postgres://", "postgresql://"))
    db = test_kill.fresh_database("fallback_comp_kill") if on_postgres else nullcontext()
    with db as found:
        env = test_kill._env(tmp_path, found[0] if found else None)
        with sink() as smtp:
            assert test_kill._python(KILL_SETUP, env, smtp.port, count)["queued"] == count
            first = test_kill._sender(env, tmp_path)
            try:
                deadline = time.monotonic() + 120
                while len(smtp.messages) < count // 3:
                    assert first.poll() is None and time.monotonic() < deadline
                    time.sleep(0.01)
                os.kill(first.pid, signal.SIGKILL)
                first.wait(10)
            finally:
                if first.poll() is None:
                    first.kill()
            second = test_kill._sender(env, tmp_path, "--until-done")
            try:
                assert second.wait(180) == 0, (tmp_path / "sender.log").read_text()
            finally:
                if second.poll() is None:
                    second.kill()
            received: dict[str, list[str]] = {}
            for _, rcpts, content in smtp.messages:
                body = email.message_from_bytes(content).get_payload(decode=True).decode()
                for address in rcpts:
                    received.setdefault(address, []).append(CODE.search(body).group(1))
        states = test_kill._python(KILL_STATES, env)
    assert states["given"] == count
    recorded = {a: code for a, (_, code) in states["items"].items()}
    assert len(set(recorded.values())) == count  # each code recorded for one customer
    for address, codes in received.items():
        assert codes == [recorded[address]], address  # one message, with their own code
    missing = [a for a, (state, _) in states["items"].items() if a not in received]
    assert all(states["items"][a][0] == "unknown" for a in missing)
