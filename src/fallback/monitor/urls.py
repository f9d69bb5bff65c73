from django.urls import URLPattern, URLResolver, path

from fallback.monitor import sla_claim_views as claims
from fallback.monitor import views

app_name = "monitor"
S = "o/<slug:org_slug>/systems/<slug:slug>/"
CL = "o/<slug:org_slug>/systems/claims/"
urlpatterns: list[URLPattern | URLResolver] = [
    path("o/<slug:org_slug>/systems/", views.board, name="board"),
    path("o/<slug:org_slug>/systems/new/", views.system_create, name="system_create"),
    path("o/<slug:org_slug>/systems/card/", views.card, name="card"),
    path("o/<slug:org_slug>/systems/report/", views.report, name="report"),
    path("o/<slug:org_slug>/systems/report/csv/", views.report_csv, name="report_csv"),
    path(CL, claims.claims, name="sla_claims"),
    path(CL + "new/", claims.claim_new, name="sla_claim_new"),
    path(CL + "<int:pk>/", claims.claim_view, name="sla_claim"),
    path(CL + "<int:pk>/sent/", claims.claim_sent, name="sla_claim_sent"),
    path(CL + "<int:pk>/answer/", claims.claim_answer, name="sla_claim_answer"),
    path(CL + "<int:pk>/print/", claims.claim_print, name="sla_claim_print"),
    path(CL + "<int:pk>/pdf/", claims.claim_pdf, name="sla_claim_pdf"),
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
