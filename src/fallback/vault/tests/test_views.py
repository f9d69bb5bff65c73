"""The Backups page: for installation administrators only (anyone else: 404), listing each
destination's snapshots with age, size, lock and last restore test; set-up forms that name
bad fields and change nothing; "Snapshot now" and "Verify now"; and the dashboard card every
organisation sees, without paths or keys."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from fallback.accounts.models import User
from fallback.audit.models import AuditEvent
from fallback.testing.factories import make_org, make_user
from fallback.vault import snapshots
from fallback.vault.models import Destination, FileSet, Kind, Recipient, Snapshot, VaultSettings

pytestmark = pytest.mark.django_db(transaction=True)


def as_user(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


@pytest.fixture
def admin():
    user = make_user("admin@box.test")
    user.is_superuser = True
    user.save()
    make_org("Hartley Plumbing", owner=user)
    return user


@pytest.fixture
def owner():
    user = make_user("owner@hartley.test")
    make_org("Bluebell Florists", owner=user)
    return user


def test_only_installation_administrators_see_the_page(admin, owner):
    assert as_user(owner).get(reverse("vault:index")).status_code == 404
    assert Client().get(reverse("vault:index")).status_code == 302  # to the login
    assert as_user(owner).post(reverse("vault:snapshot")).status_code == 404
    assert as_user(admin).get(reverse("vault:index")).status_code == 200


def test_the_user_menu_links_to_backups_for_administrators_only(admin, owner):
    assert 'href="/vault/"' in as_user(admin).get("/account/").content.decode()
    assert 'href="/vault/"' not in as_user(owner).get("/account/").content.decode()


def test_an_empty_vault_says_how_to_start(admin):
    page = text(as_user(admin).get(reverse("vault:index")))
    assert "Set up backups" in page
    assert "fallback vault keygen" in page
    assert "Snapshot now" not in page
    assert "age -d -i key.txt SNAPSHOT.tar.zst.age | zstd -d | tar -xvf -" in page


def test_snapshots_are_listed_per_destination_with_their_last_test(admin, identity, usb):
    done = snapshots.take("test")
    from fallback.vault import verify

    verify.verify_newest()
    page = text(as_user(admin).get(reverse("vault:index")))
    assert done.name in page
    assert "Passed" in page and "(integrity only)" in page
    assert "Restore tests here check integrity" in page
    assert "Snapshot now" in page and "Verify now" in page


def test_snapshot_now_and_verify_now_run_in_the_background(admin, identity, usb, immediate_tasks):
    client = as_user(admin)
    response = client.post(reverse("vault:snapshot"), {"request_key": "once"})
    assert response.status_code == 302
    assert Snapshot.objects.filter(request_key="web:once").count() == 1
    client.post(reverse("vault:snapshot"), {"request_key": "once"})  # a double click
    assert Snapshot.objects.count() == 1
    client.post(reverse("vault:verify"))
    assert Snapshot.objects.get().copies.get().verify_ok is True
    assert AuditEvent.objects.filter(action="vault.snapshot.requested").exists()


def test_a_local_destination_is_added_and_checked(admin, tmp_path):
    folder = tmp_path / "disk"
    folder.mkdir()
    response = as_user(admin).post(
        reverse("vault:destination-new"),
        {
            "name": "usb",
            "kind": "local",
            "enabled": "on",
            "path": str(folder),
            "min_lock_days": "0",
        },
        follow=True,
    )
    assert "Destination usb saved and ready" in text(response)
    assert Destination.objects.get().path == str(folder)
    assert AuditEvent.objects.filter(action="vault.destination.added", org=None).exists()


def test_bad_destination_fields_are_named_and_nothing_is_saved(admin):
    response = as_user(admin).post(
        reverse("vault:destination-new"),
        {
            "name": "offsite",
            "kind": "s3",
            "enabled": "on",
            "bucket": "",
            "access_key_env": "MY_KEY",
            "min_lock_days": "0",
        },
    )
    page = text(response)
    assert "Nothing was saved" in page
    assert "Give the bucket" in page
    assert "Name both environment variables" in page
    assert not Destination.objects.exists()


def test_schedule_is_saved_and_an_all_zero_retention_refused(admin):
    client = as_user(admin)
    fields = {
        "snapshot_every_minutes": "30",
        "verify_every_hours": "12",
        "hourly_keep": "24",
        "daily_keep": "14",
        "monthly_keep": "6",
        "installation": "office-box",
    }
    assert client.post(reverse("vault:settings"), fields).status_code == 302
    assert VaultSettings.load().snapshot_every_minutes == 30
    zero = {**fields, "hourly_keep": "0", "daily_keep": "0", "monthly_keep": "0"}
    page = text(client.post(reverse("vault:settings"), zero))
    assert "Keep at least one tier" in page
    assert VaultSettings.load().hourly_keep == 24


def test_a_file_set_is_added_from_lines(admin, tmp_path):
    response = as_user(admin).post(
        reverse("vault:file-set-new"),
        {
            "name": "accounts",
            "paths": f"{tmp_path}/company.qbw\n\n",
            "excludes": "*.tmp",
            "enabled": "on",
        },
    )
    assert response.status_code == 302
    saved = FileSet.objects.get()
    assert saved.paths == [f"{tmp_path}/company.qbw"] and saved.excludes == ["*.tmp"]
    page = text(
        as_user(admin).post(reverse("vault:file-set-new"), {"name": "x", "paths": "relative"})
    )
    assert "give the full path" in page


def test_a_public_key_is_added_and_a_bad_one_refused(admin):
    import pyrage

    client = as_user(admin)
    page = text(client.post(reverse("vault:recipient-add"), {"public_key": "nope", "label": "IT"}))
    assert "is not an age public key" in page
    key = str(pyrage.x25519.Identity.generate().to_public())
    client.post(reverse("vault:recipient-add"), {"public_key": key, "label": "IT provider"})
    assert Recipient.objects.get().public_key == key


def test_the_dashboard_card_shows_every_member_the_backups_without_secrets(
    owner, identity, usb, tmp_path
):
    snapshots.take("test")
    org = owner.memberships.get().org
    dashboard = as_user(owner).get(reverse("front:dashboard", kwargs={"org_slug": org.slug}))
    assert reverse("vault:card", kwargs={"org_slug": org.slug}) in dashboard.content.decode()
    card = text(as_user(owner).get(reverse("vault:card", kwargs={"org_slug": org.slug})))
    assert "Last snapshot" in card and "Not restore-tested yet" in card
    assert str(tmp_path) not in card and "age1" not in card
    assert "Open Backups" not in card
    assert Destination.objects.get().kind == Kind.LOCAL
