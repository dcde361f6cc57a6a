from django.http import HttpResponse


def pdf_response(pdf: bytes, *, filename: str, document_id: object, copy_number: int = 0) -> HttpResponse:
    """A printed form, shown inline; X-Document-Id names its verification record and
    X-Copy-Number its reprint number (0: the original)."""
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["X-Document-Id"] = str(document_id)
    response["X-Copy-Number"] = str(copy_number)
    return response
