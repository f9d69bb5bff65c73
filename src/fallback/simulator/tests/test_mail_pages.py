"""The Mail pages: the list, one message with its links clickable, and the JSON."""

from __future__ import annotations

import json

from fallback.simulator.mail_pages import linked
from fallback.simulator.runner import Simulator
from fallback.simulator.tests.client import call

CONFIRM = "http://127.0.0.1:8080/status/hartley-plumbing/confirm/abc.def-1_2/"
UNSUBSCRIBE = "http://127.0.0.1:8080/status/hartley-plumbing/unsubscribe/xyz/"
CONFIRMATION = (
    "From: Hartley & Sons <notices@hartley-backup.test>\r\n"
    "To: sam@subscriber.test\r\n"
    "Subject: Confirm your subscription to Hartley <status>\r\n"
    f"List-Unsubscribe: <{UNSUBSCRIBE}>\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    f"To start them, open this link and press Confirm:\r\n{CONFIRM}\r\n"
    "<script>alert(1)</script> (see https://example.test/a?b=1&c=2).\r\n"
).encode()


def keep(sim: Simulator) -> int:
    mailbox = sim.service.mailbox
    return mailbox.keep("notices@hartley-backup.test", ["sam@subscriber.test"], CONFIRMATION).number


def test_the_mail_page_lists_time_from_to_and_subject_newest_first(sim):
    keep(sim)
    second = sim.service.mailbox.keep("a@x.test", ["b@x.test"], b"Subject: Second\r\n\r\nHi\r\n")
    page = call(sim.url + "/mail").body.decode()
    assert page.index("Second") < page.index("Confirm your subscription to Hartley &lt;status&gt;")
    assert f"<a href=/mail/{second.number}>Second</a>" in page
    assert "Hartley &amp; Sons &lt;notices@hartley-backup.test&gt;" in page
    assert "<td>sam@subscriber.test</td>" in page
    assert f"{second.at:%Y-%m-%d %H:%M:%S}" in page


def test_a_message_shows_its_headers_and_text_with_the_links_clickable(sim):
    number = keep(sim)
    reply = call(sim.url + f"/mail/{number}")
    page = reply.body.decode()
    assert reply.status == 200
    assert f'<a href="{CONFIRM}" rel="noreferrer">{CONFIRM}</a>' in page
    assert f'<a href="{UNSUBSCRIBE}" rel="noreferrer">' in page  # in List-Unsubscribe
    assert '<a href="https://example.test/a?b=1&amp;c=2" rel="noreferrer">' in page
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<th>List-Unsubscribe</th>" in page


def test_a_message_no_longer_kept_is_404(sim):
    reply = call(sim.url + "/mail/99")
    assert reply.status == 404 and "No message 99" in reply.body.decode()


def test_the_json_lists_the_messages_with_their_text(sim):
    number = keep(sim)
    data = json.loads(call(sim.url + "/mail.json").body)
    assert data["received"] == 1 and data["kept"] == 1
    [message] = data["messages"]
    assert message["id"] == number
    assert message["rcpt_tos"] == ["sam@subscriber.test"]
    assert message["subject"] == "Confirm your subscription to Hartley <status>"
    assert CONFIRM in message["text"]


def test_every_page_links_to_the_mail_page_and_the_alerts_page_says_why(sim):
    for path in ("/", "/status", "/alerts", "/mail"):
        assert "<a href=/mail>Mail</a>" in call(sim.url + path).body.decode()
    assert "email to customers and subscribers is on the" in call(sim.url + "/alerts").body.decode()


def test_linked_escapes_everything_and_links_only_web_addresses():
    assert linked('x <a href="javascript:alert(1)"> y') == (
        "x &lt;a href=&quot;javascript:alert(1)&quot;&gt; y"
    )
    assert linked("see http://a.test/x).") == (
        'see <a href="http://a.test/x" rel="noreferrer">http://a.test/x</a>).'
    )
