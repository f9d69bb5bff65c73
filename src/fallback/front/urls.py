from django.urls import URLPattern, URLResolver, path

from fallback.front import views

app_name = "front"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="home"),
    path("o/<slug:org_slug>/", views.dashboard, name="dashboard"),
    path("o/<slug:org_slug>/audit/", views.audit_list, name="audit"),
    path("o/<slug:org_slug>/audit/<int:event_id>/", views.audit_event, name="audit_event"),
]
