"""The guards: reasons to hold a sync instead of applying it.

A sync is compared with the last good one of the same connector: a list that came back
empty, or with more than the connector's drop share fewer records (full sweeps only: an
incremental sync brings changes, not everything); records without their key; a mapped field
that was filled before and is now empty everywhere (the source renamed or dropped it); and
any fetch that stopped part-way (an error on a later page, truncated JSON, a bad file row).
"""

from __future__ import annotations

from typing import Any

from fallback.replica.models import Connector, Sync, SyncStatus

FIELD_LOSS_MIN_RECORDS = 10  # below this, an empty field is no evidence
FIELD_LOSS_WAS_FILLED = 0.5  # the field was filled in at least this share of records


def last_good(connector: Connector, *, full: bool, before: Sync | None = None) -> Sync | None:
    syncs = Sync.objects.filter(
        org_id=connector.org_id, connector=connector, status=SyncStatus.APPLIED
    )
    if full:
        syncs = syncs.filter(full=True, complete=True)
    if before is not None and before.pk:
        syncs = syncs.exclude(pk=before.pk)
    return syncs.order_by("-started_at", "-pk").first()


def reasons(connector: Connector, sync: Sync, fetch_error: str | None) -> list[str]:
    """Every reason to hold `sync` (empty: apply it)."""
    held: list[str] = []
    if fetch_error:
        held.append(f"the fetch stopped part-way: {fetch_error}")
    previous_full = last_good(connector, full=True, before=sync)
    previous_any = last_good(connector, full=False, before=sync)
    before: dict[str, Any] = previous_full.streams if previous_full else {}
    for name, now in sync.streams.items():
        fetched = int(now.get("fetched", 0))
        was = int(before.get(name, {}).get("fetched", 0)) if before else 0
        if sync.full and not fetch_error:
            if fetched == 0 and (was > 0 or previous_full is None):
                held.append(
                    f"{name}: no records came back"
                    + (f" (the last good sync had {was:,})" if was else "")
                )
            elif was and fetched < was * (1 - connector.drop_guard_percent / 100):
                drop = 100 * (was - fetched) / was
                held.append(
                    f"{name}: {fetched:,} records, {drop:.0f}% fewer than the {was:,} of the last"
                    f" good sync (the guard is {connector.drop_guard_percent}%)"
                )
        missing = int(now.get("missing_key", 0))
        if missing:
            have = "record has" if missing == 1 else "records have"
            held.append(
                f"{name}: {missing:,} of {fetched:,} {have} no key"
                f" ({now.get('key_path', 'key')!s} is empty): has the source changed shape?"
            )
        held.extend(_lost_fields(name, now, previous_any))
    return held


def _lost_fields(name: str, now: dict[str, Any], previous: Sync | None) -> list[str]:
    if previous is None:
        return []
    fetched = int(now.get("fetched", 0))
    then = previous.streams.get(name, {})
    then_fetched = int(then.get("fetched", 0))
    if fetched < FIELD_LOSS_MIN_RECORDS or then_fetched < FIELD_LOSS_MIN_RECORDS:
        return []
    lost = []
    filled_now: dict[str, int] = now.get("filled", {})
    for field, count in (then.get("filled") or {}).items():
        share = count / then_fetched
        if share >= FIELD_LOSS_WAS_FILLED and filled_now.get(field, 0) == 0:
            lost.append(
                f"{name}: {field} is empty in every record (it was filled in {share:.0%} last"
                " time): was it renamed or removed at the source?"
            )
    return lost
