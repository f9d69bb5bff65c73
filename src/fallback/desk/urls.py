from django.urls import URLPattern, URLResolver, path

from fallback.desk import print_views, views

app_name = "desk"
D = "o/<slug:org_slug>/desk/"
DOC = D + "documents/"
P = D + "periods/<int:number>/"
urlpatterns: list[URLPattern | URLResolver] = [
    path(D, views.home, name="home"),
    path(D + "switch/", views.switch, name="switch"),
    path(D + "device/", views.device, name="device"),
    path(D + "card/", views.card, name="card"),
    path(D + "search/", views.search_view, name="search"),
    path(D + "open/<int:record_id>/", views.open_record, name="open"),
    path(D + "customers/<path:key>/", views.customer, name="customer"),
    path(D + "suppliers/<path:key>/", views.supplier, name="supplier"),
    path(D + "products/<path:key>/", views.product, name="product"),
    path(D + "orders/", views.orders, name="orders"),
    path(DOC, views.document_list, name="documents"),
    path(DOC + "new/", views.document_choose, name="document-choose"),
    path(DOC + "new/<str:kind>/", views.document_new, name="document-new"),
    path(DOC + "line/", views.document_line, name="document-line"),
    path(DOC + "party/", views.document_party, name="document-party"),
    path(DOC + "totals/", views.document_totals, name="document-totals"),
    path(DOC + "<int:pk>/", views.document_detail, name="document"),
    path(DOC + "<int:pk>/void/", views.document_void, name="document-void"),
    # Printing: fallback.desk.print_views (another module, same conventions).
    path(DOC + "<int:pk>/print/", print_views.document_html, name="document-print"),
    path(DOC + "<int:pk>/pdf/", print_views.document_pdf, name="document-pdf"),
    path(D + "blank/<str:kind>/", print_views.blank_form, name="blank-form"),
    path(D + "price-list.<str:fmt>", print_views.price_list, name="price-list"),
    path(D + "log/", views.log, name="log"),
    path(D + "log/<int:pk>/void/", views.note_void, name="note-void"),
    path(D + "periods/", views.period_list, name="periods"),
    path(P, views.period_detail, name="period"),
    path(P + "<str:what>/<int:pk>/<str:action>/", views.line_action, name="line"),
    path(P + "export/<str:shape>/", views.export, name="export"),
    path(D + "settings/", views.settings_view, name="settings"),
    path(D + "settings/devices/<int:pk>/", views.device_rename, name="device-rename"),
]
