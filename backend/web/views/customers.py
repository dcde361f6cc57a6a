"""客户: the scoped customer list, the customer page and its printable collection card."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from backend.customers.case_views import amendment_view, customer_amendments
from backend.customers.models import CustomerStatus
from backend.customers.printing import collection_card_print
from backend.customers.selectors import customer_get_visible, customer_list, customer_trail, customer_view
from backend.web.views.base import page_view, paginate
from pdfs.responses import pdf_response


@page_view
def customer_list_page(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    status = request.GET.get("status", "").strip()
    if status not in CustomerStatus.values:
        status = ""
    page = paginate(request, customer_list(user=request.user, query=query, status=status))
    rows = [customer_view(user=request.user, customer=c, purpose="list") for c in page.object_list]
    context = {"page": page, "rows": rows, "q": query, "status": status, "statuses": CustomerStatus.choices}
    return render(request, "web/customer_list.html", context)


@page_view
def customer_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = customer_get_visible(user=request.user, customer_id=customer_id)
    context = {
        "customer": customer_view(user=request.user, customer=customer),
        "trail": customer_trail(customer=customer),
        "amendments": [amendment_view(user=request.user, amendment=a, with_customer=False) for a in customer_amendments(user=request.user, customer=customer)],
    }
    return render(request, "web/customer_detail.html", context)


@page_view
def customer_card(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = customer_get_visible(user=request.user, customer_id=customer_id)
    pdf, document = collection_card_print(actor=request.user, customer=customer)
    return pdf_response(pdf, filename=f"collection-card-{customer.pk}.pdf", document_id=document.id)
