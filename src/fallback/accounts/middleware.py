from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django_htmx.http import HttpResponseClientRedirect


class PasswordChangeRequiredMiddleware:
    """Sends a user whose password someone else chose to the change-password page.

    Until they pick their own, every page except changing it, logging out and static
    files redirects there: a one-time password must not become a permanent one.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and getattr(user, "must_change_password", False)
            and not self._exempt(request.path)
        ):
            target = reverse("accounts:password_change")
            # Read the header itself: HtmxMiddleware runs after this one.
            if request.headers.get("HX-Request") == "true":
                # A plain redirect would be swapped into part of the page.
                return HttpResponseClientRedirect(target)
            if request.method == "GET":
                target += "?" + urlencode({"next": request.get_full_path()})
            return redirect(target)
        return self.get_response(request)

    @staticmethod
    def _exempt(path: str) -> bool:
        allowed = (
            reverse("accounts:password_change"),
            reverse("logout"),
            reverse("login"),
            reverse("healthz"),
            settings.STATIC_URL or "/static/",
        )
        return path.startswith(allowed)
