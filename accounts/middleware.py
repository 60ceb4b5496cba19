"""Session limits and the log of refused requests."""

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from .security import LOGIN_TIME_KEY, describe, log_refused, logger


class SessionLimitMiddleware:
    """Logs the user out once SESSION_ABSOLUTE_TIMEOUT seconds have passed
    since the login, however active the session has been. (The idle limit is
    Django's own: SESSION_COOKIE_AGE with SESSION_SAVE_EVERY_REQUEST.)"""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = time.time()
            started = request.session.get(LOGIN_TIME_KEY)
            if not isinstance(started, int | float):
                # A session from before this limit: it starts now.
                request.session[LOGIN_TIME_KEY] = now
            elif now - started > settings.SESSION_ABSOLUTE_TIMEOUT:
                logger.info("session ended, absolute limit reached: %s", describe(request))
                logout(request)
        return self.get_response(request)


class SecurityLogMiddleware:
    """Logs every refused request (403): PermissionDenied from a view or the
    admin, a CSRF failure, or any other forbidden response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 403:
            log_refused(request, response, getattr(request, "security_refusal", "forbidden"))
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        if isinstance(exception, PermissionDenied):
            request.security_refusal = f"PermissionDenied: {exception}"
