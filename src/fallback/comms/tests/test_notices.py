import pytest

from fallback.accounts.roles import Role
from fallback.audit.models import AuditEvent
from fallback.comms import notices, preferences
from fallback.comms.models import ItemState, MessageTemplate, Notice, NoticeStatus, OutboxItem
from fallback.comms.notices import NoticeBlocked, NoticeError
from fallback.comms.tests.builders import declare, mail_setup, put_records
from fallback.incidents.models import EntryKind, TimelineEntry
from fallback.incidents.tests.builders import make_system
from fallback.monitor.models import SystemKind
from fallback.testing.factories import join, make_org, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    ann = make_user("ann@hartley.example")
    org = make_org("Hartley Supplies", owner=ann)
    mo = make_user("mo@hartley.example")
    join(org, mo, Role.MANAGER)
    mail_setup(org, 2525)
    put_records(
        org,
        "customer",
        [
            {
                "key": "C1",
                "name": "Smith Plumbing",
                "contact_name": "Jo Smith",
                "email": "jo@smith.example",
            },
            {"key": "C2", "name": "Brown & Co", "email": "accounts@brown.example"},
        ],
    )
    incident = declare(org, ann, [make_system(org, "CloudCRM")])
    return {"ann": ann, "mo": mo, "org": org, "incident": incident}


def ready(notice):
    """Fill the gaps the default update and follow-up templates leave for a person."""
    notices.edit(notice, explain="The provider's database failed; they are restoring it.")
    return notice


def test_a_notice_starts_from_the_organisation_s_template_seeded_on_first_use(world):
    notice, created = notices.create(
        world["incident"], "all_customers", "first_notice", by=world["ann"]
    )
    assert created and notice.status == NoticeStatus.DRAFT
    template = MessageTemplate.objects.get(
        org=world["org"], audience="all_customers", phase="first_notice"
    )
    assert notice.subject == template.subject and notice.solve == template.solve
    assert notice.next_update_by  # a promise to start from
    assert notices.findings(notice) == []


def test_the_same_request_key_makes_one_notice(world):
    first, made = notices.create(world["incident"], "staff", "first_notice", request_key="k-1")
    again, made_again = notices.create(
        world["incident"], "staff", "first_notice", request_key="k-1"
    )
    assert made and not made_again and first.pk == again.pk
    assert Notice.objects.filter(org=world["org"]).count() == 1


def test_unknown_audience_phase_or_channel_is_refused(world):
    with pytest.raises(ValueError, match="unknown audience"):
        notices.create(world["incident"], "everyone", "first_notice")
    with pytest.raises(NoticeError, match="Unknown phase"):
        notices.create(world["incident"], "staff", "later")
    with pytest.raises(NoticeError, match="Unknown channel"):
        notices.create(world["incident"], "staff", "first_notice", ["fax"])
    assert not Notice.objects.exists()


def test_sending_puts_one_message_per_recipient_in_the_outbox_and_notes_it(world):
    notice, _ = notices.create(world["incident"], "all_customers", "first_notice")
    sent = notices.send(notice, world["mo"], send_key="s1")
    assert sent.enqueued.created == 2 and not sent.repeated
    items = OutboxItem.objects.filter(notice=notice).order_by("address")
    assert [i.address for i in items] == ["accounts@brown.example", "jo@smith.example"]
    jo = items[1]
    assert jo.body.startswith("Dear Jo Smith,") and "01632 960123" in jo.body
    assert "{{" not in jo.body and jo.state == ItemState.QUEUED and not jo.is_exercise
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.SENT and notice.sent_by == world["mo"]
    assert notice.counts["channels"]["email"]["targets"] == 2
    entry = TimelineEntry.objects.get(incident=world["incident"], kind=EntryKind.NOTE)
    assert "2 emails" in entry.text and "all customers" in entry.text
    assert AuditEvent.objects.filter(action="comms.notice.sent").exists()


def test_sending_twice_sends_nothing_more(world):
    notice, _ = notices.create(world["incident"], "all_customers", "first_notice")
    notices.send(notice, world["mo"], send_key="s1")
    again = notices.send(Notice.objects.get(pk=notice.pk), world["mo"], send_key="s1")
    assert again.repeated and OutboxItem.objects.filter(notice=notice).count() == 2


def test_findings_block_sending_until_fixed_or_acknowledged(world):
    notice, _ = notices.create(world["incident"], "all_customers", "first_notice")
    notices.edit(notice, predict="We are working on it.")
    with pytest.raises(NoticeBlocked) as blocked:
        notices.send(notice, world["mo"])
    assert [f.code for f in blocked.value.findings] == ["no_next_update"]
    assert not OutboxItem.objects.exists()
    key = blocked.value.findings[0].key
    notices.acknowledge(notice, [key], world["mo"])
    notice.refresh_from_db()
    assert notice.acknowledged == [key] and notice.acknowledged_by == world["mo"]
    assert notices.send(notice, world["mo"]).enqueued.created == 2


def test_changing_the_words_clears_what_was_acknowledged(world):
    notice, _ = notices.create(world["incident"], "all_customers", "first_notice")
    notices.edit(notice, predict="We are working on it.")
    notices.acknowledge(notice, [notices.findings(notice)[0].key], world["mo"])
    notices.edit(notice, predict="We are still working on it.")
    assert notice.acknowledged == []


def test_a_finding_that_must_be_fixed_cannot_be_acknowledged(world):
    notice, _ = notices.create(world["incident"], "all_customers", "update")
    placeholder = next(f for f in notices.findings(notice) if f.code == "placeholder")
    with pytest.raises(NoticeError, match="must be fixed"):
        notices.acknowledge(notice, [placeholder.key], world["mo"])
    ready(notice)
    assert notices.findings(notice) == []


def test_email_down_needs_an_alternate_route_in_solve(world):
    mailsys = make_system(world["org"], "Office 365", kind=SystemKind.EMAIL)
    preferences.update_settings(world["org"], email_systems=[mailsys])
    incident = declare(world["org"], world["ann"], [mailsys], title="Email is down")
    notice, _ = notices.create(incident, "all_customers", "first_notice")
    assert notices.findings(notice) == []  # the default Solve gives the phone number
    notices.edit(notice, solve="Your orders stand. Write to office@hartley.example as usual.")
    assert [f.code for f in notices.findings(notice)] == ["no_alternate_route"]


def test_a_sent_notice_cannot_be_edited(world):
    notice, _ = notices.create(world["incident"], "staff", "first_notice")
    notices.send(notice, world["mo"])
    with pytest.raises(NoticeError, match="sent already"):
        notices.edit(notice, subject="Changed")


def test_email_notices_need_the_backup_mail_account(world):
    org = make_org("No Mail")
    notice, _ = notices.create(declare(org), "staff", "first_notice")
    preferences.update_settings(org, phone_numbers="01632 960123")
    with pytest.raises(NoticeError, match="backup mail server"):
        notices.send(notice)


def test_stopping_cancels_what_is_not_handed_over_and_resending_failed_ones(world):
    notice, _ = notices.create(world["incident"], "all_customers", "first_notice")
    notices.send(notice, world["mo"])
    first = OutboxItem.objects.filter(notice=notice).order_by("pk").first()
    OutboxItem.objects.filter(pk=first.pk).update(state=ItemState.FAILED)
    assert notices.stop(notice, world["mo"]) == 1
    assert notice.status == NoticeStatus.STOPPED
    assert notices.resend(notice, ["failed"], world["mo"]) == 1
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.SENT
    assert OutboxItem.objects.get(pk=first.pk).state == ItemState.QUEUED


def test_preview_is_one_message_as_a_recipient_gets_it(world):
    notice, _ = notices.create(world["incident"], "all_customers", "first_notice")
    message = notices.preview(notice)
    assert message.subject == "Hartley Supplies: CloudCRM is down — how to reach us now"
    assert message.body.startswith("Dear Sam Taylor,")


def test_the_notice_s_facts_fill_its_words(world):
    notice, _ = notices.create(world["incident"], "all_customers", "first_notice")
    notices.edit(notice, expected_return="by 3pm today", next_update_by="1pm today")
    body = notices.preview(notice).body
    assert "Expected back: by 3pm today." in body and "Next update by 1pm today" in body
