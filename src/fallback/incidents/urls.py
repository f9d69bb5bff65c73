from django.urls import URLPattern, URLResolver, path

from fallback.incidents import views

app_name = "incidents"
P = "o/<slug:org_slug>/incidents/"
urlpatterns: list[URLPattern | URLResolver] = [
    path(P, views.incident_list, name="list"),
    path(P + "declare/", views.incident_declare, name="declare"),
    path(P + "<int:incident_id>/", views.incident_detail, name="detail"),
    path(P + "<int:incident_id>/confirm/", views.incident_confirm, name="confirm"),
    path(P + "<int:incident_id>/resolve/", views.incident_resolve, name="resolve"),
    path(P + "<int:incident_id>/note/", views.incident_note, name="note"),
    path(P + "alerts/", views.channel_list, name="channels"),
    path(P + "alerts/log/", views.delivery_log, name="deliveries"),
    path(P + "alerts/<int:channel_id>/", views.channel_edit, name="channel"),
    path(P + "alerts/<int:channel_id>/test/", views.channel_test, name="channel_test"),
]
