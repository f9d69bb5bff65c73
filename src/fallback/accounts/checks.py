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
