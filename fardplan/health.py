"""``/healthz``: is this process able to serve? For docker-compose's
healthcheck, a load balancer or a monitoring probe.

It checks the database (a trivial query) and the Celery broker (a Redis PING
when ``CELERY_BROKER_URL`` is set; "eager" when tasks run in-process), and
answers 200 with a small JSON body when both are fine, 503 otherwise::

    {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}

No login is needed, and the body says nothing but "ok", "eager" or "error":
the reasons go to the log, never to the client (they may name hosts or
users). Never cached.

It is a middleware, first in ``MIDDLEWARE``, so that it answers before the
host check (a probe asks for ``127.0.0.1:8000``, not for a name in
``ALLOWED_HOSTS``) and before the HTTPS redirect (a probe inside the
container speaks plain HTTP). It answers GET and HEAD on ``/healthz`` only;
every other request goes on as usual.
"""

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse

logger = logging.getLogger(__name__)

PATH = "/healthz"
# Seconds a probe may wait for the broker: well below the probe's own timeout.
BROKER_TIMEOUT = 2.0


def database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        logger.exception("Health check: the database does not answer")
        return "error"
    return "ok"


def broker_status() -> str:
    url = settings.CELERY_BROKER_URL
    if not url:
        return "eager"
    try:
        if url.startswith(("redis://", "rediss://", "unix://")):
            import redis

            client = redis.Redis.from_url(
                url, socket_connect_timeout=BROKER_TIMEOUT, socket_timeout=BROKER_TIMEOUT
            )
            try:
                client.ping()
            finally:
                client.close()
        else:
            from kombu import Connection

            options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})
            with Connection(
                url, connect_timeout=BROKER_TIMEOUT, transport_options=options
            ) as broker:
                broker.ensure_connection(max_retries=1)
    except Exception:
        logger.exception("Health check: the Celery broker does not answer")
        return "error"
    return "ok"


def health_response() -> JsonResponse:
    checks = {"database": database_status(), "broker": broker_status()}
    healthy = all(value in ("ok", "eager") for value in checks.values())
    response = JsonResponse(
        {"status": "ok" if healthy else "error", "checks": checks},
        status=200 if healthy else 503,
    )
    response["Cache-Control"] = "no-store, max-age=0"
    response["X-Content-Type-Options"] = "nosniff"
    # It answers before the CSP middleware; a JSON body needs no sources at all.
    response["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'"
    response["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'"
    return response


class HealthCheckMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.rstrip("/") == PATH and request.method in ("GET", "HEAD"):
            return health_response()
        return self.get_response(request)
