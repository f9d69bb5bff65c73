"""Email through the backup account, against a real SMTP server on loopback (aiosmtpd)."""

import ssl
from email import message_from_bytes
from email.policy import default

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from fallback.comms import mail, preferences
from fallback.comms.models import OutboxItem
from fallback.comms.preferences import MailSetupError
from fallback.comms.tests.builders import Sink, free_port, sink
from fallback.testing.factories import make_org

pytestmark = pytest.mark.django_db


def item(org, address="jo@smith.example", pk=7, **fields):
    fields.setdefault("subject", "CloudCRM is down")
    fields.setdefault("body", "Dear Jo,\n\n.A line starting with a dot.\nCall 01632 960123.\n")
    return OutboxItem(
        org=org,
        notice_id=3,
        pk=pk,
        channel="email",
        address=address,
        recipient_name="Jo Smith",
        **fields,
    )


def account(port, **extra):
    values = dict(
        host="127.0.0.1",
        port=port,
        security="none",
        username="",
        password="",
        from_address="notices@backup.example",
        from_name="Hartley",
        reply_to="help@backup.example",
    )
    values.update(extra)
    return mail.Account(**values)


@pytest.fixture
def org():
    return make_org("Hartley")


@pytest.fixture
def smtp():
    with sink() as s:
        yield s


def test_a_message_is_delivered_with_its_deterministic_message_id(org, smtp):
    connection = mail.MailConnection(account(smtp.port))
    msg = item(org)
    msg_id = mail.message_id(msg, "backup.example")
    assert (
        msg_id
        == f"<fallback.{org.pk}.3.7@backup.example>"
        == mail.message_id(msg, "backup.example")
    )
    handed = []

    def hand_over(finish):
        handed.append(True)
        return mail.at_once(finish)

    outcome = connection.deliver(msg, msg_id, hand_over)
    connection.close()
    assert outcome.kind == mail.SENT and outcome.reply.startswith("250")
    assert handed == [True]
    [(sender, rcpts, content)] = smtp.messages
    assert sender == "notices@backup.example" and rcpts == ["jo@smith.example"]
    email = message_from_bytes(content, policy=default)
    assert email["Message-ID"] == msg_id and email["Reply-To"] == "help@backup.example"
    assert email["To"] == "Jo Smith <jo@smith.example>" and email["Subject"] == "CloudCRM is down"
    # The leading dot survived dot-stuffing.
    assert email.get_content().replace("\r\n", "\n") == msg.body


def test_one_connection_carries_many_messages(org, smtp):
    connection = mail.MailConnection(account(smtp.port))
    for n in range(5):
        assert connection.deliver(item(org, f"p{n}@x.example", pk=n), f"<{n}@x>", mail.at_once).ok
    first = connection.smtp
    assert connection.deliver(item(org, "last@x.example", pk=9), "<9@x>", mail.at_once).ok
    assert connection.smtp is first
    connection.close()
    assert len(smtp.messages) == 6


def test_a_refused_recipient_is_a_bounce_with_the_server_s_words(org, smtp):
    smtp.refuse["nobody@x.example"] = "550 5.1.1 No such user here"
    connection = mail.MailConnection(account(smtp.port))
    outcome = connection.deliver(item(org, "nobody@x.example"), "<1@x>", mail.at_once)
    assert outcome.kind == mail.BOUNCED and outcome.reply == "550 5.1.1 No such user here"
    # The session goes on: the next message is sent on it.
    assert connection.deliver(item(org), "<2@x>", mail.at_once).ok
    connection.close()


def test_a_temporary_refusal_is_retried(org, smtp):
    smtp.refuse["busy@x.example"] = "451 4.7.1 Try again later"
    outcome = mail.MailConnection(account(smtp.port)).deliver(
        item(org, "busy@x.example"), "<1@x>", mail.at_once
    )
    assert outcome.kind == mail.RETRY and outcome.reply.startswith("451")


def test_a_refusal_after_the_message_is_a_failure(org, smtp):
    smtp.data_reply = "554 5.6.0 Message rejected"
    outcome = mail.MailConnection(account(smtp.port)).deliver(item(org), "<1@x>", mail.at_once)
    assert outcome.kind == mail.FAILED and "Message rejected" in outcome.reply


def test_a_server_that_cannot_be_reached_is_retried(org):
    outcome = mail.MailConnection(account(free_port())).deliver(item(org), "<1@x>", mail.at_once)
    assert outcome.kind == mail.RETRY and "Cannot talk to 127.0.0.1" in outcome.reply


def test_when_the_item_is_taken_away_before_the_final_dot_nothing_is_delivered(org, smtp):
    connection = mail.MailConnection(account(smtp.port))
    outcome = connection.deliver(item(org), "<1@x>", lambda finish: False)
    assert outcome.kind == mail.SKIPPED
    assert connection.deliver(item(org, "next@x.example"), "<2@x>", mail.at_once).ok
    connection.close()
    assert [r for _, rcpts, _ in smtp.messages for r in rcpts] == ["next@x.example"]


def test_a_connection_the_server_closed_while_idle_is_opened_again(org):
    port = free_port()
    first = Sink()
    first.controller = Controller(first, hostname="127.0.0.1", port=port)
    first.controller.start()
    connection = mail.MailConnection(account(port))
    assert connection.deliver(item(org), "<1@x>", mail.at_once).ok
    first.controller.stop()  # the server goes away: the kept connection is dead
    second = Sink()
    second.controller = Controller(second, hostname="127.0.0.1", port=port)
    second.controller.start()
    try:
        assert connection.deliver(item(org, "again@x.example"), "<2@x>", mail.at_once).ok
    finally:
        connection.close()
        second.controller.stop()
    assert second.recipients() == {"again@x.example": 1}


class Authenticator:
    def __init__(self, user, password):
        self.user, self.password = user.encode(), password.encode()

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            self.user,
            self.password,
        )
        return AuthResult(success=ok, handled=False)


@pytest.fixture
def tls_sink(monkeypatch):
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)

    def trusting():
        context = ssl.create_default_context()
        ca.configure_trust(context)
        return context

    monkeypatch.setattr(mail, "tls_context", trusting)
    box = Sink()
    box.controller = Controller(
        box,
        hostname="127.0.0.1",
        port=box.port,
        tls_context=server_context,
        require_starttls=True,
        auth_required=True,
        authenticator=Authenticator("hartley", "s3cret pass"),
        auth_exclude_mechanism=["LOGIN"],
    )
    box.controller.start()
    yield box
    box.controller.stop()


def test_starttls_and_a_login_with_the_password_from_an_environment_variable(
    org, tls_sink, monkeypatch
):
    monkeypatch.setenv("HARTLEY_MAIL_PASSWORD", "s3cret pass")
    preferences.update_settings(
        org,
        smtp_host="127.0.0.1",
        smtp_port=tls_sink.port,
        smtp_security="starttls",
        smtp_username="hartley",
        smtp_password_env="HARTLEY_MAIL_PASSWORD",
        from_address="notices@backup.example",
    )
    settings = preferences.settings_for(org)
    assert mail.send_test(settings, "ann@hartley.example") is None
    assert tls_sink.recipients() == {"ann@hartley.example": 1}


def test_a_sealed_password_works_and_a_wrong_one_is_a_failure_not_a_retry(org, tls_sink):
    preferences.update_settings(
        org,
        smtp_host="127.0.0.1",
        smtp_port=tls_sink.port,
        smtp_security="starttls",
        smtp_username="hartley",
        from_address="notices@backup.example",
        password="s3cret pass",
    )
    settings = preferences.settings_for(org)
    assert settings.smtp_password_sealed.startswith("age1:")
    assert mail.send_test(settings, "ann@hartley.example") is None
    preferences.update_settings(org, password="wrong")
    error = mail.send_test(preferences.settings_for(org), "ann@hartley.example")
    assert error.startswith("failed: The mail server refused the login")


def test_a_missing_environment_variable_says_which(org, monkeypatch):
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    preferences.update_settings(
        org,
        smtp_host="127.0.0.1",
        smtp_username="x",
        smtp_password_env="NOT_SET_ANYWHERE",
        from_address="notices@backup.example",
    )
    with pytest.raises(MailSetupError, match="NOT_SET_ANYWHERE"):
        mail.account_for(preferences.settings_for(org))


def test_names_and_subjects_beyond_ascii_are_encoded_and_read_back(org, smtp):
    connection = mail.MailConnection(account(smtp.port, from_name="Zoë's Bakery"))
    msg = item(org, subject="Problème: £5 delivery", body="Coût: 5 €\n")
    msg.recipient_name = "Siân Öztürk"
    assert connection.deliver(msg, "<1@x>", mail.at_once).ok
    connection.close()
    email = message_from_bytes(smtp.messages[0][2], policy=default)
    assert email["Subject"] == "Problème: £5 delivery"
    assert str(email["To"]) == "Siân Öztürk <jo@smith.example>"
    assert str(email["From"]) == "Zoë's Bakery <notices@backup.example>"
    assert email.get_content().replace("\r\n", "\n") == "Coût: 5 €\n"


def test_a_long_subject_beyond_ascii_is_split_into_encoded_words_that_read_back(org, smtp):
    subject = "Hartley & Söhne: CloudCRM ist ausgefallen — so erreichen Sie uns jetzt, bitte"
    connection = mail.MailConnection(account(smtp.port))
    assert connection.deliver(item(org, subject=subject), "<1@x>", mail.at_once).ok
    connection.close()
    raw = smtp.messages[0][2]
    header = raw.split(b"\r\n\r\n")[0].decode("ascii")
    assert all(len(line) <= 78 for line in header.split("\r\n"))
    assert message_from_bytes(raw, policy=default)["Subject"] == subject
