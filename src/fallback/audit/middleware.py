from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from fallback.audit.context import acting_as
from fallback.audit.models import Via


class AuditActorMiddleware:
    """Makes the logged-in user the actor for anything a web request records."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with acting_as(getattr(request, "user", None), Via.WEB):
            return self.get_response(request)
