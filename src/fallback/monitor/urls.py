from django.urls import URLPattern, URLResolver, path

from fallback.monitor import views

app_name = "monitor"
S = "o/<slug:org_slug>/systems/<slug:slug>/"
urlpatterns: list[URLPattern | URLResolver] = [
    path("o/<slug:org_slug>/systems/", views.board, name="board"),
    path("o/<slug:org_slug>/systems/new/", views.system_create, name="system_create"),
    path("o/<slug:org_slug>/systems/card/", views.card, name="card"),
    path("o/<slug:org_slug>/systems/report/", views.report, name="report"),
    path("o/<slug:org_slug>/systems/report/csv/", views.report_csv, name="report_csv"),
    path(S, views.system_detail, name="system"),
    path(S + "edit/", views.system_edit, name="system_edit"),
    path(S + "delete/", views.system_delete, name="system_delete"),
    path(S + "pause/", views.system_pause, name="system_pause"),
    path(S + "checks/new/", views.check_create, name="check_create"),
    path(S + "checks/<int:check_id>/", views.check_edit, name="check_edit"),
    path(S + "checks/<int:check_id>/delete/", views.check_delete, name="check_delete"),
    path(S + "checks/<int:check_id>/token/", views.check_new_token, name="check_new_token"),
    path(S + "canaries/", views.add_canaries, name="add_canaries"),
    path(S + "maintenance/", views.maintenance_add, name="maintenance_add"),
    path(
        S + "maintenance/<int:window_id>/delete/",
        views.maintenance_delete,
        name="maintenance_delete",
    ),
    path(S + "simulator/", views.simulator_switch, name="simulator"),
]
