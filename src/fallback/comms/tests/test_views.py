import re
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from fallback.accounts.roles import Role
from fallback.comms import notices, outbox, preferences, statuspage
from fallback.comms.models import (
    CallRecord,
    Channel,
    CommsSettings,
    ItemState,
    KeyAccount,
    MessageTemplate,
    Notice,
    NoticeStatus,
    OptOut,
    OutboxItem,
    Subscriber,
)
from fallback.comms.tests.builders import declare, mail_setup, put_records, sink
from fallback.incidents.tests.builders import make_system
from fallback.testing.factories import join, make_org, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    """Ann owns Hartley (Mo manages, Sid is staff, Val views); Bob owns Bravo."""
    ann, bob = make_user("ann@hartley.example"), make_user("bob@bravo.example")
    org, bravo = make_org("Hartley", owner=ann), make_org("Bravo", owner=bob)
    people = {"ann": ann, "bob": bob, "org": org, "bravo": bravo}
    for name, role in [("mo", Role.MANAGER), ("sid", Role.STAFF), ("val", Role.VIEWER)]:
        people[name] = make_user(f"{name}@hartley.example")
        join(org, people[name], role)
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
                "phone": "01632 960001",
            },
            {"key": "C2", "name": "Brown & Co", "email": "accounts@brown.example"},
        ],
    )
    people["incident"] = declare(org, ann, [make_system(org, "CloudCRM")])
    return people


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(name, org, **kwargs):
    return reverse(f"comms:{name}", kwargs={"org_slug": org.slug, **kwargs})


def page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def draft(world, audience="all_customers", phase="first_notice"):
    notice, _ = notices.create(world["incident"], audience, phase, by=world["mo"])
    return notice


def test_the_incident_page_links_to_telling_people_and_the_nav_has_notices(world):
    html = page(
        as_user(world["sid"]).get(
            reverse(
                "incidents:detail",
                kwargs={"org_slug": world["org"].slug, "incident_id": world["incident"].pk},
            )
        )
    )
    assert url("incident", world["org"], incident_id=world["incident"].pk) in html
    assert url("index", world["org"]) in html and ">Notices<" in html


def test_a_manager_composes_a_notice_from_the_incident(world):
    client = as_user(world["mo"])
    target = url("incident", world["org"], incident_id=world["incident"].pk)
    assert "Compose a notice" in page(client.get(target))
    response = client.post(
        target,
        {
            "audience": "all_customers",
            "phase": "first_notice",
            "channels": ["email"],
            "request_key": "k1",
        },
    )
    notice = Notice.objects.get()
    assert response.status_code == 302 and response["Location"] == url(
        "notice", world["org"], pk=notice.pk
    )
    client.post(
        target,
        {
            "audience": "all_customers",
            "phase": "first_notice",
            "channels": ["email"],
            "request_key": "k1",
        },
    )
    assert Notice.objects.count() == 1  # the same form twice is one notice


def test_emails_to_status_page_subscribers_do_not_make_the_next_notice_an_update(world):
    crm = world["incident"].systems.get()
    statuspage.save_components(world["org"], [(crm, "Orders", "")])
    Subscriber.objects.create(
        org=world["org"], email="pat@example.com", confirmed_at=timezone.now()
    )
    statuspage.post_update(world["incident"], "investigating", "Orders by phone meanwhile.")
    assert Notice.objects.filter(incident=world["incident"], audience="subscribers").exists()
    target = url("incident", world["org"], incident_id=world["incident"].pk)
    html = page(as_user(world["mo"]).get(target))
    assert re.search(r'<input[^>]*value="first_notice"[^>]*checked', html)
    customers = draft(world)  # once a notice has gone to customers, the next is an update
    Notice.objects.filter(pk=customers.pk).update(status=NoticeStatus.SENT)
    html = page(as_user(world["mo"]).get(target))
    assert re.search(r'<input[^>]*value="update"[^>]*checked', html)


def test_staff_see_notices_but_cannot_compose(world):
    client = as_user(world["sid"])
    target = url("incident", world["org"], incident_id=world["incident"].pk)
    assert "Compose a notice" not in page(client.get(target))
    response = client.post(
        target, {"audience": "staff", "phase": "first_notice", "channels": ["email"]}
    )
    assert response.status_code == 403 and not Notice.objects.exists()


def test_the_notice_page_shows_who_is_told_a_preview_and_the_checker(world):
    notice = draft(world)
    KeyAccount.objects.create(
        org=world["org"],
        customer_key="C2",
        name="Brown & Co",
        call_dont_email=True,
        phone="07700 900123",
    )
    html = text(page(as_user(world["mo"]).get(url("notice", world["org"], pk=notice.pk))))
    assert "1 will get it" in html and "1 to call instead" in html
    assert "Dear Sam Taylor," in html and "All five laws are there" in html
    assert "Call list: 1 key account to phone" in html


def test_saving_the_words_and_the_live_check_of_unsaved_words(world):
    notice = draft(world)
    client = as_user(world["mo"])
    fields = {
        name: getattr(notice, name)
        for name in (
            "subject",
            "notify",
            "explain",
            "solve",
            "predict",
            "apologise",
            "expected_return",
            "next_update_by",
        )
    }
    fields["channels"] = ["email"]
    live = client.post(
        url("notice-check", world["org"], pk=notice.pk),
        {**fields, "apologise": "Sorry. So sorry."},
        HTTP_HX_REQUEST="true",
    )
    html = text(page(live))
    assert "apologies" in html and "As typed, not yet saved" in html
    assert 'hx-swap-oob="true"' in live.content.decode()
    notice.refresh_from_db()
    assert notice.apologise == "We are sorry for the trouble this causes you."  # not saved
    saved = client.post(
        url("notice", world["org"], pk=notice.pk), {**fields, "expected_return": "by 3pm"}
    )
    assert saved.status_code == 302
    notice.refresh_from_db()
    assert notice.expected_return == "by 3pm"


def test_acknowledging_a_finding_then_sending_then_progress(world):
    notice = draft(world)
    notices.edit(notice, predict="We are working on it.")
    client = as_user(world["mo"])
    blocked = client.post(
        url("notice-send", world["org"], pk=notice.pk), {"send_key": "s1"}, follow=True
    )
    assert "Not sent: fix or acknowledge the findings first." in text(page(blocked))
    assert not OutboxItem.objects.exists()
    key = notices.findings(notice)[0].key
    client.post(url("notice-acknowledge", world["org"], pk=notice.pk), {"finding": [key]})
    sent = client.post(
        url("notice-send", world["org"], pk=notice.pk), {"send_key": "s1"}, follow=True
    )
    assert "2 message(s) queued" in text(page(sent))
    again = client.post(
        url("notice-send", world["org"], pk=notice.pk), {"send_key": "s1"}, follow=True
    )
    assert "already sent" in text(page(again)) and OutboxItem.objects.count() == 2
    progress = text(page(client.get(url("notice-progress", world["org"], pk=notice.pk))))
    assert "0 sent of 2" in progress and "2 waiting" in progress


def test_unknown_messages_can_be_sent_again_or_marked_sent_by_a_person(world):
    notice = draft(world)
    notices.send(notice, world["mo"])
    OutboxItem.objects.update(state=ItemState.UNKNOWN, last_error=outbox.UNKNOWN_NOTE)
    client = as_user(world["mo"])
    html = text(page(client.get(url("notice", world["org"], pk=notice.pk))))
    assert "2 may have been sent — check" in html
    client.post(url("notice-resend", world["org"], pk=notice.pk), {"state": "unknown"})
    assert set(OutboxItem.objects.values_list("state", flat=True)) == {ItemState.QUEUED}
    OutboxItem.objects.update(state=ItemState.UNKNOWN)
    client.post(url("notice-mark-sent", world["org"], pk=notice.pk))
    assert set(OutboxItem.objects.values_list("state", flat=True)) == {ItemState.SENT}


def test_stop_sending(world):
    notice = draft(world)
    notices.send(notice, world["mo"])
    as_user(world["mo"]).post(url("notice-stop", world["org"], pk=notice.pk))
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.STOPPED
    assert set(OutboxItem.objects.values_list("state", flat=True)) == {ItemState.CANCELLED}


def test_another_organisation_s_notice_is_not_found(world):
    notice = draft(world)
    client = as_user(world["bob"])
    assert client.get(url("notice", world["org"], pk=notice.pk)).status_code == 404
    assert client.get(url("notice", world["bravo"], pk=notice.pk)).status_code == 404


def test_the_call_list_records_calls_and_prints(world):
    KeyAccount.objects.create(
        org=world["org"],
        customer_key="C1",
        name="Smith Plumbing",
        contact_name="Jo Smith",
        phone="01632 960001",
    )
    notice = draft(world)
    client = as_user(world["sid"])
    html = text(page(client.get(url("calls", world["org"], pk=notice.pk))))
    assert "Smith Plumbing" in html and "Ask for Jo Smith" in html and "Tell them" in html
    response = client.post(
        url("calls", world["org"], pk=notice.pk),
        {
            "customer_key": "C1",
            "outcome": "spoke",
            "spoke_to": "Jo",
            "notes": "Fine with a call tomorrow",
            "request_key": "r1",
        },
    )
    assert response.status_code == 302
    client.post(
        url("calls", world["org"], pk=notice.pk),
        {"customer_key": "C1", "outcome": "spoke", "request_key": "r1"},
    )
    call = CallRecord.objects.get()
    assert call.recorded_by == world["sid"] and call.spoke_to == "Jo"
    printed = page(client.get(url("calls-print", world["org"], pk=notice.pk)))
    assert "Call list" in printed and "Spoke to them" in printed and "Ask for Jo Smith" in printed
    pdf = client.get(url("calls-pdf", world["org"], pk=notice.pk))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_a_viewer_cannot_record_a_call(world):
    KeyAccount.objects.create(org=world["org"], customer_key="C1", name="Smith Plumbing")
    notice = draft(world)
    response = as_user(world["val"]).post(
        url("calls", world["org"], pk=notice.pk), {"customer_key": "C1", "outcome": "spoke"}
    )
    assert response.status_code == 403 and not CallRecord.objects.exists()


def test_the_outbox_page_shows_progress_and_problems(world):
    notice = draft(world)
    notices.send(notice, world["mo"])
    OutboxItem.objects.filter(address="jo@smith.example").update(
        state=ItemState.BOUNCED, last_error="550 No such user"
    )
    html = text(page(as_user(world["val"]).get(url("outbox", world["org"]))))
    assert "1 waiting" in html and "550 No such user" in html


def test_settings_seal_the_password_and_never_show_it(world):
    client = as_user(world["mo"])
    form = {
        "smtp_host": "smtp.backup.example",
        "smtp_port": "587",
        "smtp_security": "starttls",
        "smtp_username": "hartley",
        "password": "a secret password",
        "smtp_password_env": "",
        "from_address": "notices@backup.example",
        "from_name": "Hartley",
        "reply_to": "",
        "phone_numbers": "01632 960123",
        "backup_email": "help@backup.example",
        "status_url": "",
        "usual_email": "",
        "usual_phone": "",
        "affected_window_days": "30",
        "email_per_second": "50",
        "sms_per_second": "1",
        "chat_per_second": "1",
        "stall_minutes": "5",
        "drill_recipients": "",
    }
    assert client.post(url("settings", world["org"]), form).status_code == 302
    settings = CommsSettings.objects.get(org=world["org"])
    assert settings.smtp_password_sealed.startswith("age1:")
    assert preferences.smtp_password(settings) == "a secret password"
    html = page(client.get(url("settings", world["org"])))
    assert "a secret password" not in html and "A password is stored (sealed)." in html
    bad = client.post(url("settings", world["org"]), {**form, "drill_recipients": "not anything"})
    assert bad.status_code == 400 and "neither an email address nor a phone number" in text(
        bad.content.decode()
    )


def test_staff_cannot_change_the_settings(world):
    response = as_user(world["sid"]).post(
        url("settings", world["org"]), {"smtp_host": "evil.example"}
    )
    assert response.status_code == 403


def test_send_a_test_through_the_backup_account(world):
    with sink() as smtp:
        mail_setup(world["org"], smtp.port)
        response = as_user(world["mo"]).post(
            url("settings-test", world["org"]), {"to": "mo@hartley.example"}, follow=True
        )
        assert "took the test message" in text(page(response))
        assert smtp.recipients() == {"mo@hartley.example": 1}


def test_channels_keep_their_url_secret_and_refuse_a_bad_one(world):
    client = as_user(world["mo"])
    bad = client.post(
        url("channels", world["org"]),
        {"name": "SMS", "kind": "sms", "url": "json://127.0.0.1:9/x", "enabled": "on"},
    )
    assert "{phone}" in text(page(bad)) and not Channel.objects.exists()
    client.post(
        url("channels", world["org"]),
        {
            "name": "SMS",
            "kind": "sms",
            "url": "json://user:tok3n@127.0.0.1:9/s/{phone}",
            "enabled": "on",
        },
    )
    channel = Channel.objects.get()
    html = page(client.get(url("channels", world["org"])))
    assert "tok3n" not in html and "json://…" in html
    client.post(url("channel", world["org"], pk=channel.pk), {"action": "delete"})
    assert not Channel.objects.exists()


def test_opt_outs_and_key_accounts_are_kept_from_the_pages(world):
    client = as_user(world["mo"])
    client.post(
        url("opt-outs", world["org"]),
        {"address": "JO@smith.example", "channel": "", "reason": "asked"},
    )
    opt_out = OptOut.objects.get()
    assert opt_out.address == "jo@smith.example"
    bad = client.post(url("opt-outs", world["org"]), {"address": "nonsense", "channel": ""})
    assert "neither an email address nor a phone number" in text(page(bad))
    client.post(url("opt-outs", world["org"]), {"remove": opt_out.pk})
    assert not OptOut.objects.exists()
    client.post(
        url("key-accounts", world["org"]),
        {"customer_key": "C1", "call_dont_email": "on", "phone": "", "contact_name": "Jo"},
    )
    account = KeyAccount.objects.get()
    assert account.name == "Smith Plumbing" and account.call_dont_email
    unknown = client.post(url("key-accounts", world["org"]), {"customer_key": "C99"})
    assert "No customer 'C99'" in text(page(unknown))


def test_templates_are_seeded_and_edited(world):
    client = as_user(world["mo"])
    html = text(page(client.get(url("templates", world["org"]))))
    assert MessageTemplate.objects.filter(org=world["org"]).count() == 20
    assert "Follow-up apology" in html
    template = MessageTemplate.objects.get(org=world["org"], audience="staff", phase="first_notice")
    fields = {
        name: getattr(template, name)
        for name in ("subject", "notify", "explain", "solve", "predict", "apologise")
    }
    client.post(
        url("template", world["org"], pk=template.pk),
        {**fields, "subject": "Fallback mode: {{ systems }} is down"},
    )
    template.refresh_from_db()
    assert template.subject == "Fallback mode: {{ systems }} is down"
    notice, _ = notices.create(world["incident"], "staff", "first_notice")
    assert notice.subject == "Fallback mode: {{ systems }} is down"


def test_the_notices_index_lists_open_incidents_and_recent_notices(world):
    draft(world)
    html = text(page(as_user(world["val"]).get(url("index", world["org"]))))
    assert "Tell people about “CloudCRM is down”" in html and "First notice" in html


def test_the_dashboard_card_shows_what_is_waiting_and_what_needs_a_look(world):
    client = as_user(world["val"])
    dashboard = page(client.get(reverse("front:dashboard", kwargs={"org_slug": world["org"].slug})))
    assert url("card", world["org"]) in dashboard
    assert "Nothing sent yet" in text(page(client.get(url("card", world["org"]))))
    notice = draft(world)
    notices.send(notice, world["mo"])
    OutboxItem.objects.filter(address="jo@smith.example").update(state=ItemState.UNKNOWN)
    html = text(page(client.get(url("card", world["org"]))))
    assert "1 message waiting to go" in html and "1 failed, bounced or may have been sent" in html


def test_the_template_editor_lists_the_variables(world):
    client = as_user(world["mo"])
    client.get(url("templates", world["org"]))
    template = MessageTemplate.objects.filter(org=world["org"]).first()
    html = page(client.get(url("template", world["org"], pk=template.pk)))
    assert "{{ alternate_routes }}" in unescape(html) and "Save template" in html
