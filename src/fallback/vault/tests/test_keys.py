"""Keys: a new key pair's private key is handed back once and not stored, unless it is to
be kept on the box — then only sealed; public keys are checked before they are used."""

from __future__ import annotations

import pyrage
import pytest

from fallback import sealing
from fallback.audit.models import AuditEvent
from fallback.vault import agefile, keys
from fallback.vault.models import Recipient

pytestmark = pytest.mark.django_db


def test_a_new_key_stores_only_its_public_half():
    made = keys.generate("Binder copy")
    assert made.secret.startswith("AGE-SECRET-KEY-1")
    stored = Recipient.objects.get()
    assert stored.public_key.startswith("age1") and stored.sealed_identity == ""
    assert made.secret not in str(list(Recipient.objects.values()))
    assert keys.kept_identities() == []
    assert AuditEvent.objects.filter(action="vault.key.generated").exists()


def test_a_key_kept_on_the_box_is_stored_sealed():
    made = keys.generate("Kept", keep_on_box=True)
    stored = Recipient.objects.get()
    assert stored.sealed_identity.startswith(sealing.PREFIX)
    assert made.secret not in stored.sealed_identity
    [kept] = keys.kept_identities()
    assert kept.public_key().public_bytes_raw() == agefile.recipient_bytes(
        made.recipient.public_key
    )
    keys.forget_kept(stored)
    assert keys.kept_identities() == []


def test_a_public_key_is_checked_before_it_is_added():
    with pytest.raises(keys.KeyProblem, match="is not an age public key"):
        keys.add_recipient("age1notreally", "IT provider")
    with pytest.raises(keys.KeyProblem, match="needs a label"):
        keys.add_recipient(str(pyrage.x25519.Identity.generate().to_public()), " ")
    assert not Recipient.objects.exists()


def test_the_last_key_cannot_be_removed():
    only = keys.generate("Only").recipient
    with pytest.raises(keys.KeyProblem, match="only key"):
        keys.remove_recipient(only)
    other = keys.generate("Second").recipient
    keys.remove_recipient(only)
    assert list(Recipient.objects.all()) == [other]
