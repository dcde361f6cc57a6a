from django.http import HttpResponse


def pdf_response(pdf: bytes, *, filename: str, document_id: object) -> HttpResponse:
    """A printed form, shown inline; X-Document-Id names its verification record."""
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["X-Document-Id"] = str(document_id)
    return response
