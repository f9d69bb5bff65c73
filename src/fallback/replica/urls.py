from django.urls import URLPattern, URLResolver, path

from fallback.replica import views

app_name = "replica"
R = "o/<slug:org_slug>/replica/"
C = R + "<slug:slug>/"
urlpatterns: list[URLPattern | URLResolver] = [
    path(R, views.connector_list, name="list"),
    path(R + "new/", views.connector_create, name="create"),
    path(R + "card/", views.card, name="card"),
    path(R + "browse/", views.browse, name="browse"),
    path(R + "record/<int:record_id>/", views.record_detail, name="record"),
    path(C, views.connector_detail, name="connector"),
    path(C + "edit/", views.connector_edit, name="edit"),
    path(C + "sync/", views.sync_now, name="sync_now"),
    path(C + "upload/", views.upload, name="upload"),
    path(C + "files/<int:file_id>/", views.kept_file, name="kept_file"),
    path(C + "syncs/<int:sync_id>/", views.sync_detail, name="sync"),
    path(C + "syncs/<int:sync_id>/release/", views.sync_release, name="release"),
    path(C + "syncs/<int:sync_id>/discard/", views.sync_discard, name="discard"),
]
