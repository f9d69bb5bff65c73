import pytest
from typer.testing import CliRunner

from fallback.cli.app import app
from fallback.comms import notices
from fallback.comms.models import ItemState, OutboxItem
from fallback.comms.tests.builders import declare, mail_setup, put_records, sink
from fallback.testing.factories import make_org, make_user

runner = CliRunner()


def queued_notice(port):
    org = make_org("Hartley")
    mail_setup(org, port)
    put_records(
        org,
        "customer",
        [{"key": f"C{i}", "name": f"C{i}", "email": f"c{i}@example.com"} for i in range(5)],
    )
    notice, _ = notices.create(declare(org), "all_customers", "first_notice")
    notices.send(notice, make_user("mo@hartley.example"))
    return org, notice


@pytest.mark.django_db(transaction=True)
def test_send_until_done_sends_the_outbox_and_says_how_it_went():
    with sink() as smtp:
        queued_notice(smtp.port)
        result = runner.invoke(app, ["comms", "send", "--until-done", "--threads", "2"])
        assert result.exit_code == 0, result.output
        assert "sent 5" in result.output and "stopped" in result.output
        assert len(smtp.messages) == 5
    assert set(OutboxItem.objects.values_list("state", flat=True)) == {ItemState.SENT}


@pytest.mark.django_db
def test_outbox_shows_each_notice_s_progress():
    org, notice = queued_notice(2525)
    OutboxItem.objects.filter(address="c0@example.com").update(state=ItemState.UNKNOWN)
    result = runner.invoke(app, ["comms", "outbox", "--org", org.slug])
    assert result.exit_code == 0, result.output
    assert f"#{notice.pk}" in result.output and "0 / 5" in result.output
    assert "Unknown" in result.output


@pytest.mark.django_db
def test_outbox_of_an_unknown_organisation_is_bad_input():
    result = runner.invoke(app, ["comms", "outbox", "--org", "nope"])
    assert result.exit_code == 2 and "No organisation nope" in result.output


@pytest.mark.django_db
def test_outbox_with_nothing_sent_says_so():
    make_org("Empty")
    result = runner.invoke(app, ["comms", "outbox"])
    assert result.exit_code == 0 and "Nothing has been sent yet" in result.output


@pytest.mark.django_db
def test_status_page_writes_the_page_and_publishes_it(tmp_path):
    from fallback.comms import statuspage
    from fallback.incidents.tests.builders import make_system

    org = make_org("Hartley")
    crm = make_system(org, "CloudCRM")
    statuspage.update_page(org, folder_path=str(tmp_path / "published"))
    statuspage.save_components(org, [(crm, "Orders", "")])
    incident = declare(org, systems=[crm])
    statuspage.post_update(incident, "identified", "Disk failed.")
    result = runner.invoke(
        app, ["comms", "status-page", org.slug, "-o", str(tmp_path / "out"), "--publish"]
    )
    assert result.exit_code == 0, result.output
    assert "Orders: partial outage" in result.output and "identified" in result.output
    assert (tmp_path / "out" / "index.html").exists()
    assert b"Disk failed." in (tmp_path / "published" / "summary.json").read_bytes()
    assert "Published to folder" in result.output


@pytest.mark.django_db
def test_status_page_that_cannot_be_published_fails(tmp_path):
    org = make_org("Hartley")
    result = runner.invoke(app, ["comms", "status-page", org.slug, "--publish"])
    assert result.exit_code == 1 and "Nowhere to publish" in result.output
    assert runner.invoke(app, ["comms", "status-page", "nope"]).exit_code == 2


@pytest.mark.django_db
def test_status_page_writes_a_drill_preview_only_where_asked(tmp_path):
    from fallback.comms import statuspage
    from fallback.incidents.tests.builders import make_system

    org = make_org("Hartley")
    crm = make_system(org, "CloudCRM")
    statuspage.save_components(org, [(crm, "Orders", "")])
    drill = declare(org, systems=[crm], is_exercise=True, title="Practice outage")
    statuspage.post_update(drill, "identified", "Drill words.")
    out = tmp_path / "preview"
    result = runner.invoke(app, ["comms", "status-page", org.slug, "-o", str(out), "--exercise"])
    assert result.exit_code == 0, result.output
    assert b"EXERCISE PREVIEW" in (out / "index.html").read_bytes()
    refused = runner.invoke(app, ["comms", "status-page", org.slug, "--exercise", "--publish"])
    assert refused.exit_code == 2
    assert b"Practice" not in statuspage.render_html(org, statuspage.summary(org))
