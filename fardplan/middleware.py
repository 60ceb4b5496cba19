"""Middleware that turns bad input into a clear 400 instead of a server error."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext

NUL = "\x00"


def bad_request(request: HttpRequest, message: str) -> HttpResponse:
    """A 400 page that says what was wrong, in the site's layout."""
    return HttpResponse(
        render_to_string("400.html", {"message": message}, request=request), status=400
    )


def _has_nul(data) -> bool:
    return any(NUL in key or any(NUL in value for value in data.getlist(key)) for key in data)


class RejectNulBytesMiddleware:
    """Refuses a request whose path, query string or form data holds a NUL byte.

    PostgreSQL cannot store or compare a string with a NUL character (psycopg
    raises ValueError), so a search term or form field with one would end as a
    server error wherever it reaches the database. No legitimate input holds
    one, so the request is refused (400) before any view sees it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._has_nul(request):
            return bad_request(
                request,
                gettext(
                    "The request contained a character that is not allowed (a NUL byte). "
                    "Remove it and try again."
                ),
            )
        return self.get_response(request)

    @staticmethod
    def _has_nul(request: HttpRequest) -> bool:
        if NUL in request.path_info or _has_nul(request.GET):
            return True
        if request.method == "POST" and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            return _has_nul(request.POST)
        return False
