"""Chinese by default: the UI language follows the user's explicit choice (the language
cookie set by the switcher), not the browser's Accept-Language header."""

from __future__ import annotations


class ExplicitLanguageOnlyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)
