"""Publishing the status page: a folder written atomically (readers never see half a page),
an S3 bucket on a real S3 server (moto in server mode, on loopback) with the right headers,
the background job that claims a due page once, and failures recorded and alerted."""

import json
import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from fallback import sealing
from fallback.comms import publishing, statuspage
from fallback.comms.tests.builders import declare
from fallback.incidents import channels
from fallback.incidents.models import AlertDelivery, AlertEvent
from fallback.incidents.tests.builders import make_system
from fallback.testing.factories import make_org, make_user
from fallback.vault.tests.conftest import Moto, moto_url  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tmp_path):
    ann = make_user("ann@hartley.example")
    org = make_org("Hartley Supplies", owner=ann)
    crm = make_system(org, "CloudCRM")
    statuspage.update_page(org, folder_path=str(tmp_path / "site" / "status"))
    statuspage.save_components(org, [(crm, "Orders", "")])
    channels.create_channel(org, name="Office", url="json://127.0.0.1:9/alerts")
    return {"ann": ann, "org": org, "crm": crm, "folder": tmp_path / "site" / "status"}


def test_publishing_writes_both_files_into_the_folder(world):
    incident = declare(world["org"], world["ann"], [world["crm"]])
    statuspage.post_update(incident, "identified", "The host's disk failed.")
    result = publishing.publish(world["org"])
    assert result.ok and result.places == [f"folder {world['folder']}"]
    data = json.loads((world["folder"] / "summary.json").read_text())
    assert data["incidents"][0]["incident_updates"][0]["body"] == "The host's disk failed."
    html = (world["folder"] / "index.html").read_text()
    assert "The host&#x27;s disk failed." in html
    assert sorted(p.name for p in world["folder"].iterdir()) == ["index.html", "summary.json"]
    page = statuspage.page_for(world["org"])
    assert page.published_at and page.published_digest == result.digest and not page.last_error


def test_a_reader_never_sees_half_a_page(world):
    publishing.publish(world["org"])
    index = world["folder"] / "index.html"
    stop = threading.Event()
    torn = []

    def read():
        while not stop.is_set():
            text = index.read_bytes()
            if not text.rstrip().endswith(b"</html>"):
                torn.append(len(text))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for i in range(40):
            made = {
                "summary.json": b"{}\n",
                "index.html": b"<html>" + b"x" * (200_000 + i * 997) + b"</html>\n",
            }
            publishing.to_folder(world["folder"], made)
    finally:
        stop.set()
        reader.join()
    assert torn == []


def test_a_failed_write_leaves_the_old_page_and_no_temporary_file(world, monkeypatch):
    publishing.publish(world["org"])
    before = (world["folder"] / "index.html").read_bytes()
    incident = declare(world["org"], world["ann"], [world["crm"]])
    statuspage.post_update(incident, "identified", "New words.")

    def full_disk(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(publishing.os, "fsync", full_disk)
    result = publishing.publish(world["org"])
    assert not result.ok and "No space left on device" in result.errors[0]
    assert (world["folder"] / "index.html").read_bytes() == before
    assert sorted(p.name for p in world["folder"].iterdir()) == ["index.html", "summary.json"]
    page = statuspage.page_for(world["org"])
    assert "No space left on device" in page.last_error and page.publish_attempts == 1
    title = "[Hartley Supplies] The status page could not be published"
    [alert] = AlertDelivery.objects.filter(org=world["org"], title=title)
    assert alert.event == AlertEvent.STATUS_PAGE_FAILED
    publishing.publish(world["org"])  # fails again: the same run of failures, one alert
    assert AlertDelivery.objects.filter(org=world["org"], title=title).count() == 1


def test_the_job_publishes_a_due_page_once_and_keeps_a_change_made_meanwhile(world):
    assert statuspage.page_for(world["org"]).publish_due_at is not None  # settings changed
    assert publishing.publish_due() == 1
    assert statuspage.page_for(world["org"]).publish_due_at is None
    assert publishing.publish_due() == 0
    page = statuspage.page_for(world["org"])
    statuspage.due(world["org"])
    page.refresh_from_db()
    now = timezone.now() + timedelta(seconds=1)
    held = publishing.claim(page, now)
    assert held is not None and publishing.claim(page, now) is None  # a second worker
    statuspage.due(world["org"], now)  # an update while the first publishes
    assert statuspage.page_for(world["org"]).publish_due_at == now


def test_a_failing_page_is_retried_later(world, monkeypatch):
    monkeypatch.setattr(publishing, "to_folder", _broken)
    assert publishing.publish_due() == 0
    page = statuspage.page_for(world["org"])
    assert page.publish_due_at > timezone.now() and page.last_error


def _broken(folder, made):
    raise publishing.PublishError(f"folder {folder}: Permission denied")


@pytest.fixture
def s3(moto_url, monkeypatch):  # noqa: F811
    monkeypatch.setenv("STATUS_KEY_ID", "testing")
    monkeypatch.setenv("STATUS_SECRET", "testing")
    moto = Moto(moto_url)
    return moto


def test_publishing_to_a_bucket_sets_content_type_and_cache_control(world, s3, request):
    bucket = s3.bucket("status-" + str(abs(hash(request.node.nodeid)))[:12], lock=False)
    statuspage.update_page(
        world["org"],
        folder_path="",
        s3_endpoint_url=s3.url,
        s3_bucket=bucket,
        s3_prefix="/hartley/",
        s3_region="us-east-1",
        s3_access_key_env="STATUS_KEY_ID",
        s3_secret_key_env="STATUS_SECRET",
    )
    result = publishing.publish(world["org"])
    assert result.ok, result.errors
    index = s3.client.get_object(Bucket=bucket, Key="hartley/index.html")
    assert index["ContentType"] == "text/html; charset=utf-8"
    assert index["CacheControl"] == "public, max-age=60"
    summary = s3.client.get_object(Bucket=bucket, Key="hartley/summary.json")
    assert summary["ContentType"] == "application/json; charset=utf-8"
    assert json.loads(summary["Body"].read())["components"][0]["name"] == "Orders"


def test_a_sealed_secret_key_works_and_a_missing_bucket_is_a_recorded_failure(
    world, s3, settings, tmp_path
):
    settings.FALLBACK_HOME = tmp_path
    (tmp_path / "secret_key").write_text("k\n")
    sealing.forget_identity()
    statuspage.update_page(
        world["org"],
        folder_path="",
        s3_endpoint_url=s3.url,
        s3_bucket="no-such-status-bucket",
        s3_access_key_id="testing",
        secret_key="testing",
    )
    sealed = statuspage.page_for(world["org"]).s3_secret_key_sealed
    assert sealed and "testing" not in sealed
    result = publishing.publish(world["org"])
    assert not result.ok and "NoSuchBucket" in result.errors[0]
    assert "no-such-status-bucket" in statuspage.page_for(world["org"]).last_error
    sealing.forget_identity()


def test_a_missing_environment_variable_is_named(world, s3, monkeypatch):
    monkeypatch.delenv("STATUS_SECRET")
    statuspage.update_page(
        world["org"],
        s3_endpoint_url=s3.url,
        s3_bucket="any-bucket",
        s3_access_key_env="STATUS_KEY_ID",
        s3_secret_key_env="STATUS_SECRET",
    )
    result = publishing.publish(world["org"])
    assert result.places == [f"folder {world['folder']}"]  # the folder still got it
    assert "STATUS_SECRET is not set" in result.errors[0]


def test_nowhere_to_publish_is_said(world):
    statuspage.update_page(world["org"], folder_path="")
    assert publishing.publish(world["org"]).errors == [
        "Nowhere to publish: give a folder or a bucket in the settings."
    ]
    assert not statuspage.due(world["org"])


def test_a_page_whose_content_changed_by_itself_is_published_again(world):
    assert publishing.publish_due() == 1
    assert publishing.publish_changed() == 0  # nothing new
    world["crm"].state = "down"  # the monitor saw it go down: nobody posted anything
    world["crm"].save()
    assert publishing.publish_changed() == 1
    assert publishing.publish_due() == 1
    data = json.loads((world["folder"] / "summary.json").read_text())
    assert data["components"][0]["status"] == "major_outage"
    assert publishing.publish_changed() == 0


def test_doctor_reports_a_page_that_does_not_publish(world, monkeypatch):
    from fallback.runtime import health

    assert publishing.check_status_pages in health.CHECKS
    publishing.publish(world["org"])
    assert publishing.check_status_pages().status == health.Status.OK
    monkeypatch.setattr(publishing, "to_folder", _broken)
    publishing.publish(world["org"])
    result = publishing.check_status_pages()
    assert result.status == health.Status.FAIL and "Permission denied" in result.detail
