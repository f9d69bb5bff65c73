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


def free_slug(
    others: models.QuerySet[Any],
    name: str,
    reserved: frozenset[str],
    fallback: str,
    exclude: int | None = None,
) -> str:
    """A slug from `name` that none of `others` (one organisation's rows) has taken:
    "shop", then "shop-2", "shop-3"…; a word the pages use gets "-<fallback>" added."""
    from django.utils.text import slugify

    base = slugify(name)[:50].strip("-") or fallback
    if base in reserved:
        base = f"{base}-{fallback}"
    if exclude is not None:
        others = others.exclude(pk=exclude)
    taken = set(others.filter(slug__startswith=base).values_list("slug", flat=True))
    slug, n = base, 2
    while slug in taken:
        slug = f"{base}-{n}"
        n += 1
    return slug


def get_for_org_or_404(queryset: models.QuerySet[M], org: Organisation, **lookup: Any) -> M:
    """Fetch one row of `org`; a row of another organisation is indistinguishable from none."""
    try:
        return queryset.filter(org=org).get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError) as exc:
        raise Http404(f"No {queryset.model._meta.verbose_name} here") from exc
