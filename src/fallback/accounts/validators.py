"""Validators for organisation settings, shared by the model, forms, the API and config files."""

from __future__ import annotations

import re
import zoneinfo

from django.core.exceptions import ValidationError

_CURRENCY = re.compile(r"^[A-Z]{3}$")
_LOCALE = re.compile(r"^[a-z]{2,3}(-[A-Z]{2}|-[0-9]{3})?$")


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            f"{value!r} is not a known time zone (use a name such as Europe/London)"
        )


def validate_currency(value: str) -> None:
    if not _CURRENCY.match(value):
        raise ValidationError(f"{value!r} is not an ISO 4217 currency code (three capitals: GBP)")


def validate_locale(value: str) -> None:
    if not _LOCALE.match(value):
        raise ValidationError(f"{value!r} is not a locale such as en-GB")
