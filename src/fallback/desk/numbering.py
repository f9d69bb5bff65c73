"""Provisional numbers: prefix, period, device, kind and sequence — FB7-A-INV0003.

The main system never hands out numbers with the organisation's chosen prefix (the settings
page checks the replica for clashes), and each device counts its own sequence, so two
devices give distinct numbers even with no network between them. The sequence is counted
in the database in the same transaction that saves the document, so a number is never given
twice and never skipped by a crash after it was given.
"""

from __future__ import annotations

import secrets
import string

from django.db import IntegrityError, connection, transaction
from django.db.models import Q

from fallback.accounts.models import Organisation
from fallback.desk.models import (
    DEVICE_CODE_VALIDATOR,
    DeskSettings,
    Device,
    DocumentKind,
    FallbackPeriod,
    NumberSeries,
)
from fallback.replica import history

KIND_CODES: dict[str, str] = {
    DocumentKind.QUOTE: "Q",
    DocumentKind.ORDER: "SO",
    DocumentKind.INVOICE: "INV",
    DocumentKind.PURCHASE_ORDER: "PO",
    DocumentKind.PICKING_LIST: "PL",
    DocumentKind.DELIVERY_DOCKET: "DD",
}


def format_number(prefix: str, period: int, device: str, kind: str, seq: int) -> str:
    return f"{prefix}{period}-{device}-{KIND_CODES[kind]}{seq:04d}"


def next_number(desk: DeskSettings, period: FallbackPeriod, device: Device, kind: str) -> str:
    """The next number for `kind` on `device` in `period`; call inside the transaction that
    saves the document."""
    seq = _advance(period, device, kind)
    if seq is None:  # the first of its kind on this device in this period
        NumberSeries.objects.get_or_create(
            org_id=desk.org_id, period=period, device=device, kind=kind
        )
        seq = _advance(period, device, kind)
    assert seq is not None
    return format_number(desk.number_prefix, period.number, device.code, kind, seq)


def _advance(period: FallbackPeriod, device: Device, kind: str) -> int | None:
    """Count one up and read it back in one statement: the write lock is held from here to
    the commit, so the fewer statements after it, the less everyone else waits."""
    table = NumberSeries._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE "{table}" SET "last" = "last" + 1'  # noqa: S608 (the model's own table)
            ' WHERE "period_id" = %s AND "device_id" = %s AND "kind" = %s RETURNING "last"',
            [period.pk, device.pk, kind],
        )
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def _codes() -> list[str]:
    letters = string.ascii_uppercase
    return list(letters) + [a + b for a in letters for b in letters]


def register_device(org: Organisation, name: str, code: str = "") -> Device:
    """A new device with the first free code (A, B, … Z, AA, AB …) unless one is given."""
    name = name.strip()[:100] or "Desk device"
    code = code.strip().upper()
    if code:
        DEVICE_CODE_VALIDATOR(code)
    for _ in range(5):
        taken = set(Device.objects.filter(org=org).values_list("code", flat=True))
        if code and code in taken:
            raise ValueError(f"Device code {code} is taken; choose another or leave it empty.")
        chosen = code or next(c for c in _codes() if c not in taken)
        try:
            with transaction.atomic():
                return Device.objects.create(
                    org=org, code=chosen, name=name, token=secrets.token_urlsafe(32)
                )
        except IntegrityError:
            if code:
                raise ValueError(f"Device code {code} is taken.") from None
    raise ValueError("Could not register the device; try again.")


def prefix_clash(org: Organisation, prefix: str) -> str | None:
    """Why `prefix` cannot be the desk's, or None (settings page and config files): the main
    system must never use it, and its orders and invoices in the replica say what it uses."""
    clash = (
        history.current(org)
        .filter(entity__in=("order", "invoice"))
        .filter(Q(name__istartswith=prefix) | Q(data__number__istartswith=prefix))
        .order_by("name")
        .first()
    )
    if clash is None:
        return None
    number = (clash.data or {}).get("number") or clash.name
    return (
        f"the main system already has {clash.entity} {number}, which starts with {prefix}: "
        "choose a prefix it never uses"
    )
