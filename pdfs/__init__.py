"""PDF documents: the only package that imports WeasyPrint (HTML templates, CJK fonts, QR codes)."""
