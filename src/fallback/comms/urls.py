from django.urls import URLPattern, URLResolver, path

from fallback.comms import followup_views, status_views, subscribe_views, views

app_name = "comms"
C = "o/<slug:org_slug>/comms/"
N = C + "notices/<int:pk>/"
urlpatterns: list[URLPattern | URLResolver] = [
    path(C, views.index, name="index"),
    path(C + "card/", views.card, name="card"),
    path(C + "incidents/<int:incident_id>/", views.incident, name="incident"),
    path(C + "incidents/<int:incident_id>/follow-up/", followup_views.followup, name="followup"),
    path(
        C + "incidents/<int:incident_id>/follow-up/csv/",
        followup_views.followup_csv,
        name="followup-csv",
    ),
    path(
        C + "incidents/<int:incident_id>/follow-up/redeem/",
        followup_views.followup_redeem,
        name="followup-redeem",
    ),
    path(N, views.notice_view, name="notice"),
    path(N + "check/", views.notice_check, name="notice-check"),
    path(N + "acknowledge/", views.notice_acknowledge, name="notice-acknowledge"),
    path(N + "send/", views.notice_send, name="notice-send"),
    path(N + "progress/", views.notice_progress, name="notice-progress"),
    path(N + "stop/", views.notice_stop, name="notice-stop"),
    path(N + "resend/", views.notice_resend, name="notice-resend"),
    path(N + "mark-sent/", views.notice_mark_sent, name="notice-mark-sent"),
    path(N + "calls/", views.calls, name="calls"),
    path(N + "calls/print/", views.calls_print, name="calls-print"),
    path(N + "calls/pdf/", views.calls_pdf, name="calls-pdf"),
    path(C + "outbox/", views.outbox_view, name="outbox"),
    path(C + "settings/", views.settings_view, name="settings"),
    path(C + "settings/test/", views.settings_test, name="settings-test"),
    path(C + "channels/", views.channels, name="channels"),
    path(C + "channels/<int:pk>/", views.channel_edit, name="channel"),
    path(C + "opt-outs/", views.opt_outs, name="opt-outs"),
    path(C + "key-accounts/", views.key_accounts, name="key-accounts"),
    path(C + "templates/", views.templates, name="templates"),
    path(C + "templates/<int:pk>/", views.template_edit, name="template"),
    path(C + "status/", status_views.status_settings, name="status"),
    path(C + "status/publish/", status_views.status_publish, name="status-publish"),
    path(C + "status/preview/", status_views.status_preview, name="status-preview"),
    path(C + "status/summary.json", status_views.status_summary, name="status-summary"),
    path(C + "status/subscribers/", status_views.status_subscribers, name="status-subscribers"),
    path(
        C + "incidents/<int:incident_id>/status-update/",
        status_views.status_update,
        name="status-update",
    ),
    # Public, no login: the page as Fallback serves it, subscribing, the emails' links.
    path("status/<slug:org_slug>/", subscribe_views.public_page, name="public-status"),
    path(
        "status/<slug:org_slug>/summary.json",
        subscribe_views.public_summary,
        name="public-summary",
    ),
    path("status/<slug:org_slug>/subscribe/", subscribe_views.subscribe, name="subscribe"),
    path("status/<slug:org_slug>/confirm/<str:token>/", subscribe_views.confirm, name="confirm"),
    path(
        "status/<slug:org_slug>/unsubscribe/<str:token>/",
        subscribe_views.unsubscribe,
        name="unsubscribe",
    ),
]
