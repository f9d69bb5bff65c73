"""S3-compatible storage with Object Lock (AWS, Backblaze B2, Wasabi, MinIO, …).

Each snapshot is written once as an object version locked in COMPLIANCE mode until its
retain-until: nobody, not even the bucket's owner or a stolen key, can delete or shorten it
before then. The bucket must have versioning and Object Lock enabled (chosen when it is
created); `problems()` says so when it has not. Credentials come from the environment
variables the destination names (or boto3's usual chain: AWS_ACCESS_KEY_ID, an instance
role…); they are never stored.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Final, cast

import boto3
from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from fallback.vault import naming
from fallback.vault.destinations.base import (
    DestinationError,
    ObjectMeta,
    Progress,
    StoredObject,
    Written,
    register,
)
from fallback.vault.models import Destination, Kind

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

MIB = 1 << 20
MIN_PART = 16 * MIB  # parts in memory at once: MAX_CONCURRENCY x part size
MAX_PARTS = 9000  # S3 allows 10,000
MAX_CONCURRENCY = 4
LOCK_MODE: Final = "COMPLIANCE"


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _explain(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        code = _code(exc)
        message = exc.response.get("Error", {}).get("Message", "") or str(exc)
        return f"{code}: {message}" if code else message
    text = str(exc)
    # boto3's upload errors start with the local file's path: the service's words suffice.
    found = text.find("An error occurred")
    return text[found:] if found >= 0 else text


class _Body:
    """A botocore streaming body read in large pieces (the age reader asks for 8 KiB)."""

    def __init__(self, body: Any) -> None:
        self.body = body
        self.buffer = b""

    def read(self, n: int = -1) -> bytes:
        if n < 0:
            data = self.buffer + self.body.read()
            self.buffer = b""
            return cast(bytes, data)
        while len(self.buffer) < n:
            more = self.body.read(MIB)
            if not more:
                break
            self.buffer += more
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def close(self) -> None:
        self.body.close()

    def __enter__(self) -> _Body:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def make_client(
    endpoint_url: str,
    region: str,
    aws_access_key_id: str | None = None,
    aws_secret_access_key: str | None = None,
) -> S3Client:
    """A client of an S3-compatible service (also the comms status page's publisher)."""
    endpoint = endpoint_url or None
    config = Config(
        retries={"max_attempts": 5, "mode": "standard"},
        connect_timeout=15,
        read_timeout=120,
        # S3-compatible services (MinIO…) want path-style addresses.
        s3={"addressing_style": "path"} if endpoint else {},
    )
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=region or None,
        config=config,
        aws_access_key_id=aws_access_key_id,
        aws_secret_access_key=aws_secret_access_key,
    )


def credentials_from_env(access_key_env: str, secret_key_env: str) -> dict[str, str]:
    """The keys from the environment variables named (none named: boto3's usual chain);
    KeyError names a variable that is not set."""
    found = {}
    for arg, env in (
        ("aws_access_key_id", access_key_env),
        ("aws_secret_access_key", secret_key_env),
    ):
        if env:
            value = os.environ.get(env)
            if not value:
                raise KeyError(env)
            found[arg] = value
    return found


class S3Store:
    def __init__(self, destination: Destination) -> None:
        self.destination = destination
        self.bucket = destination.bucket
        self.prefix = destination.prefix.strip("/")
        self.label = (
            f"destination '{destination.name}'"
            if destination.name
            else f"s3://{self.bucket}/{self.prefix}"
        )
        self._client: S3Client | None = None

    # ------------------------------------------------------------------ plumbing

    def _credentials(self) -> dict[str, str]:
        try:
            return credentials_from_env(
                self.destination.access_key_env, self.destination.secret_key_env
            )
        except KeyError as exc:
            raise DestinationError(
                f"{self.label}: the environment variable {exc.args[0]} is not set "
                "(Fallback reads the storage's credentials from it)"
            ) from None

    def client(self) -> S3Client:
        if self._client is None:
            self._client = make_client(
                self.destination.endpoint_url, self.destination.region, **self._credentials()
            )
        return self._client

    def key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def _fail(self, doing: str, exc: Exception) -> DestinationError:
        return DestinationError(f"{self.label}: {doing}: {_explain(exc)}")

    # ------------------------------------------------------------------ the store

    def put(self, source: Path, name: str, meta: ObjectMeta, progress: Progress | None) -> Written:
        client = self.client()
        key = self.key(name)
        part = max(MIN_PART, -(-meta.size // MAX_PARTS))
        transfer = TransferConfig(
            multipart_threshold=part,
            multipart_chunksize=part,
            max_concurrency=MAX_CONCURRENCY,
        )
        extra = {
            "ObjectLockMode": LOCK_MODE,
            "ObjectLockRetainUntilDate": meta.retain_until,
            # Object Lock requires an integrity checksum on every write.
            "ChecksumAlgorithm": "SHA256",
            "ContentType": "application/octet-stream",
            "Metadata": meta.as_strings(),
        }
        try:
            client.upload_file(
                str(source), self.bucket, key, ExtraArgs=extra, Config=transfer, Callback=progress
            )
            head = client.head_object(Bucket=self.bucket, Key=key)
        except (ClientError, BotoCoreError, Boto3Error) as exc:
            if "ObjectLock" in str(exc):
                raise DestinationError(
                    f"{self.label}: bucket {self.bucket} has no Object Lock, so {name} could "
                    "not be written locked: use a bucket made with Object Lock enabled "
                    "(see `fallback vault check-destination`)"
                ) from exc
            raise self._fail(f"could not write {name}", exc) from exc
        version = str(head.get("VersionId") or "")
        if not version or version == "null":
            raise DestinationError(
                f"{self.label}: bucket {self.bucket} does not keep versions, so {name} is not "
                "protected: use a bucket made with Object Lock (which turns versioning on)"
            )
        if int(head.get("ContentLength", -1)) != meta.size:
            raise DestinationError(
                f"{self.label}: {name} holds {head.get('ContentLength')} bytes, not {meta.size:,}"
            )
        if not _locked(head, meta.retain_until):
            # Some services ignore the lock asked for with a multipart upload: set it on the
            # version now (COMPLIANCE can be set or lengthened, never shortened).
            try:
                client.put_object_retention(
                    Bucket=self.bucket,
                    Key=key,
                    VersionId=version,
                    Retention={"Mode": LOCK_MODE, "RetainUntilDate": meta.retain_until},
                )
                head = client.head_object(Bucket=self.bucket, Key=key, VersionId=version)
            except (ClientError, BotoCoreError) as exc:
                raise self._fail(f"{name} was written but could not be locked", exc) from exc
            if not _locked(head, meta.retain_until):
                raise DestinationError(
                    f"{self.label}: {name} was written but the storage did not lock it: is "
                    f"Object Lock enabled on bucket {self.bucket}?"
                )
        return Written(
            version_id=version,
            size=meta.size,
            retain_until=_aware(head["ObjectLockRetainUntilDate"]),
            locked=True,
        )

    def open(self, name: str, version_id: str = "") -> BinaryIO:
        args: dict[str, str] = {"Bucket": self.bucket, "Key": self.key(name)}
        if version_id:
            args["VersionId"] = version_id
        try:
            answer = self.client().get_object(**args)  # type: ignore[arg-type]
        except (ClientError, BotoCoreError) as exc:
            raise self._fail(f"could not read {name}", exc) from exc
        return cast(BinaryIO, _Body(answer["Body"]))

    def listing(self) -> list[StoredObject]:
        client = self.client()
        found = []
        prefix = f"{self.prefix}/" if self.prefix else ""
        try:
            pages = client.get_paginator("list_object_versions").paginate(
                Bucket=self.bucket, Prefix=prefix
            )
            for page in pages:
                for version in page.get("Versions", []):
                    name = version["Key"][len(prefix) :]
                    if "/" in name or naming.parse(name) is None:
                        continue
                    head = client.head_object(
                        Bucket=self.bucket, Key=version["Key"], VersionId=version["VersionId"]
                    )
                    meta = {str(k): str(v) for k, v in (head.get("Metadata") or {}).items()}
                    until = head.get("ObjectLockRetainUntilDate")
                    found.append(
                        StoredObject(
                            name=name,
                            size=int(version.get("Size", 0)),
                            version_id=str(version["VersionId"]),
                            retain_until=_aware(until) if until else None,
                            sha256=meta.get("sha256", ""),
                            extra=meta,
                        )
                    )
        except (ClientError, BotoCoreError) as exc:
            raise self._fail("could not list the snapshots", exc) from exc
        return sorted(found, key=lambda o: (o.name, o.version_id))

    def lock_until(self, name: str, version_id: str = "") -> datetime | None:
        args: dict[str, str] = {"Bucket": self.bucket, "Key": self.key(name)}
        if version_id:
            args["VersionId"] = version_id
        try:
            head = self.client().head_object(**args)  # type: ignore[arg-type]
        except (ClientError, BotoCoreError) as exc:
            raise self._fail(f"could not look up the lock of {name}", exc) from exc
        until = head.get("ObjectLockRetainUntilDate")
        return _aware(until) if until else None

    def delete(self, name: str, version_id: str = "") -> None:
        args: dict[str, str] = {"Bucket": self.bucket, "Key": self.key(name)}
        if version_id:
            args["VersionId"] = version_id
        try:
            self.client().delete_object(**args)  # type: ignore[arg-type]
        except (ClientError, BotoCoreError) as exc:
            raise self._fail(f"could not delete {name}", exc) from exc

    def problems(self) -> list[str]:
        try:
            client = self.client()
        except DestinationError as exc:
            return [str(exc)]
        try:
            client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            code = _code(exc)
            if code in {"404", "NoSuchBucket"}:
                return [f"There is no bucket {self.bucket}: create it with Object Lock enabled."]
            if code in {"403", "AccessDenied"}:
                return [f"The credentials may not use bucket {self.bucket} (access denied)."]
            return [f"Bucket {self.bucket}: {_explain(exc)}"]
        except BotoCoreError as exc:
            return [f"The storage does not answer: {exc}"]
        problems = []
        try:
            versioning = client.get_bucket_versioning(Bucket=self.bucket).get("Status")
        except (ClientError, BotoCoreError) as exc:
            versioning = None
            problems.append(f"Could not read the versioning of {self.bucket}: {_explain(exc)}")
        else:
            if versioning != "Enabled":
                problems.append(
                    f"Versioning is not enabled on bucket {self.bucket}: a snapshot could be "
                    "overwritten. Object Lock turns it on; enable both."
                )
        try:
            config = client.get_object_lock_configuration(Bucket=self.bucket)
            enabled = config.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled")
        except ClientError as exc:
            if _code(exc) != "ObjectLockConfigurationNotFoundError":
                problems.append(f"Could not read the Object Lock of {self.bucket}: {_explain(exc)}")
                return problems
            enabled = None
        except BotoCoreError as exc:
            problems.append(f"Could not read the Object Lock of {self.bucket}: {exc}")
            return problems
        if enabled != "Enabled":
            problems.append(
                f"Object Lock is not enabled on bucket {self.bucket}: snapshots there could be "
                "deleted by anyone with the key (ransomware too). Make a new bucket with Object "
                "Lock enabled (most services allow it only when a bucket is created)."
            )
        return problems


def _aware(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).astimezone(UTC)


def _locked(head: Any, until: datetime) -> bool:
    have = head.get("ObjectLockRetainUntilDate")
    if head.get("ObjectLockMode") != LOCK_MODE or not have:
        return False
    return _aware(have) >= until - timedelta(seconds=1)


@register(Kind.S3)
def s3_store(destination: Destination) -> S3Store:
    return S3Store(destination)
