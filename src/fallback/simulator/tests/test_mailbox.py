"""The SMTP sink: a real aiosmtpd server in the simulator's loop, spoken to with smtplib."""

from __future__ import annotations

import smtplib
import socket

import pytest

from fallback.simulator import control
from fallback.simulator.mailbox import Mailbox
from fallback.simulator.runner import Simulator
from fallback.simulator.tests.client import call

NOTICE = (
    "From: Hartley & Sons <notices@hartley-backup.test>\r\n"
    "To: Ann <ann@customer.test>\r\n"
    "Subject: =?utf-8?b?Q2xvdWRDUk0gaXMgZG93biDigJQgb3JkZXJzIGJ5IHBob25l?=\r\n"
    "Message-ID: <fallback.1.2.3@hartley-backup.test>\r\n"
    'Content-Type: text/plain; charset="utf-8"\r\n'
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "Call us on 01632 960123 =E2=80=94 caf=C3=A9 hours.\r\n"
)


@pytest.fixture
def mailsim(tmp_path):
    simulator = Simulator("127.0.0.1", 0, home=tmp_path, smtp_port=0).start()
    yield simulator
    simulator.stop()


def send(sim: Simulator, to: list[str], message: str = NOTICE) -> dict:
    with smtplib.SMTP("127.0.0.1", sim.smtp_port, timeout=5) as client:
        return client.sendmail("notices@hartley-backup.test", to, message.encode())


def test_the_sink_keeps_a_message_with_its_envelope_and_decoded_headers(mailsim):
    assert send(mailsim, ["ann@customer.test", "bob@customer.test"]) == {}
    [mail] = mailsim.service.mailbox.mails()
    assert mail.number == 1
    assert mail.mail_from == "notices@hartley-backup.test"
    assert mail.rcpt_tos == ("ann@customer.test", "bob@customer.test")
    assert mail.header("Subject") == "CloudCRM is down — orders by phone"
    assert mail.text() == "Call us on 01632 960123 — café hours.\n"
    assert control.status(mailsim.url)["mail"] == {
        "listening": f"127.0.0.1:{mailsim.smtp_port}",
        "problem": None,
        "received": 1,
        "kept": 1,
    }


def test_only_the_last_messages_are_kept_newest_first():
    mailbox = Mailbox(kept=3)
    for n in range(5):
        mailbox.keep("a@x.test", [f"r{n}@x.test"], NOTICE.encode())
    assert [m.rcpt_tos[0] for m in mailbox.mails()] == ["r4@x.test", "r3@x.test", "r2@x.test"]
    assert mailbox.received == 5 and mailbox.get(1) is None and mailbox.get(5) is not None


def test_mail_down_refuses_every_recipient_for_now_and_keeps_nothing(mailsim):
    control.set_fault(mailsim.url, "mail-down")
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(mailsim, ["ann@customer.test"])
    code, words = refused.value.recipients["ann@customer.test"]
    assert code == 451 and b"mail_down" in words
    assert mailsim.service.mailbox.mails() == []
    control.clear_fault(mailsim.url, "mail_down")
    assert send(mailsim, ["ann@customer.test"]) == {}
    assert len(mailsim.service.mailbox.mails()) == 1


def test_mail_reject_refuses_every_recipient_for_good(mailsim):
    control.set_fault(mailsim.url, "mail_reject")
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(mailsim, ["ann@customer.test"])
    assert refused.value.recipients["ann@customer.test"][0] == 550


def test_a_message_over_the_size_limit_is_refused(mailsim):
    big = NOTICE + "x" * 70 + "\r\n"
    big = big * (1024 * 1024 // len(big) + 1)
    with pytest.raises(smtplib.SMTPException):
        send(mailsim, ["ann@customer.test"], big)
    assert mailsim.service.mailbox.mails() == []


def test_a_taken_smtp_port_leaves_the_sink_off_and_the_http_side_serving(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        simulator = Simulator("127.0.0.1", 0, smtp_port=port).start()
        try:
            assert simulator.smtp_problem == f"cannot listen on 127.0.0.1:{port}: the port is taken"
            assert call(simulator.url + "/health").status == 200
            page = call(simulator.url + "/mail").body.decode()
            assert "The SMTP sink is not listening:" in page and "the port is taken" in page
            assert control.status(simulator.url)["mail"]["listening"] is None
        finally:
            simulator.stop()


def test_without_a_port_there_is_no_sink(sim):
    assert sim.service.mailbox.state()["listening"] is None
    assert "switched off" in call(sim.url + "/mail").body.decode()
