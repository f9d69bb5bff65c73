"""Field types for section schemas: strict text (no YAML number or boolean read as text),
with the checks and messages that config files share."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from pydantic import AfterValidator, StrictStr, StringConstraints

_SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")


def django_check(validator: Callable[[str], None]) -> AfterValidator:
    """Use a Django validator (shared with the model and forms) as a pydantic check."""

    def check(value: str) -> str:
        try:
            validator(value)
        except ValidationError as exc:
            raise ValueError(" ".join(exc.messages)) from exc
        return value

    return AfterValidator(check)


def _slug(value: str) -> str:
    if not _SLUG.match(value):
        raise ValueError(
            f"must contain only letters, digits, hyphens and underscores (got {value!r})"
        )
    return value


def _email(value: str) -> str:
    value = value.strip().lower()
    try:
        validate_email(value)
    except ValidationError as exc:
        raise ValueError(f"is not a valid email address (got {value!r})") from exc
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


# Non-blank text; add a limit with `Annotated[Text, StringConstraints(max_length=200)]`.
Text = Annotated[StrictStr, AfterValidator(_not_blank)]
Slug = Annotated[StrictStr, StringConstraints(max_length=60), AfterValidator(_slug)]
# Compared and stored in lower case, as accounts are.
Email = Annotated[StrictStr, StringConstraints(max_length=254), AfterValidator(_email)]


# Secrets are never written in a config file (files end up in repositories and backups):
# a secret setting names the environment variable that holds it, read when the file is applied.
ENV_PREFIX = "env:"


def _env_reference(value: str) -> str:
    if not value.startswith(ENV_PREFIX) or len(value) <= len(ENV_PREFIX):
        raise ValueError(
            "secrets are not written in config files: give the environment variable that "
            f"holds it, as env:NAME (got a value starting {value[:4]!r}…)"
        )
    return value


EnvReference = Annotated[StrictStr, AfterValidator(_env_reference)]


def env_name(reference: str) -> str:
    """ "env:SHOP_TOKEN" -> "SHOP_TOKEN"."""
    return reference[len(ENV_PREFIX) :]
