"""System check: every Fallback model is scoped to an organisation or says why it is not."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.checks import Error, register

# Models that are deliberately not org-owned, with the reason.
GLOBAL_MODELS: dict[str, str] = {
    "accounts.User": "a person may belong to many organisations",
    "accounts.Organisation": "it is the organisation",
    "accounts.ApiToken": "belongs to a user; reaches only that user's organisations",
    "audit.AuditEvent": "org is nullable: account-level events belong to the actor alone",
    "runtime.WorkerHeartbeat": "describes a process of the installation",
    # The vault backs up the whole installation's database: installation administrators
    # (superusers) manage it, not one organisation.
    "vault.VaultSettings": "the installation's backup schedule and retention",
    "vault.Recipient": "a key the installation's snapshots are encrypted to",
    "vault.Destination": "where the installation's snapshots go",
    "vault.FileSet": "files the installation keeps with its snapshots",
    "vault.Snapshot": "a snapshot of the whole installation",
    "vault.SnapshotCopy": "a snapshot of the whole installation on one destination",
    "vault.Verification": "a restore test of a snapshot of the whole installation",
}


def _has_org_field(model: Any) -> bool:
    try:
        field = model._meta.get_field("org")
    except Exception:
        return False
    return bool(field.is_relation and field.related_model._meta.label == "accounts.Organisation")


@register()
def check_org_scoping(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    errors = []
    for model in apps.get_models():
        if not model.__module__.startswith("fallback."):
            continue
        label = model._meta.label
        if label in GLOBAL_MODELS or _has_org_field(model):
            continue
        errors.append(
            Error(
                f"{label} has no `org` foreign key to accounts.Organisation",
                hint="Inherit fallback.accounts.scoping.OrgOwned, or add it to "
                "GLOBAL_MODELS in fallback/accounts/checks.py with the reason.",
                obj=model,
                id="fallback.E001",
            )
        )
    return errors
