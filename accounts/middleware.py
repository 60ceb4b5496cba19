"""Session limits and the log of refused requests."""

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from .security import LAST_SEEN_KEY, LOGIN_TIME_KEY, describe, log_refused, logger


class SessionLimitMiddleware:
    """The session limits beyond closing with the browser.

    Idle: the session store ends a session SESSION_COOKIE_AGE seconds after it
    was last saved. Rather than saving every session on every request
    (SESSION_SAVE_EVERY_REQUEST: a write per request, and two more queries on
    every page), a request saves the session only when its last save is
    ACTIVITY_RESOLUTION seconds old or more; so a session ends between
    SESSION_COOKIE_AGE - ACTIVITY_RESOLUTION and SESSION_COOKIE_AGE seconds
    after its last request. The check here is the same limit, for a session
    store that keeps expired sessions.

    Absolute: the user is logged out once SESSION_ABSOLUTE_TIMEOUT seconds have
    passed since the login, however active the session has been.
    """

    ACTIVITY_RESOLUTION = 60

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            self._check(request, time.time())
        return self.get_response(request)

    def _check(self, request: HttpRequest, now: float) -> None:
        session = request.session
        started = session.get(LOGIN_TIME_KEY)
        last_seen = session.get(LAST_SEEN_KEY)
        if not isinstance(started, int | float):
            # A session from before these limits: they start now.
            session[LOGIN_TIME_KEY] = session[LAST_SEEN_KEY] = now
        elif now - started > settings.SESSION_ABSOLUTE_TIMEOUT:
            logger.info("session ended, absolute limit reached: %s", describe(request))
            logout(request)
        elif isinstance(last_seen, int | float) and now - last_seen > settings.SESSION_COOKIE_AGE:
            logger.info("session ended, idle limit reached: %s", describe(request))
            logout(request)
        elif not isinstance(last_seen, int | float) or now - last_seen >= self.ACTIVITY_RESOLUTION:
            # Saved with the response, which renews the store's expiry date.
            session[LAST_SEEN_KEY] = now


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
