"""The production stack, started on this machine, and a smoke test over HTTP.

What docker-compose.yml describes, as processes on loopback: gunicorn with the
production settings (FARDPLAN_ENV=production, collected static files served by
whitenoise), a Celery worker and Celery beat, on a fresh PostgreSQL database
and a Redis database of their own. Then, as people would over HTTP:

1. /healthz answers 200 with the database and the broker "ok";
2. the editor logs in (CSRF token from the login form), adds the reporting
   period 2022-T1 in the admin and opens it with the admin action;
3. the Bromma reporter logs in and submits every report on "Mina rapporter";
4. the reporter requests Bromma's period report as a PDF, the worker renders
   it, and the file downloads and starts with %PDF.

Everything it started is stopped at the end, pass or fail, and the database is
dropped. Every wait is bounded. `.ci/stack` runs it; CI runs `.ci/stack` after
the tests on PostgreSQL.

Environment:
  STACK_DATABASE_URL  a PostgreSQL server (default: PG_DATABASE_URL or
                      DATABASE_URL); a database ``fardplan_stack_<pid>`` is
                      created there (STACK_DATABASE_NAME to choose the name)
  STACK_REDIS_URL     the Redis database for the broker, emptied before and
                      after (default redis://127.0.0.1:6379/14)
  STACK_KEEP_LOGS     a directory to copy the processes' logs to

Only the standard library, psycopg and redis: the script itself never imports
Django, it talks to the stack as a browser does.
"""

import datetime
import html.parser
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from contextlib import ExitStack, contextmanager
from http.cookies import SimpleCookie
from pathlib import Path

import psycopg
import redis

BASE = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
PASSWORD = "smoke-" + secrets.token_urlsafe(12)  # noqa: S105 - a throwaway password

# Bounded waits (seconds).
SETUP_TIMEOUT = 180
READY_TIMEOUT = 60
RENDER_TIMEOUT = 120
STOP_TIMEOUT = 15


def log(message: str) -> None:
    print(f"[stack {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- The services: PostgreSQL database, Redis database, processes --------------------


def _server_url() -> str:
    for name in ("STACK_DATABASE_URL", "PG_DATABASE_URL", "DATABASE_URL"):
        url = os.environ.get(name, "")
        if url.startswith(("postgres://", "postgresql://")):
            return url
    return "postgres://postgres@127.0.0.1:5432/postgres"


def _with_database(url: str, name: str) -> str:
    return urllib.parse.urlunsplit(urllib.parse.urlsplit(url)._replace(path=f"/{name}"))


def _admin_connection(url: str) -> psycopg.Connection:
    parts = urllib.parse.urlsplit(url)
    if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"the stack runs on loopback only, not on {parts.hostname}")
    return psycopg.connect(_with_database(url, "postgres"), autocommit=True, connect_timeout=10)


@contextmanager
def fresh_database(server_url: str):
    name = os.environ.get("STACK_DATABASE_NAME") or f"fardplan_stack_{os.getpid()}"
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise SystemExit(f"unsafe database name {name!r}")
    with _admin_connection(server_url) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    log(f"database {name} created")
    try:
        yield _with_database(server_url, name)
    finally:
        with _admin_connection(server_url) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        log(f"database {name} dropped")


@contextmanager
def empty_redis(url: str):
    if urllib.parse.urlsplit(url).hostname not in ("127.0.0.1", "localhost"):
        raise SystemExit(f"the stack runs on loopback only, not on {url}")
    client = redis.Redis.from_url(url, socket_connect_timeout=5)
    client.flushdb()
    try:
        yield url
    finally:
        client.flushdb()
        client.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Processes:
    """Long-running processes, each in a session of its own, stopped together."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, command: list[str], env: dict[str, str]) -> None:
        out = (self.logs / f"{name}.log").open("w")
        self.running[name] = subprocess.Popen(
            command,
            cwd=BASE,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        out.close()
        log(f"{name} started (pid {self.running[name].pid})")

    def check_alive(self) -> None:
        for name, process in self.running.items():
            if process.poll() is not None:
                raise AssertionError(f"{name} exited with {process.returncode}")

    def stop(self) -> None:
        for process in self.running.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for name, process in self.running.items():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log(f"{name} did not stop within {STOP_TIMEOUT}s: killed")
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=STOP_TIMEOUT)
        for name in self.running:
            log(f"{name} stopped")


def manage(env: dict[str, str], *args: str, logs: Path) -> str:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE,
        env=env,
        capture_output=True,
        text=True,
        timeout=SETUP_TIMEOUT,
    )
    with (logs / "manage.log").open("a") as out:
        out.write(f"$ manage.py {' '.join(args)}\n{result.stdout}{result.stderr}\n")
    if result.returncode != 0:
        raise AssertionError(f"manage.py {args[0]} failed:\n{result.stdout}{result.stderr}")
    log(f"manage.py {args[0]}: {time.monotonic() - started:.1f}s")
    return result.stdout


# The users, as an administrator creates them (accounts.roles has the groups).
CREATE_USERS = """
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from accounts import roles
from roadmap.models import Organisation
User = get_user_model()
USERS = (("alice", roles.EDITOR, "aldrenamnden"), ("cecilia", roles.REPORTER, "bromma"))
for username, role, org in USERS:
    staff = role in roles.STAFF_ROLES
    user = User.objects.create_user(username, password=PASSWORD, is_staff=staff)
    user.groups.add(Group.objects.get(name=role))
    user.organisations.add(Organisation.objects.get(code=org))
print("users created")
"""


# --- A browser, as far as the smoke test needs one -----------------------------------


class FormParser(html.parser.HTMLParser):
    """The named fields of every form on a page, with their values as sent;
    the options of each select; the links to static files."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self.options: dict[str, list[str]] = {}
        self.static: list[str] = []
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs) -> None:
        a = dict(attrs)
        if tag == "option" and self._select and self.forms:
            self._option(a)
            return
        if tag in ("link", "script") and (a.get("href") or a.get("src") or "").startswith(
            "/static/"
        ):
            self.static.append(a.get("href") or a.get("src"))
        if tag == "form":
            self.forms.append({"action": a.get("action") or "", "fields": []})
            return
        if not self.forms or not a.get("name"):
            return
        fields = self.forms[-1]["fields"]
        if tag == "input":
            kind = a.get("type", "text")
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                self.options.setdefault(a["name"], []).append(a.get("value", "on"))
                return
            fields.append([a["name"], a.get("value", "")])
        elif tag == "select":
            self._select = a["name"]
            self.options.setdefault(a["name"], [])
            fields.append([a["name"], None])
        elif tag == "textarea":
            self._textarea = a["name"]
            fields.append([a["name"], ""])

    def handle_startendtag(self, tag, attrs) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data) -> None:
        if self._textarea and self.forms:
            self.forms[-1]["fields"][-1][1] += data

    def _option(self, a: dict) -> None:
        """As a browser sends a select: the selected option, else the first."""
        value = a.get("value", "")
        self.options[self._select].append(value)
        field = self.forms[-1]["fields"][-1]
        if field[1] is None or "selected" in a:
            field[1] = value


def _parse(body: str) -> FormParser:
    parser = FormParser()
    parser.feed(body)
    for form in parser.forms:
        for field in form["fields"]:
            if field[1] is None:
                field[1] = ""
    return parser


class Browser:
    """HTTP on loopback with a cookie jar that, like a browser on
    http://localhost, keeps the production profile's Secure cookies."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, fields=None) -> tuple[int, dict, bytes]:
        connection = http.client.HTTPConnection(HOST, self.port, timeout=60)
        headers = {"Host": f"{HOST}:{self.port}", "Accept-Language": "sv"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if fields is not None:
            body = urllib.parse.urlencode(fields).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            content = response.read()
            for value in response.headers.get_all("Set-Cookie") or []:
                cookie = SimpleCookie()
                cookie.load(value)
                for key, morsel in cookie.items():
                    self.cookies[key] = morsel.value
            return response.status, dict(response.headers), content
        finally:
            connection.close()

    def get(self, path: str, expect: int = 200) -> tuple[dict, bytes]:
        status, headers, content = self.request("GET", path)
        assert status == expect, f"GET {path}: {status}, expected {expect}\n{content[:2000]!r}"
        return headers, content

    def page(self, path: str) -> FormParser:
        return _parse(self.get(path)[1].decode("utf-8"))

    def post(self, path: str, fields, expect: int = 302) -> dict:
        status, headers, content = self.request("POST", path, fields)
        assert status == expect, (
            f"POST {path}: {status}, expected {expect}\n{content.decode('utf-8', 'replace')[:4000]}"
        )
        return headers

    def login(self, username: str) -> None:
        form = self.page("/login/").forms[0]
        fields = dict(form["fields"])
        fields.update(username=username, password=PASSWORD)
        headers = self.post("/login/", fields)
        assert "/login/" not in headers["Location"], f"{username} could not log in"


def _form_with(parser: FormParser, field: str) -> dict:
    for form in parser.forms:
        if any(name == field for name, _value in form["fields"]):
            return form
    raise AssertionError(f"no form with the field {field}")


# --- The smoke test -------------------------------------------------------------------


def smoke(port: int) -> None:
    anonymous = Browser(port)
    _headers, body = anonymous.get("/healthz")
    assert json.loads(body) == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}
    log("healthz: ok (database and Redis)")

    # The editor adds the period in the admin and opens it with the admin action.
    editor = Browser(port)
    editor.login("alice")
    add = "/admin/followup/reportingperiod/add/"
    page = editor.page(add)
    form = _form_with(page, "revision")
    revisions = [value for value in page.options["revision"] if value]
    assert len(revisions) == 1, revisions  # the adopted 2021 roadmap
    today = datetime.date.today()
    fields = dict(form["fields"])
    fields.update(
        year="2022",
        kind="T1",
        revision=revisions[0],
        opens_on=(today - datetime.timedelta(days=1)).isoformat(),
        deadline=(today + datetime.timedelta(days=30)).isoformat(),
        _continue="1",
    )
    location = editor.post(add, fields)["Location"]
    period_pk = re.search(r"/reportingperiod/(\d+)/change/", location)[1]
    changelist = "/admin/followup/reportingperiod/"
    csrf = dict(_form_with(editor.page(changelist), "action")["fields"])["csrfmiddlewaretoken"]
    editor.post(
        changelist,
        {"csrfmiddlewaretoken": csrf, "action": "open_periods", "_selected_action": period_pk},
    )
    log(f"editor: period 2022-T1 added and opened (pk {period_pk})")

    # The Bromma reporter submits every report on "Mina rapporter".
    reporter = Browser(port)
    reporter.login("cecilia")
    mine = "/uppfoljning/mina-rapporter/"
    page = reporter.page(mine)
    form = _form_with(page, "report")
    fields = [list(f) for f in form["fields"]]
    rows = 0
    for field in fields:
        if field[0].endswith("-status"):
            choices = [v for v in page.options[field[0]] if v]
            field[1] = choices[0]
            rows += 1
        elif field[0].endswith("-comment"):
            field[1] = "Rapporterat i röktestet."
    assert rows, "no reports to fill in"
    location = reporter.post(mine, [*map(tuple, fields), ("action", "submit")])["Location"]
    _h, after = reporter.get(location)
    assert "Lämnade in" in after.decode(), "no confirmation of the submission"
    log(f"reporter: {rows} reports submitted")

    # The reporter requests Bromma's period report; the worker renders it.
    page = reporter.page("/uppfoljning/pdf/")
    form = _form_with(page, "period")
    periods = [v for v in page.options["period"] if v]
    assert periods == ["2022-T1"], periods
    fields = dict(form["fields"])
    fields.update(kind="period", period="2022-T1", organisation="bromma")
    location = reporter.post("/uppfoljning/pdf/", fields)["Location"]
    job = re.search(r"/pdf/(\d+)/", location)[1]
    requested = time.monotonic()
    deadline = requested + RENDER_TIMEOUT
    while True:
        _h, body = reporter.get(f"/uppfoljning/pdf/{job}/status.json")
        status = json.loads(body)
        if status["is_finished"]:
            break
        assert time.monotonic() < deadline, f"the report was not rendered in time: {status}"
        time.sleep(0.5)
    assert status["state"] == "done", status
    headers, pdf = reporter.get(status["download_url"])
    assert pdf.startswith(b"%PDF-"), pdf[:20]
    assert headers["Content-Type"] == "application/pdf"
    log(
        f"reporter: PDF rendered by the worker in {time.monotonic() - requested:.1f}s, "
        f"{status['page_count']} pages, {len(pdf)} bytes"
    )

    # The collected static files are served (whitenoise, hashed names).
    assert page.static, "no static files on the page"
    for path in page.static[:3]:
        anonymous.get(path)
    log(f"static files served: {', '.join(page.static[:3])}")

    _headers, body = anonymous.get("/healthz")
    assert json.loads(body)["status"] == "ok"


def main() -> int:
    started = time.monotonic()
    redis_url = os.environ.get("STACK_REDIS_URL", "redis://127.0.0.1:6379/14")
    port = _free_port()
    workdir = Path(tempfile.mkdtemp(prefix="fardplan-stack-"))
    logs = workdir / "logs"
    logs.mkdir()
    ok = False
    try:
        with ExitStack() as stack:
            database_url = stack.enter_context(fresh_database(_server_url()))
            stack.enter_context(empty_redis(redis_url))
            env = {
                k: v
                for k, v in os.environ.items()
                if not k.startswith(("DJANGO_", "PG", "REDIS", "CELERY", "REPORT_"))
            }
            env.update(
                FARDPLAN_ENV="production",
                SECRET_KEY=secrets.token_urlsafe(50),
                ALLOWED_HOSTS=f"{HOST},localhost",
                # Plain HTTP on loopback: no proxy in front to end TLS.
                SECURE_SSL_REDIRECT="false",
                DATABASE_URL=database_url,
                CELERY_BROKER_URL=redis_url,
                STATIC_ROOT=str(workdir / "static"),
                MEDIA_ROOT=str(workdir / "media"),
                EMAIL_URL=f"filemail://{workdir / 'mail'}",
                LOG_LEVEL="INFO",
            )
            # The web service's command in docker-compose.yml, then collectstatic
            # (in the image) and the users an administrator would create.
            manage(env, "migrate", "--noinput", logs=logs)
            manage(env, "load_roadmap", logs=logs)
            manage(env, "load_statuses", logs=logs)
            manage(env, "collectstatic", "--noinput", logs=logs)
            manage(env, "shell", "-c", f"PASSWORD = {PASSWORD!r}\n{CREATE_USERS}", logs=logs)

            processes = Processes(logs)
            stack.callback(processes.stop)
            processes.start(
                "web",
                [
                    str(BIN / "gunicorn"),
                    "fardplan.wsgi:application",
                    f"--bind={HOST}:{port}",
                    "--workers=2",
                    "--timeout=60",
                ],
                env,
            )
            processes.start(
                "worker",
                [str(BIN / "celery"), "-A", "fardplan", "worker", "--loglevel=info", "-c", "1"],
                env,
            )
            processes.start(
                "beat",
                [
                    str(BIN / "celery"),
                    "-A",
                    "fardplan",
                    "beat",
                    "--loglevel=info",
                    f"--schedule={workdir / 'celerybeat-schedule'}",
                ],
                env,
            )
            deadline = time.monotonic() + READY_TIMEOUT
            while True:
                processes.check_alive()
                try:
                    status, _h, _b = Browser(port).request("GET", "/healthz")
                    if status == 200:
                        break
                except OSError:
                    pass
                assert time.monotonic() < deadline, f"/healthz not 200 within {READY_TIMEOUT}s"
                time.sleep(0.3)
            log(f"web answers on http://{HOST}:{port}/")
            smoke(port)
            processes.check_alive()
            ok = True
    finally:
        if not ok:
            for path in sorted(logs.iterdir()):
                text = path.read_text(errors="replace").splitlines()
                print(f"\n--- {path.name} (last 40 lines) ---\n" + "\n".join(text[-40:]))
        keep = os.environ.get("STACK_KEEP_LOGS")
        if keep:
            shutil.copytree(logs, keep, dirs_exist_ok=True)
        shutil.rmtree(workdir, ignore_errors=True)
        log(f"{'passed' if ok else 'FAILED'} in {time.monotonic() - started:.1f}s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
