"""Security events: failed logins, lockouts and refused requests, logged on
``fardplan.security`` with user, address, URL and time; and the client's
address, as django-axes and the log see it."""

import logging
import time

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.csrf import csrf_failure as django_csrf_failure

logger = logging.getLogger("fardplan.security")

# The session keys of the times (seconds since the epoch) the user logged in,
# and the session was last renewed (accounts.middleware.SessionLimitMiddleware).
LOGIN_TIME_KEY = "_fardplan_login_at"
LAST_SEEN_KEY = "_fardplan_last_seen"


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR; behind ``TRUSTED_PROXY_COUNT``
    reverse proxies that each append to X-Forwarded-For, the address the
    outermost proxy saw (entries further left are the client's own say)."""
    count = settings.TRUSTED_PROXY_COUNT
    if count > 0:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= count:
            return forwarded[-count]
    return request.META.get("REMOTE_ADDR", "")


def _clean(value: object, limit: int = 200) -> str:
    """A value for one log line: no control characters (no forged lines)."""
    text = str(value)[:limit]
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)


def _user(request: HttpRequest | None) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user.get_username()
    return "-"


def describe(request: HttpRequest | None, *, user: str | None = None) -> str:
    """``user=… address=… method=… url=… time=…`` for a log line."""
    if request is None:
        address, method, url = "-", "-", "-"
    else:
        address, method, url = client_ip(request), request.method, request.get_full_path()
    return (
        f"user={_clean(user if user is not None else _user(request))!r} "
        f"address={_clean(address)} method={_clean(method)} url={_clean(url, 500)!r} "
        f"time={timezone.now().isoformat()}"
    )


def log_login_failed(sender, credentials: dict, request: HttpRequest | None = None, **kwargs):
    """``user_login_failed``: a wrong password, an unknown user, or a login
    refused because the user or the address is locked out (django-axes)."""
    username = credentials.get("username", "")
    if getattr(request, "axes_locked_out", False):
        logger.warning("login refused, locked out: %s", describe(request, user=username))
    else:
        logger.warning("login failed: %s", describe(request, user=username))


def log_logged_in(sender, request: HttpRequest | None, user, **kwargs):
    """``user_logged_in``: note the time, for the session limits."""
    if request is not None and hasattr(request, "session"):
        request.session[LOGIN_TIME_KEY] = request.session[LAST_SEEN_KEY] = time.time()
        logger.info("login: %s", describe(request, user=user.get_username()))


def log_refused(request: HttpRequest, response: HttpResponse, reason: str) -> None:
    logger.warning(
        "request refused (%s): %s reason=%r", response.status_code, describe(request), reason
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """Django's CSRF failure page (403), with the reason noted for the log."""
    request.security_refusal = f"CSRF: {reason}"
    return django_csrf_failure(request, reason=reason)


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """django-axes' answer to a login refused because of a lockout: the
    login page's Swedish message, status 429 (Too Many Requests)."""
    minutes = max(1, round(settings.AXES_COOLOFF_TIME.total_seconds() / 60))
    return render(
        request,
        "registration/locked_out.html",
        {"cooloff_minutes": minutes},
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )
