from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from fallback.accounts.models import Membership


def organisations(request: HttpRequest) -> dict[str, Any]:
    """The organisations of the logged-in user, for the switcher in every page."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "my_memberships": Membership.objects.filter(user=user).select_related("org"),
        "org": getattr(request, "org", None),
        "membership": getattr(request, "membership", None),
    }
