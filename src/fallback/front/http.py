"""Typed requests for the views, so mypy knows what middleware and `org_view` attach."""

from __future__ import annotations

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from fallback.accounts.models import Membership, Organisation, User


class UserRequest(HttpRequest):
    """A request behind login_required: the user is a real account."""

    user: User
    htmx: HtmxDetails


class OrgRequest(UserRequest):
    """A request through `fallback.accounts.access.org_view`."""

    org: Organisation
    membership: Membership
