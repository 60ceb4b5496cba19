"""The hardened login: throttling and lockout (django-axes), the security log,
session limits, the Content-Security-Policy and the configurable admin path."""

import logging
import time
from datetime import timedelta

from axes.models import AccessAttempt
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from accounts.security import LAST_SEEN_KEY, LOGIN_TIME_KEY, client_ip
from tests.conftest import PASSWORD

SECURITY_LOGGER = "fardplan.security"
ATTACKER = "203.0.113.7"
ELSEWHERE = "198.51.100.20"


def _login(client: Client, username: str, password: str, address: str, *, admin=False):
    url = reverse("admin:login") if admin else reverse("login")
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address)


def _logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def _security_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == SECURITY_LOGGER]


# --- Lockout --------------------------------------------------------------------------


def test_thirty_wrong_passwords_lock_the_account_and_the_address(settings, editor, reader, caplog):
    settings.AXES_FAILURE_LIMIT = 10
    caplog.set_level(logging.INFO, logger=SECURITY_LOGGER)
    statuses = [
        _login(Client(), editor.username, f"wrong-{n}", ATTACKER).status_code for n in range(30)
    ]
    # The first failures get the login page again; from the limit on, the lockout.
    assert statuses[:9] == [200] * 9
    assert set(statuses[10:]) == {429}

    # Every failure is in the log, with user, address, URL and time.
    failures = [r.getMessage() for r in _security_records(caplog)]
    assert len([m for m in failures if m.startswith(("login failed", "login refused"))]) == 30
    first = failures[0]
    assert first.startswith("login failed: ")
    assert "user='alice'" in first
    assert f"address={ATTACKER}" in first
    assert f"url='{reverse('login')}'" in first
    assert "time=" in first and str(timezone.now().year) in first
    assert any(m.startswith("login refused, locked out: ") for m in failures)
    assert all(PASSWORD not in m and "wrong-" not in m for m in failures)

    # The right password is refused: for the account from anywhere ...
    for address in (ATTACKER, ELSEWHERE):
        client = Client()
        response = _login(client, editor.username, PASSWORD, address)
        assert response.status_code == 429
        assert not _logged_in(client)
    # ... and for anyone from the address, on the admin's login as well.
    client = Client()
    response = _login(client, reader.username, PASSWORD, ATTACKER, admin=True)
    assert response.status_code == 429
    assert not _logged_in(client)

    # The lockout page says so in Swedish.
    content = response.content.decode()
    assert gettext("Too many failed login attempts") in content
    assert "För många misslyckade inloggningsförsök" in content
    assert "15 minuter" in content

    # Another user from another address is not locked.
    client = Client()
    response = _login(client, reader.username, PASSWORD, ELSEWHERE)
    assert response.status_code == 302
    assert _logged_in(client)

    # After the cool-off the right password works again.
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    )
    client = Client()
    response = _login(client, editor.username, PASSWORD, ATTACKER)
    assert response.status_code == 302
    assert _logged_in(client)


def test_admin_login_is_throttled_too(settings, editor):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        _login(Client(), editor.username, "wrong", ELSEWHERE, admin=True)
    client = Client()
    assert _login(client, editor.username, PASSWORD, ATTACKER, admin=True).status_code == 429
    assert not _logged_in(client)


def test_a_success_before_the_limit_resets_the_count(settings, editor):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(2):
        _login(Client(), editor.username, "wrong", ATTACKER)
    assert _login(Client(), editor.username, PASSWORD, ATTACKER).status_code == 302
    for _ in range(2):
        _login(Client(), editor.username, "wrong", ATTACKER)
    assert _login(Client(), editor.username, PASSWORD, ATTACKER).status_code == 302


def test_client_address_behind_a_trusted_proxy(settings, rf):
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 5.6.7.8")
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.1"  # the header could be forged
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "5.6.7.8"
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(request) == "1.2.3.4"
    settings.TRUSTED_PROXY_COUNT = 3  # fewer entries than proxies: not through them
    assert client_ip(request) == "10.0.0.1"


def test_lockout_is_by_forwarded_address_behind_a_proxy(settings, editor, reader):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.AXES_FAILURE_LIMIT = 3
    proxy = "10.0.0.1"
    for n in range(3):
        Client().post(
            reverse("login"),
            {"username": f"nobody-{n}", "password": "x"},
            REMOTE_ADDR=proxy,
            HTTP_X_FORWARDED_FOR=ATTACKER,
        )
    locked = Client().post(
        reverse("login"),
        {"username": reader.username, "password": PASSWORD},
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR=ATTACKER,
    )
    assert locked.status_code == 429
    other = Client().post(
        reverse("login"),
        {"username": reader.username, "password": PASSWORD},
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR=ELSEWHERE,
    )
    assert other.status_code == 302


# --- The security log ------------------------------------------------------------------


def test_refused_request_is_logged_with_the_user(bromma_reporter, client_for, caplog):
    caplog.set_level(logging.INFO, logger=SECURITY_LOGGER)
    url = reverse("followup:periods")
    response = client_for(bromma_reporter).get(url, REMOTE_ADDR=ELSEWHERE)
    assert response.status_code == 403
    [record] = [r for r in _security_records(caplog) if "refused" in r.getMessage()]
    message = record.getMessage()
    assert record.levelno == logging.WARNING
    assert message.startswith("request refused (403): ")
    assert "user='cecilia'" in message
    assert f"address={ELSEWHERE}" in message
    assert f"url='{url}'" in message
    assert "time=" in message
    assert "PermissionDenied" in message


def test_refused_admin_page_is_logged(reader, editor, client_for, caplog):
    caplog.set_level(logging.INFO, logger=SECURITY_LOGGER)
    # Staff without the permission: the admin refuses with 403.
    url = reverse("admin:auth_user_changelist")
    assert client_for(editor).get(url).status_code == 403
    assert any(
        "request refused (403)" in r.getMessage() and "user='alice'" in r.getMessage()
        for r in _security_records(caplog)
    )


def test_csrf_failure_is_logged(reader, caplog):
    caplog.set_level(logging.INFO, logger=SECURITY_LOGGER)
    client = Client(enforce_csrf_checks=True)
    client.force_login(reader)
    response = client.post(reverse("logout"), REMOTE_ADDR=ATTACKER)
    assert response.status_code == 403
    [record] = [r for r in _security_records(caplog) if "refused" in r.getMessage()]
    message = record.getMessage()
    assert "user='erik'" in message
    assert f"address={ATTACKER}" in message
    assert "CSRF" in message


def test_control_characters_cannot_forge_log_lines(caplog, db):
    caplog.set_level(logging.INFO, logger=SECURITY_LOGGER)
    _login(Client(), "mallory\nlogin: user='admin'", "x", ATTACKER)
    [record] = _security_records(caplog)
    assert "\n" not in record.getMessage()


# --- Sessions ----------------------------------------------------------------------------


def _session(client: Client) -> Session:
    return Session.objects.get(session_key=client.session.session_key)


def test_session_settings(settings):
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
    assert settings.SESSION_ABSOLUTE_TIMEOUT == 8 * 60 * 60


def test_session_ends_with_the_browser(reader):
    client = Client()
    response = _login(client, reader.username, PASSWORD, ELSEWHERE)
    cookie = response.cookies["sessionid"]
    assert cookie["expires"] == "" and cookie["max-age"] == ""
    assert cookie["httponly"]


def _age_session(client: Client, seconds: float) -> None:
    """Move the session's times ``seconds`` into the past, as if that long had
    passed since its last request."""
    session = client.session
    for key in (LOGIN_TIME_KEY, LAST_SEEN_KEY):
        session[key] -= seconds
    session.save()
    Session.objects.filter(session_key=session.session_key).update(
        expire_date=_session(client).expire_date - timedelta(seconds=seconds)
    )


def test_a_request_renews_the_idle_limit(reader, django_assert_max_num_queries):
    client = Client()
    _login(client, reader.username, PASSWORD, ELSEWHERE)
    url = reverse("roadmap:list")
    _age_session(client, 29 * 60)
    assert client.get(url).status_code == 200
    remaining = _session(client).expire_date - timezone.now()
    assert timedelta(minutes=29) < remaining <= timedelta(minutes=30)
    # Renewed at most once a minute: the next request writes nothing more.
    with django_assert_max_num_queries(20) as renewed:
        client.get(url)
    assert not any("django_session" in q["sql"] and "UPDATE" in q["sql"] for q in renewed)
    # A minute later the next request renews it again.
    _age_session(client, 61)
    client.get(url)
    remaining = _session(client).expire_date - timezone.now()
    assert timedelta(minutes=29, seconds=50) < remaining <= timedelta(minutes=30)


def test_idle_session_ends(reader, caplog):
    caplog.set_level(logging.INFO, logger=SECURITY_LOGGER)
    client = Client()
    _login(client, reader.username, PASSWORD, ELSEWHERE)
    url = reverse("roadmap:list")
    assert client.get(url).status_code == 200
    # Twenty-nine minutes without a request: still in.
    _age_session(client, 29 * 60)
    assert client.get(url).status_code == 200
    # Thirty minutes and a second without a request: out.
    _age_session(client, 30 * 60 + 1)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_idle_limit_holds_in_a_store_that_keeps_expired_sessions(reader, caplog):
    caplog.set_level(logging.INFO, logger=SECURITY_LOGGER)
    client = Client()
    _login(client, reader.username, PASSWORD, ELSEWHERE)
    url = reverse("roadmap:list")
    session = client.session
    session[LAST_SEEN_KEY] -= 30 * 60 + 1
    session.save()  # a fresh expiry date: only the middleware can tell
    response = client.get(url)
    assert response.status_code == 302
    assert not _logged_in(client)
    assert any("idle limit" in r.getMessage() for r in _security_records(caplog))


def test_active_session_ends_after_the_absolute_limit(reader, caplog):
    caplog.set_level(logging.INFO, logger=SECURITY_LOGGER)
    client = Client()
    _login(client, reader.username, PASSWORD, ELSEWHERE)
    url = reverse("roadmap:list")
    session = client.session
    assert time.time() - session[LOGIN_TIME_KEY] < 60
    # Logged in seven hours and 59 minutes ago, active all along: still in.
    session[LOGIN_TIME_KEY] = time.time() - (8 * 60 - 1) * 60
    session.save()
    assert client.get(url).status_code == 200
    # Eight hours and a second ago: out, however recent the last request.
    session = client.session
    session[LOGIN_TIME_KEY] = time.time() - 8 * 60 * 60 - 1
    session.save()
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"
    assert not _logged_in(client)
    assert any("absolute limit" in r.getMessage() for r in _security_records(caplog))


def test_session_without_a_login_time_gets_one(reader, client_for):
    client = client_for(reader)
    session = client.session
    session.pop(LOGIN_TIME_KEY, None)
    session.save()
    assert client.get(reverse("roadmap:list")).status_code == 200
    assert time.time() - client.session[LOGIN_TIME_KEY] < 60


# --- The admin's path -----------------------------------------------------------------------


def test_admin_path_is_configurable():
    from django.conf import settings

    assert settings.ADMIN_URL == "admin/"
    assert reverse("admin:index") == "/admin/"


def test_admin_path_comes_from_the_environment(tmp_path):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env["ADMIN_URL"] = "/forvaltning-x7/"
    code = "from django.urls import reverse; print(reverse('admin:index'))"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "/forvaltning-x7/"
