"""Printing pages: a document as a printable page and as a PDF, the blank paper forms, and
the price list as PDF or CSV. Anyone who may see the organisation may print (a viewer needs
the price list too). Thin: the rendering is in fallback.desk.printing and price_list."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from fallback.accounts.access import org_view
from fallback.accounts.scoping import get_for_org_or_404
from fallback.desk import price_list as prices
from fallback.desk import printing
from fallback.desk.models import Document
from fallback.front.http import PDF, OrgRequest, file_response

CSV = "text/csv; charset=utf-8"


def _document(request: OrgRequest, pk: int) -> Document:
    return get_for_org_or_404(Document.objects.all(), request.org, pk=pk)


@org_view()
@require_GET
@never_cache  # a document voided since is printed with its stamp, never from a cache
def document_html(request: OrgRequest, pk: int) -> HttpResponse:
    document = _document(request, pk)
    # The PDF is usually the next click: pay WeasyPrint's first-call cost meanwhile.
    printing.warm_in_background()
    pdf_url = reverse("desk:document-pdf", kwargs={"org_slug": request.org.slug, "pk": pk})
    return HttpResponse(printing.document_html(document, screen=True, pdf_url=pdf_url))


@org_view()
@require_GET
@never_cache
def document_pdf(request: OrgRequest, pk: int) -> HttpResponse:
    document = _document(request, pk)
    return file_response(printing.document_pdf(document), f"{document.number}.pdf")


@org_view()
@require_GET
@never_cache  # its example number names the fallback period open when it is printed
def blank_form(request: OrgRequest, kind: str) -> HttpResponse:
    if kind not in printing.BLANK_FORMS:
        raise Http404("No such blank form")
    content = printing.blank_form_pdf(request.org, kind)
    name = kind.replace("_", "-")
    return file_response(content, f"{request.org.slug}-blank-{name}.pdf")


@org_view()
@require_GET
@never_cache
def price_list(request: OrgRequest, fmt: str) -> HttpResponse:
    if fmt == "csv":
        content, content_type = prices.price_list_csv(request.org), CSV
    elif fmt == "pdf":
        # A request prints a bounded number of rows: the renderer is shared, and invoices
        # must not wait minutes behind 50,000 products (the PDF says where the rest is).
        content = prices.price_list_pdf(request.org, limit=prices.WEB_PDF_LIMIT)
        content_type = PDF
    else:
        raise Http404("The price list comes as pdf or csv")
    filename = prices.filename(request.org, fmt)
    return file_response(content, filename, content_type=content_type, inline=fmt == "pdf")
