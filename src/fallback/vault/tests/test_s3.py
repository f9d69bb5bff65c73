"""S3 with Object Lock, against moto in server mode on loopback: each snapshot is an object
version locked in COMPLIANCE mode, deleting it is refused while locked, and a bucket without
Object Lock or versioning is named as the problem it is."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from fallback.vault.destinations import DestinationError, ObjectMeta, open_store
from fallback.vault.models import Destination, Kind
from fallback.vault.tests.conftest import ACCESS_ENV, bucket_name

pytestmark = pytest.mark.django_db

NAME = "fallback-box-20260301T100000Z.tar.zst.age"


def meta(data: bytes, days: float = 30) -> ObjectMeta:
    at = datetime.now(UTC).replace(microsecond=0)
    return ObjectMeta(
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        taken_at=at,
        retain_until=at + timedelta(days=days),
        installation="box",
        fallback_version="0.1.0",
        db_kind="sqlite",
    )


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "snapshot.age"
    path.write_bytes(b"encrypted" * 5000)
    return path


def test_objects_carry_compliance_retention_and_deleting_a_locked_version_is_refused(
    moto, request, source
):
    bucket = moto.bucket(bucket_name(request))
    store = open_store(moto.destination("offsite", bucket))
    data = source.read_bytes()
    written = store.put(source, NAME, meta(data), None)
    assert written.locked and written.version_id
    head = moto.client.head_object(
        Bucket=bucket, Key=f"fallback/{NAME}", VersionId=written.version_id
    )
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert head["ObjectLockRetainUntilDate"] >= datetime.now(UTC) + timedelta(days=29)
    assert head["Metadata"]["sha256"] == hashlib.sha256(data).hexdigest()
    with pytest.raises(ClientError) as refused:
        moto.client.delete_object(
            Bucket=bucket, Key=f"fallback/{NAME}", VersionId=written.version_id
        )
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    # Fallback's own delete is refused the same way, with the destination named.
    with pytest.raises(DestinationError, match=r"destination 'offsite'.*AccessDenied"):
        store.delete(NAME, written.version_id)
    with store.open(NAME, written.version_id) as body:
        assert body.read() == data


def test_a_multipart_upload_is_locked_too(moto, request, tmp_path, monkeypatch):
    """Some services ignore the lock asked for at a multipart upload's start: the version is
    locked afterwards, and checked."""
    from fallback.vault.destinations import s3

    monkeypatch.setattr(s3, "MIN_PART", 5 * 1024 * 1024)
    big = tmp_path / "big.age"
    big.write_bytes(b"\x01" * (11 * 1024 * 1024))
    bucket = moto.bucket(bucket_name(request))
    store = open_store(moto.destination("offsite", bucket))
    seen = []
    written = store.put(big, NAME, meta(big.read_bytes()), seen.append)
    assert sum(seen) == big.stat().st_size
    head = moto.client.head_object(
        Bucket=bucket, Key=f"fallback/{NAME}", VersionId=written.version_id
    )
    assert head["ObjectLockMode"] == "COMPLIANCE"
    with pytest.raises(ClientError):
        moto.client.delete_object(
            Bucket=bucket, Key=f"fallback/{NAME}", VersionId=written.version_id
        )


def test_a_bucket_without_object_lock_is_refused_and_explained(moto, request, source):
    bucket = moto.bucket(bucket_name(request), lock=False)
    store = open_store(moto.destination("plain", bucket))
    problems = store.problems()
    assert any("Versioning is not enabled" in p for p in problems)
    assert any("Object Lock is not enabled" in p for p in problems)
    with pytest.raises(DestinationError, match=r"not protected|not lock|Object Lock"):
        store.put(source, NAME, meta(source.read_bytes()), None)


def test_a_locked_bucket_has_no_problems_and_a_missing_one_says_so(moto, request):
    bucket = moto.bucket(bucket_name(request))
    assert open_store(moto.destination("offsite", bucket)).problems() == []
    missing = open_store(moto.destination("missing", bucket + "-gone"))
    assert "There is no bucket" in missing.problems()[0]


def test_listing_gives_each_version_with_its_lock(moto, request, source):
    bucket = moto.bucket(bucket_name(request))
    store = open_store(moto.destination("offsite", bucket))
    store.put(source, NAME, meta(source.read_bytes(), days=3), None)
    moto.client.put_object(Bucket=bucket, Key="fallback/readme.txt", Body=b"not a snapshot")
    [found] = store.listing()
    assert found.name == NAME
    assert found.retain_until is not None
    assert found.sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
    assert store.lock_until(NAME, found.version_id) == found.retain_until


def test_credentials_come_from_the_named_environment_variables(moto, request, monkeypatch):
    bucket = moto.bucket(bucket_name(request))
    destination = moto.destination("offsite", bucket)
    monkeypatch.delenv(ACCESS_ENV)
    [problem] = open_store(destination).problems()
    assert f"the environment variable {ACCESS_ENV} is not set" in problem
    assert Destination.objects.get(name="offsite").kind == Kind.S3
