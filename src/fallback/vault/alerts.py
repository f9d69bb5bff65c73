"""Staff alerts when a backup fails or does not verify.

The vault belongs to the installation, but alerts go through the organisations' own alert
channels (incidents.alerts.queue_notice: retried, never duplicated): to the channels of the
organisations an installation administrator (superuser) owns or manages — on a one-business
box, that business; for a provider, its own organisation(s) — or, when no administrator is
an owner or manager anywhere, to every organisation's. A channel that lists its events gets
them only if it lists "backup_failed".
"""

from __future__ import annotations

import logging

from fallback.accounts.models import Membership, Organisation
from fallback.accounts.roles import Role
from fallback.incidents.alerts import queue_notice
from fallback.incidents.models import AlertEvent

log = logging.getLogger("fallback.vault")


def alerted_organisations() -> list[Organisation]:
    ids = set(
        Membership.objects.filter(
            user__is_superuser=True, user__is_active=True, role__in=[Role.OWNER, Role.MANAGER]
        ).values_list("org_id", flat=True)
    )
    if ids:
        return list(Organisation.objects.filter(pk__in=ids).order_by("pk"))
    return list(Organisation.objects.order_by("pk"))


def backup_problem(scope: str, title: str, body: str) -> int:
    """Queue one alert per channel for this problem (`scope` makes it once only); logs it
    too, so it is seen even where no organisation has a channel. Returns how many queued."""
    log.error("%s: %s", title, body.splitlines()[0] if body else "")
    queued = 0
    for org in alerted_organisations():
        queued += len(
            queue_notice(
                org.pk,
                AlertEvent.BACKUP_FAILED,
                f"vault:{scope}",
                f"[Backups] {title}",
                body + "\nBackups: /vault/",
            )
        )
    return queued
