"""Publishing the status page: `index.html` and `summary.json` to a folder and to an
S3-compatible bucket — somewhere that is not the host that is down.

A folder gets each file written beside it under a temporary name, flushed, then renamed over
the old one, so a reader (a web server serving the folder, a sync tool) sees the old page or
the new one, never half of one. A bucket gets one PUT per file with its Content-Type and a
short Cache-Control, so readers see an update within a minute. `summary.json` goes first:
the page links to it.

Every change staff make makes the page due (`statuspage.due`); what changes by itself — a
system going down, an outage declared or resolved — is caught by `publish_changed`, which
compares what the page would say now with what was last published. `publish_due` — a
scheduler job of `fallback serve` and `fallback worker` — claims it by moving
`publish_due_at` past a lease in a conditional UPDATE, so two workers never publish the same
change at once, and a worker that dies mid-way leaves it due again when the lease runs out.
A failure is recorded on the page, retried with backoff, and alerts the people on duty (once
per run of failures).
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.db import transaction
from django.utils import timezone

from fallback import sealing
from fallback.accounts.models import Organisation
from fallback.comms import statuspage
from fallback.comms.models import StatusPage
from fallback.incidents import alerts
from fallback.incidents.models import AlertEvent
from fallback.runtime import health, schedulers
from fallback.vault.destinations.s3 import _explain, credentials_from_env, make_client

log = logging.getLogger("fallback.comms")

PUBLISH_EVERY = 5.0  # seconds between looks for a page that is due
COMPARE_EVERY = 30.0  # seconds between looks for a page whose content changed by itself
LEASE = timedelta(minutes=5)
CONTENT_TYPES = {
    "summary.json": "application/json; charset=utf-8",
    "index.html": "text/html; charset=utf-8",
}
CACHE_CONTROL = "public, max-age=60"
ORDER = ("summary.json", "index.html")


class PublishError(Exception):
    """The page could not be published somewhere; the message says where and why."""


@dataclass
class Published:
    digest: str
    places: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def files(
    org: Organisation, now: datetime | None = None, *, exercise: bool = False
) -> dict[str, bytes]:
    """The two files of the public page (never a drill); `exercise`: the drill preview, which
    is only ever written where a person asks (`fallback comms status-page -o DIR --exercise`)."""
    return files_of(org, statuspage.summary(org, now, exercise=exercise))


def files_of(org: Organisation, data: dict[str, Any]) -> dict[str, bytes]:
    """The two files of a summary already made (`statuspage.summary`)."""
    return {
        "summary.json": statuspage.summary_json(data),
        "index.html": statuspage.render_html(org, data),
    }


def digest_of(made: dict[str, bytes]) -> str:
    h = hashlib.sha256()
    for name in ORDER:
        h.update(name.encode() + b"\0" + made[name] + b"\0")
    return h.hexdigest()


def to_folder(folder: str | Path, made: dict[str, bytes]) -> None:
    """Write each file atomically: a temporary file in the same folder, flushed to disk,
    then renamed over the old one."""
    target = Path(folder).expanduser()
    try:
        target.mkdir(parents=True, exist_ok=True)
        for name in ORDER:
            handle, temporary = tempfile.mkstemp(dir=target, prefix=f".{name}.", suffix=".tmp")
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(made[name])
                    out.flush()
                    os.fsync(out.fileno())
                os.chmod(temporary, 0o644)
                os.replace(temporary, target / name)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
    except OSError as exc:
        raise PublishError(f"folder {target}: {exc.strerror or exc}") from exc


def _credentials(page: StatusPage) -> dict[str, str]:
    if page.s3_secret_key_sealed:
        return {
            "aws_access_key_id": page.s3_access_key_id,
            "aws_secret_access_key": sealing.unseal(page.s3_secret_key_sealed),
        }
    try:
        return credentials_from_env(page.s3_access_key_env, page.s3_secret_key_env)
    except KeyError as exc:
        raise PublishError(
            f"bucket {page.s3_bucket}: the environment variable {exc.args[0]} is not set "
            "(Fallback reads the bucket's credentials from it)"
        ) from None


def s3_key(page: StatusPage, name: str) -> str:
    prefix = page.s3_prefix.strip("/")
    return f"{prefix}/{name}" if prefix else name


def to_s3(page: StatusPage, made: dict[str, bytes]) -> None:
    client = make_client(page.s3_endpoint_url, page.s3_region, **_credentials(page))
    for name in ORDER:
        try:
            client.put_object(
                Bucket=page.s3_bucket,
                Key=s3_key(page, name),
                Body=made[name],
                ContentType=CONTENT_TYPES[name],
                CacheControl=CACHE_CONTROL,
            )
        except (ClientError, BotoCoreError) as exc:
            raise PublishError(f"bucket {page.s3_bucket}: {name}: {_explain(exc)}") from exc


def _bucket_place(page: StatusPage) -> str:
    where = f" at {page.s3_endpoint_url}" if page.s3_endpoint_url else ""
    return f"s3://{page.s3_bucket}/{page.s3_prefix.strip('/')}{where}"


def destinations(page: StatusPage) -> list[str]:
    places = []
    if page.folder_path:
        places.append(f"folder {page.folder_path}")
    if page.s3_bucket:
        places.append(_bucket_place(page))
    return places


def publish(org: Organisation, now: datetime | None = None) -> Published:
    """Publish the page everywhere it is set to go, and record how it went."""
    now = now or timezone.now()
    page = statuspage.page_for(org)
    made = files(org, now)
    result = Published(digest_of(made))
    if page.folder_path:
        try:
            to_folder(page.folder_path, made)
            result.places.append(f"folder {page.folder_path}")
        except PublishError as exc:
            result.errors.append(str(exc))
    if page.s3_bucket:
        try:
            to_s3(page, made)
            result.places.append(_bucket_place(page))
        except PublishError as exc:
            result.errors.append(str(exc))
        except Exception as exc:  # a sealed key that no longer opens, a bad endpoint URL…
            result.errors.append(f"bucket {page.s3_bucket}: {type(exc).__name__}: {exc}")
    if not page.folder_path and not page.s3_bucket:
        result.errors.append("Nowhere to publish: give a folder or a bucket in the settings.")
    _record(page, result, now)
    return result


def _record(page: StatusPage, result: Published, now: datetime) -> None:
    if result.ok:
        StatusPage.objects.filter(pk=page.pk).update(
            published_at=now,
            published_digest=result.digest,
            published_to=result.places,
            last_error="",
            publish_attempts=0,
        )
        return
    attempts = page.publish_attempts + 1
    error = "; ".join(result.errors)
    StatusPage.objects.filter(pk=page.pk).update(
        last_error=error[:4000],
        last_error_at=now,
        publish_attempts=attempts,
        published_to=result.places,
        **({"published_at": now, "published_digest": result.digest} if result.places else {}),
    )
    log.warning("status page of %s not published: %s", page.org.slug, error)
    if attempts == 1:
        _alert(page, error, now)


def _alert(page: StatusPage, error: str, now: datetime) -> None:
    org = page.org
    title = f"[{org.name}] The status page could not be published"
    body = (
        f"Publishing the public status page failed: {error[:500]}\n\n"
        "People reading it see an old page. Fallback tries again with backoff. Check the "
        "folder or the bucket in Notices → Status page, then press Publish now: "
        f"/o/{org.slug}/comms/status/"
    )
    # One alert per run of failures: the scope names the last good publishing.
    last = page.published_at.isoformat() if page.published_at else "never"
    scope = f"statuspage:{page.pk}:{last}"
    alerts.queue_notice(org.pk, AlertEvent.STATUS_PAGE_FAILED, scope, title, body, now)


def claim(page: StatusPage, now: datetime) -> datetime | None:
    """Take a due page (moving its due time past a lease); the new due time, or None when
    another worker took it."""
    held = now + LEASE
    taken = StatusPage.objects.filter(
        pk=page.pk, publish_due_at=page.publish_due_at, publish_due_at__lte=now
    ).update(publish_due_at=held)
    return held if taken else None


@schedulers.register("comms.status_publish", PUBLISH_EVERY)
def publish_due(now: datetime | None = None) -> int:
    """Publish every page that is due; returns how many were published without error."""
    now = now or timezone.now()
    done = 0
    for page in StatusPage.objects.filter(publish_due_at__lte=now).select_related("org"):
        held = claim(page, now)
        if held is None:
            continue
        result = publish(page.org, now)
        with transaction.atomic():
            # A change made while publishing moved the due time back to "now": keep it.
            mine = StatusPage.objects.filter(pk=page.pk, publish_due_at=held)
            if result.ok:
                mine.update(publish_due_at=None)
                done += 1
            else:
                attempts = StatusPage.objects.get(pk=page.pk).publish_attempts
                mine.update(publish_due_at=now + alerts.backoff(attempts))
    return done


@schedulers.register("comms.status_changed", COMPARE_EVERY)
def publish_changed(now: datetime | None = None) -> int:
    """Make due every page whose content changed since it was last published (a system's
    state, an incident declared or resolved, a resolved incident leaving the history);
    returns how many. The files are deterministic, so an unchanged page compares equal."""
    now = now or timezone.now()
    marked = 0
    pages = StatusPage.objects.filter(publish_due_at__isnull=True).select_related("org")
    for page in pages.exclude(folder_path="", s3_bucket=""):
        if digest_of(files(page.org, now)) != page.published_digest:
            marked += StatusPage.objects.filter(pk=page.pk, publish_due_at__isnull=True).update(
                publish_due_at=now
            )
    return marked


def check_status_pages() -> health.Result:
    """`fallback doctor`: does every status page publish?"""
    name = "Status pages"
    try:
        failing = list(StatusPage.objects.exclude(last_error="").select_related("org"))
        count = StatusPage.objects.exclude(folder_path="", s3_bucket="").count()
    except Exception as exc:
        return health.Result(name, health.Status.FAIL, f"cannot read them: {exc}", "")
    if failing:
        detail = "; ".join(f"{p.org.slug}: {p.last_error[:200]}" for p in failing)
        return health.Result(
            name,
            health.Status.FAIL,
            detail,
            "fix the folder or the bucket in Notices → Status page, then Publish now "
            "(or `fallback comms status-page ORG --publish`)",
        )
    return health.Result(name, health.Status.OK, f"{count} published" if count else "none set up")


if check_status_pages not in health.CHECKS:
    health.CHECKS.append(check_status_pages)
