"""Organisation scoping: every org-owned row carries `org`, and queries start from it."""

from __future__ import annotations

from typing import Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.http import Http404

from fallback.accounts.models import Organisation

M = TypeVar("M", bound=models.Model)


class OrgQuerySet(models.QuerySet[M]):
    def for_org(self, org: Organisation) -> OrgQuerySet[M]:
        return self.filter(org=org)


class OrgOwned(models.Model):
    """Abstract base for every row that belongs to one organisation."""

    org = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")

    objects = OrgQuerySet.as_manager()

    class Meta:
        abstract = True


def get_for_org_or_404(queryset: models.QuerySet[M], org: Organisation, **lookup: Any) -> M:
    """Fetch one row of `org`; a row of another organisation is indistinguishable from none."""
    try:
        return queryset.filter(org=org).get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError) as exc:
        raise Http404(f"No {queryset.model._meta.verbose_name} here") from exc
