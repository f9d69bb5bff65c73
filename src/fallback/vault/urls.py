from django.urls import URLPattern, URLResolver, path

from fallback.vault import views

app_name = "vault"
V = "vault/"
urlpatterns: list[URLPattern | URLResolver] = [
    path(V, views.index, name="index"),
    path(V + "snapshot/", views.snapshot_now, name="snapshot"),
    path(V + "verify/", views.verify_now, name="verify"),
    path(V + "settings/", views.settings_view, name="settings"),
    path(V + "keys/", views.recipient_add, name="recipient-add"),
    path(V + "keys/<int:pk>/remove/", views.recipient_remove, name="recipient-remove"),
    path(V + "keys/<int:pk>/forget/", views.recipient_forget, name="recipient-forget"),
    path(V + "destinations/new/", views.destination_form, name="destination-new"),
    path(V + "destinations/<slug:name>/", views.destination_form, name="destination"),
    path(
        V + "destinations/<slug:name>/remove/", views.destination_remove, name="destination-remove"
    ),
    path(V + "destinations/<slug:name>/check/", views.destination_check, name="destination-check"),
    path(V + "file-sets/new/", views.file_set_form, name="file-set-new"),
    path(V + "file-sets/<slug:name>/", views.file_set_form, name="file-set"),
    path(V + "file-sets/<slug:name>/remove/", views.file_set_remove, name="file-set-remove"),
    path("o/<slug:org_slug>/backups-card/", views.card, name="card"),
]
