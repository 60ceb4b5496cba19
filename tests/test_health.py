"""/healthz: the database and the broker, 200 or 503, no login, never cached."""

import os
import socket

import pytest
from django.db import connection
from django.test import Client

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")


def _closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _redis_reachable() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.mark.django_db
def test_healthy_without_a_broker_says_eager(settings):
    settings.CELERY_BROKER_URL = ""
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "eager"}}
    assert "no-store" in response["Cache-Control"]
    assert response["Content-Type"] == "application/json"
    # Like every response, it carries a Content-Security-Policy.
    assert "default-src 'none'" in response["Content-Security-Policy"]


@pytest.mark.django_db
def test_healthy_with_redis(settings):
    if not _redis_reachable():
        pytest.skip(f"needs Redis at {REDIS_URL}")
    settings.CELERY_BROKER_URL = REDIS_URL
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "broker": "ok"}


@pytest.mark.django_db
def test_unreachable_broker_is_503_without_details(settings, caplog):
    port = _closed_port()
    settings.CELERY_BROKER_URL = f"redis://:s3cret-password@127.0.0.1:{port}/0"
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "checks": {"database": "ok", "broker": "error"}}
    body = response.content.decode()
    assert "s3cret" not in body and str(port) not in body
    assert "no-store" in response["Cache-Control"]
    assert "broker does not answer" in caplog.text  # the reason is logged


@pytest.mark.django_db
def test_broken_database_is_503(settings, monkeypatch):
    settings.CELERY_BROKER_URL = ""

    def broken():
        raise RuntimeError("connection refused")

    monkeypatch.setattr(connection, "cursor", broken)
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "error", "broker": "eager"}


@pytest.mark.django_db
def test_health_needs_no_login_and_no_allowed_host(settings):
    """A probe inside the container asks for 127.0.0.1:8000 over plain HTTP,
    whatever ALLOWED_HOSTS and the HTTPS redirect say."""
    settings.CELERY_BROKER_URL = ""
    settings.ALLOWED_HOSTS = ["fardplan.example.org"]
    settings.SECURE_SSL_REDIRECT = True
    client = Client(HTTP_HOST="127.0.0.1:8000")
    assert client.get("/healthz").status_code == 200
    assert client.head("/healthz").status_code == 200
    # Everything else still gets the host check.
    assert client.get("/login/").status_code == 400


def test_compose_checks_health_and_starts_in_order():
    import yaml
    from django.conf import settings

    compose = yaml.safe_load((settings.BASE_DIR / "docker-compose.yml").read_text("utf-8"))
    services = compose["services"]
    for name in ("postgres", "redis", "web", "worker"):
        assert services[name]["healthcheck"]["test"], name
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])
    for name in ("worker", "beat"):
        conditions = {k: v["condition"] for k, v in services[name]["depends_on"].items()}
        # web runs the migrations: the worker and beat wait until it is healthy.
        assert conditions == {
            "postgres": "service_healthy",
            "redis": "service_healthy",
            "web": "service_healthy",
        }
    web = {k: v["condition"] for k, v in services["web"]["depends_on"].items()}
    assert web == {"postgres": "service_healthy", "redis": "service_healthy"}
