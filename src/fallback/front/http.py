"""Typed requests for the views, so mypy knows what middleware and `org_view` attach; and
the one way a file (a PDF, a CSV) is answered."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.http import content_disposition_header
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


PDF = "application/pdf"


def file_response(
    content: bytes | str, filename: str, *, content_type: str = PDF, inline: bool = True
) -> HttpResponse:
    """`content` as a file called `filename`: shown in the browser (inline) or downloaded."""
    response = HttpResponse(content, content_type=content_type)
    disposition = content_disposition_header(not inline, filename)
    response["Content-Disposition"] = disposition or ("inline" if inline else "attachment")
    return response
