"""The keys snapshots are encrypted to.

`generate` makes an age identity: its private key is shown once (to be printed into the
binder and kept off-site), its public key becomes a Recipient. By default the private key is
not stored at all, so a thief of the box cannot read the off-site copies; with
`keep_on_box` it is stored sealed (fallback.sealing) so that automatic restore tests can
decrypt (FULL verification) — docs/VAULT.md weighs the two.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import pyrage  # type: ignore[import-untyped]
from django.core.exceptions import ValidationError
from django.db import transaction

from fallback import sealing
from fallback.audit.trail import record
from fallback.vault import agefile
from fallback.vault.archive import ArchiveError, parse_identities
from fallback.vault.models import RECIPIENT_VALIDATOR, Recipient

log = logging.getLogger("fallback.vault")


class KeyProblem(Exception):
    """A key could not be added or removed; the message says why."""


@dataclass(frozen=True)
class NewKey:
    recipient: Recipient
    secret: str  # AGE-SECRET-KEY-1…: show once, never log


def _label(label: str) -> str:
    label = label.strip()
    if not label:
        raise KeyProblem("a key needs a label, e.g. 'Binder copy, office safe'")
    if len(label) > 100:
        raise KeyProblem("the label is longer than 100 characters")
    return label


def check_public_key(text: str) -> str:
    text = text.strip()
    try:
        RECIPIENT_VALIDATOR(text)
        pyrage.x25519.Recipient.from_str(text)
    except (ValidationError, Exception) as exc:
        raise KeyProblem(
            f"{text[:70]!r} is not an age public key (age1 followed by 58 letters and digits)"
        ) from exc
    return text


@transaction.atomic
def generate(label: str, keep_on_box: bool = False) -> NewKey:
    identity = pyrage.x25519.Identity.generate()
    secret = str(identity)
    recipient = Recipient.objects.create(
        label=_label(label),
        public_key=str(identity.to_public()),
        sealed_identity=sealing.seal(secret) if keep_on_box else "",
    )
    record(
        None,
        "vault.key.generated",
        recipient,
        {"public_key": [None, recipient.public_key], "kept_on_box": [None, keep_on_box]},
    )
    return NewKey(recipient, secret)


@transaction.atomic
def add_recipient(public_key: str, label: str) -> Recipient:
    key = check_public_key(public_key)
    if Recipient.objects.filter(public_key=key).exists():
        raise KeyProblem(f"{key[:16]}… is already a recipient")
    recipient = Recipient.objects.create(label=_label(label), public_key=key)
    record(None, "vault.recipient.added", recipient, {"public_key": [None, key]})
    return recipient


@transaction.atomic
def remove_recipient(recipient: Recipient) -> None:
    if Recipient.objects.count() <= 1:
        raise KeyProblem(
            "this is the only key: add another before removing it, or snapshots could not "
            "be encrypted"
        )
    record(None, "vault.recipient.removed", recipient, {"public_key": [recipient.public_key, None]})
    recipient.delete()


@transaction.atomic
def forget_kept(recipient: Recipient) -> None:
    """Remove the stored private key (verification falls back to INTEGRITY)."""
    if recipient.sealed_identity:
        recipient.sealed_identity = ""
        recipient.save(update_fields=["sealed_identity"])
        record(None, "vault.key.forgotten", recipient, {"kept_on_box": [True, False]})


def public_keys() -> list[str]:
    return list(Recipient.objects.values_list("public_key", flat=True))


def kept_identities() -> list[Any]:
    """The private keys stored on this box (sealed), ready to decrypt; [] when none."""
    found = []
    for sealed in Recipient.objects.exclude(sealed_identity="").values_list(
        "sealed_identity", flat=True
    ):
        try:
            found.append(agefile.identity_key(sealing.unseal(sealed)))
        except Exception:  # sealed with another installation's sealing key: unusable here
            log.warning("a kept vault key cannot be unsealed with this sealing key")
            continue
    return found


def identities_from_file(text: str) -> list[Any]:
    try:
        return parse_identities(text)
    except ArchiveError as exc:
        raise KeyProblem(str(exc)) from exc
