"""Resolving the organisation of a request: membership or 404, capability or 403."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from fallback.accounts.models import Membership
from fallback.accounts.roles import Capability


def membership_or_404(user: Any, slug: str) -> Membership:
    """The user's membership of the organisation `slug`; not a member looks like no such org."""
    membership = (
        Membership.objects.select_related("org").filter(user=user, org__slug=slug).first()
        if user is not None and user.is_authenticated
        else None
    )
    if membership is None:
        raise Http404("No such organisation")
    return membership


def require(membership: Membership, capability: Capability) -> None:
    if not membership.can(capability):
        raise PermissionDenied(f"Your role ({membership.get_role_display()}) does not allow this.")


def org_view(
    capability: Capability = Capability.VIEW,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """View decorator: `org_slug` URL kwarg → request.org and request.membership."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @functools.wraps(view)
        def wrapped(request: HttpRequest, org_slug: str, *args: Any, **kwargs: Any) -> HttpResponse:
            membership = membership_or_404(request.user, org_slug)
            require(membership, capability)
            request.membership = membership  # type: ignore[attr-defined]
            request.org = membership.org  # type: ignore[attr-defined]
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
