"""Fixtures of the vault's tests: a data folder of each test's own, a key pair, a local
folder destination, and a real S3 server (moto in server mode, on loopback) with a bucket
made with Object Lock."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pyrage
import pytest

from fallback import sealing
from fallback.vault import editing
from fallback.vault.models import Destination, Kind, Recipient

ACCESS_ENV = "VAULT_TEST_KEY_ID"
SECRET_ENV = "VAULT_TEST_SECRET"


@pytest.fixture(autouse=True)
def home(settings, tmp_path) -> Iterator[Path]:
    """Each test its own data folder (its keys, uploads and spool)."""
    folder = tmp_path / "home"
    folder.mkdir()
    (folder / "secret_key").write_text("test-secret-key\n")
    settings.FALLBACK_HOME = folder
    sealing.forget_identity()
    yield folder
    sealing.forget_identity()


@pytest.fixture
def immediate_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def identity(tmp_path) -> Any:
    """An age key pair: its public key is the vault's recipient, its private key is in
    key.txt (as it would be typed from the binder)."""
    made = pyrage.x25519.Identity.generate()
    Recipient.objects.create(label="Binder", public_key=str(made.to_public()))
    (tmp_path / "key.txt").write_text(f"# the binder's key\n{made}\n")
    return made


@pytest.fixture
def admin_channel():
    """An installation administrator who owns an organisation with an alert channel."""
    from fallback.incidents import channels
    from fallback.testing.factories import make_org, make_user

    admin = make_user("admin@box.test")
    admin.is_superuser = True
    admin.save()
    org = make_org("Hartley Plumbing", owner=admin)
    return channels.create_channel(org, name="Office phone", url="json://127.0.0.1:9/alerts")


@pytest.fixture
def usb(tmp_path) -> Destination:
    folder = tmp_path / "usb"
    folder.mkdir()
    return editing.save_destination(None, name="usb", kind=Kind.LOCAL, path=str(folder))


class Moto:
    def __init__(self, url: str) -> None:
        self.url = url
        self.client = boto3.client(
            "s3",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def bucket(self, name: str, lock: bool = True) -> str:
        if lock:
            self.client.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
        else:
            self.client.create_bucket(Bucket=name)
        return name

    def destination(self, name: str, bucket: str, prefix: str = "fallback") -> Destination:
        return editing.save_destination(
            None,
            name=name,
            kind=Kind.S3,
            bucket=bucket,
            prefix=prefix,
            endpoint_url=self.url,
            region="us-east-1",
            access_key_env=ACCESS_ENV,
            secret_key_env=SECRET_ENV,
        )


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def moto(moto_url, monkeypatch, request) -> Moto:
    """The S3 server, its credentials in the environment variables the destination names,
    and a fresh bucket name prefix per test (buckets outlive tests on the one server)."""
    monkeypatch.setenv(ACCESS_ENV, "testing")
    monkeypatch.setenv(SECRET_ENV, "testing")
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(var, "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    return Moto(moto_url)


def bucket_name(request: pytest.FixtureRequest) -> str:
    """A bucket name of this test's own (3-63 lowercase letters, digits, dashes)."""
    import hashlib

    return "vault-" + hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:20]
