"""Which desk device a browser is: a signed cookie per organisation holds the device's token.

A device's code is part of every provisional number it gives, so each browser that makes
documents must be a device of its own. A browser without the cookie is asked once to name
itself ("Front desk PC"); the cookie then lasts for years, is HttpOnly (scripts cannot read
it) and SameSite=Lax.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from fallback.accounts.models import Organisation
from fallback.desk import numbering
from fallback.desk.models import Device

SALT = "fallback.desk.device"
MAX_AGE = 60 * 60 * 24 * 365 * 5  # five years: a device keeps its code for good
SEEN_EVERY = timedelta(minutes=5)  # last_seen_at is written at most this often


def cookie_name(org: Organisation) -> str:
    return f"fallback_desk_{org.pk}"


def current(request: HttpRequest, org: Organisation) -> Device | None:
    """The device this browser is for `org`, or None (no cookie, a forged one, a device of
    another organisation)."""
    cache = request.__dict__.setdefault("_desk_devices", {})
    if org.pk in cache:
        return cache[org.pk]  # type: ignore[no-any-return]
    token = request.get_signed_cookie(cookie_name(org), default="", salt=SALT, max_age=MAX_AGE)
    device = Device.objects.filter(org=org, token=token).first() if token else None
    if device is not None:
        now = timezone.now()
        if device.last_seen_at is None or now - device.last_seen_at > SEEN_EVERY:
            Device.objects.filter(pk=device.pk).update(last_seen_at=now)
            device.last_seen_at = now
    cache[org.pk] = device
    return device


def remember(response: HttpResponse, device: Device) -> None:
    """Make the browser this response goes to `device` for its organisation."""
    response.set_signed_cookie(
        cookie_name(device.org),
        device.token,
        salt=SALT,
        max_age=MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )


def register(request: HttpRequest, org: Organisation, name: str) -> Device:
    """A new device named `name` for this browser (the caller sets the cookie with
    `remember`). A browser that already is a device keeps it, renamed."""
    existing = current(request, org)
    name = name.strip()[:100]
    if existing is not None:
        if name and name != existing.name:
            Device.objects.filter(pk=existing.pk).update(name=name)
            existing.name = name
        return existing
    device = numbering.register_device(org, name)
    request.__dict__.setdefault("_desk_devices", {})[org.pk] = device
    return device
