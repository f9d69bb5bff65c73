"""The demo's telling-people set-up: a backup mail account on a local sink, the routes
customers can use meanwhile, and a status page that publishes into the demo's data folder."""

import json

import pytest

from fallback.comms import preferences, publishing, statuspage
from fallback.demo import build_demo
from fallback.simulator.runner import Simulator

pytestmark = pytest.mark.django_db


@pytest.fixture
def sim(tmp_path):
    simulator = Simulator("127.0.0.1", 0, home=tmp_path).start()
    yield simulator
    simulator.stop()


def test_the_demo_businesses_can_tell_people_and_publish_a_status_page(sim, settings, tmp_path):
    settings.FALLBACK_HOME = tmp_path
    build_demo("a long demo password 1", sim.url, site_url="http://127.0.0.1:9090")
    from fallback.accounts.models import Organisation

    hartley = Organisation.objects.get(slug="hartley-plumbing")
    comms = preferences.settings_for(hartley)
    assert (comms.smtp_host, comms.smtp_port, comms.smtp_security) == ("127.0.0.1", 1025, "none")
    assert comms.backup_email and comms.phone_numbers.count("\n") == 1
    assert preferences.mail_ready(comms) is None
    page = statuspage.page_for(hartley)
    assert page.fallback_url == "http://127.0.0.1:9090"
    assert (
        statuspage.subscribe_url(page) == "http://127.0.0.1:9090/status/hartley-plumbing/subscribe/"
    )
    assert [c.name for c in statuspage.components(hartley)] == [
        "Orders and customer accounts",
        "Invoices and statements",
    ]
    assert publishing.publish(hartley).ok
    published = tmp_path / "status" / "hartley-plumbing"
    summary = json.loads((published / "summary.json").read_text())
    assert summary["page"]["name"] == "Hartley & Sons Plumbing Supplies status"
    build_demo("a long demo password 1", sim.url)  # again: nothing changes
    assert statuspage.page_for(hartley).fallback_url == "http://127.0.0.1:9090"
