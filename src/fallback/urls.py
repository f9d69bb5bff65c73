from django.urls import include, path

from fallback.api import api
from fallback.front import views as front_views

urlpatterns = [
    path("healthz", front_views.healthz, name="healthz"),
    path("api/", api.urls),
    path("", include("fallback.accounts.urls")),
    path("", include("fallback.front.urls")),
    path("", include("fallback.monitor.urls")),
    path("", include("fallback.incidents.urls")),
    path("", include("fallback.replica.urls")),
    path("", include("fallback.desk.urls")),
    path("", include("fallback.comms.urls")),
    path("", include("fallback.plans.urls")),
    path("", include("fallback.vault.urls")),
]
