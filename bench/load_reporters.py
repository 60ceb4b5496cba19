"""Load test: 52 reporters on "Mina rapporter" and 10 visitors on a trivial page.

One command, bounded in time, on loopback only. It

1. creates a PostgreSQL database of its own (``fardplan_load``; PostgreSQL is
   started as ``.ci/run`` starts it if it is not running), migrates it, loads
   the 2021 roadmap and the statuses, seeds the demo data as ``make setup``
   does (which opens a reporting period this year), and adds four reporters
   for each of the 13 districts (52 users, role Rapportör);
2. starts gunicorn with ``--workers 3`` (as docker-compose.yml) and the
   production settings (``FARDPLAN_ENV=production``, whitenoise serving the
   collected static files; plain HTTP on loopback, so ``SECURE_SSL_REDIRECT=false``
   as ``.ci/stack`` does), with an access log that records the server's own
   time for every request (``%(D)s``, microseconds);
3. drives the scenario for ``--duration`` seconds:

   * each reporter arrives at a random moment within the ramp, logs in (CSRF
     token from the login form, session cookie), opens "Mina rapporter", and
     then, like a person, every 40–80 s (divided by ``--speed``) changes the
     comment of one or two rows and saves a draft; after each save it loads
     the page again, as a browser follows the redirect, and works on the new
     versions. The four reporters of a district share its reports; each
     changes only the rows whose primary key modulo 4 is its own number, as
     colleagues split a list, so a conflict between them is never expected;
   * ten anonymous visitors load the login page (a trivial page that passes
     the whole middleware stack) every 2–5 s (divided by ``--speed``).

   The client knows only this of the reporter page: the ``<form>`` with the
   class ``report-form``, which it posts back to its ``action`` with every
   field a browser would send (hidden fields, the per-row ``report`` inputs
   and ``r<pk>-expected_version``, selects, text areas) and the draft button
   (``name=action value=draft``); fields named ``r<pk>-comment``; a redirect
   (302/303) for a save that succeeded and 400 for one refused with errors.
   Which rows the page shows, and how it is split into views, is the page's
   business;
4. stops gunicorn (after it has finished every request it took) and checks
   the database: every comment a reporter saw saved is there (the current
   value of the row, or in its history if the same reporter changed the row
   again later), and no saved value was overwritten by anyone else: 0 lost
   updates. A save answered with an error (a status other than a redirect,
   a timeout, a dropped connection) counts as an error, and if its comment is
   in the database all the same it is reported as "stored although the user
   saw an error";
5. prints, for the page GET, the save POST and the trivial page: count,
   errors, timeouts, the server's p50/p95/max (from gunicorn's access log) and
   the client's p50/p95 (which includes waiting for a free worker, which the
   server's time does not), the ratios of the page's and the save's server
   p95 to the trivial page's, the targets of issue 11 with PASS/FAIL, and the
   machine (cores, load average, CPU busy during the run, the client's own
   CPU). The exit status is 1 if a target fails, 2 if the run could not be
   set up.

Afterwards gunicorn is stopped, the database dropped (unless ``--keep``) and
PostgreSQL stopped again if this script started it and nothing else is
connected to it. The logs stay in ``--logs`` (default a new temporary folder).

Targets (issue 11): 0 errors and 0 timeouts (client timeout 30 s), the
server-side p95 of the page and of a save at most 5× the trivial page's p95,
0 lost updates.

Usage:
    .venv/bin/python bench/load_reporters.py                           # 300 s, human pacing
    .venv/bin/python bench/load_reporters.py --duration 180
    .venv/bin/python bench/load_reporters.py --duration 90 --speed 5   # five times faster
    .venv/bin/python bench/load_reporters.py --keep --logs /tmp/load   # keep database and logs

The PostgreSQL server is ``--server-url`` (default: PG_DATABASE_URL or
DATABASE_URL if they name PostgreSQL, else postgres://postgres@127.0.0.1:5432/postgres,
as ``.ci/run``); it must be on loopback. This is a benchmark: it is not part of
the test suite or CI (``tests/test_load_reporters.py`` tests its pure parts).
The client uses only the standard library (and psycopg for the database
server): a browser's cookie jar keeps the production profile's ``Secure``
cookies on http://127.0.0.1, which ``http.cookiejar`` (and so requests or
httpx) would not send back over plain HTTP.
"""

import argparse
import html
import html.parser
import http.client
import json
import math
import os
import random
import re
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import defaultdict
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
RESULT_PREFIX = "LOAD-RESULT "

DISTRICT_USERS = 4  # reporters per district
TRIVIAL_USERS = 10
SAVE_EVERY = (40.0, 80.0)  # seconds between two saves of one reporter, at --speed 1
TRIVIAL_EVERY = (2.0, 5.0)  # seconds between two trivial requests, at --speed 1
CLIENT_TIMEOUT = 30.0
RATIO_TARGET = 5.0

SETUP_TIMEOUT = 900
READY_TIMEOUT = 60
STOP_TIMEOUT = 40  # gunicorn's graceful timeout is 30 s

# What each request is, sent in a header and written to the access log.
KIND_HEADER = "X-Load-Kind"
PAGE, SAVE, TRIVIAL = "page", "save", "trivial"
LOGIN_FORM, LOGIN, LANDING, STATIC = "login-form", "login", "landing", "static"
KINDS = (PAGE, SAVE, TRIVIAL, LOGIN_FORM, LOGIN, LANDING, STATIC)
TARGET_KINDS = (PAGE, SAVE, TRIVIAL)

# gunicorn's access log: the kind (a request header), the server's time in µs.
ACCESS_LOG_FORMAT = (
    "LOAD kind=%({x-load-kind}i)s method=%(m)s status=%(s)s bytes=%(B)s us=%(D)s path=%(U)s"
)
_ACCESS_LINE = re.compile(
    r"LOAD kind=(?P<kind>\S+) method=(?P<method>\S+) status=(?P<status>\d{3}) "
    r"bytes=(?P<bytes>\S+) us=(?P<us>\d+) path=(?P<path>\S*)"
)


def log(message: str) -> None:
    print(f"[load {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- Pure parts: the form scraper, percentiles, the access log, the check -----------


@dataclass
class ScrapedForm:
    """A form as a browser would submit it: the fields in document order."""

    action: str
    method: str = "get"
    fields: list[list[str]] = field(default_factory=list)
    buttons: list[tuple[str, str]] = field(default_factory=list)
    options: dict[str, list[str]] = field(default_factory=dict)

    def value(self, name: str) -> str | None:
        return next((v for n, v in self.fields if n == name), None)

    def reports(self) -> list[int]:
        """The rows on the page: the hidden ``report`` inputs."""
        return [int(v) for n, v in self.fields if n == "report" and v.isdigit()]

    def submission(self, changes: dict[str, str], button: tuple[str, str]) -> list[tuple]:
        """The fields with ``changes`` applied, and the button pressed."""
        missing = set(changes) - {n for n, _v in self.fields}
        if missing:
            raise KeyError(f"not in the form: {', '.join(sorted(missing))}")
        return [(n, changes.get(n, v)) for n, v in self.fields] + [button]

    def button(self, value: str) -> tuple[str, str] | None:
        return next(((n, v) for n, v in self.buttons if v == value), None)


class FormScraper(html.parser.HTMLParser):
    """The forms with a given class, read as a browser submits them: inputs
    (checked boxes only, no buttons, nothing disabled), the selected option
    of each select (else the first), text areas without the newline that
    follows the start tag; submit buttons are listed apart."""

    def __init__(self, css_class: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.css_class = css_class
        self.forms: list[ScrapedForm] = []
        self._form: ScrapedForm | None = None
        self._select: dict | None = None
        self._option: dict | None = None
        self._textarea: list | None = None

    def handle_starttag(self, tag, attrs) -> None:
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            if self.css_class is None or self.css_class in a.get("class", "").split():
                self._form = ScrapedForm(
                    action=a.get("action", ""), method=a.get("method", "get").lower()
                )
                self.forms.append(self._form)
            return
        form = self._form
        if form is None:
            return
        if tag == "option" and self._select is not None:
            self._option_end()
            self._option = {"value": a.get("value"), "text": "", "selected": "selected" in a}
            return
        name = a.get("name")
        if tag == "button":
            if a.get("type", "submit") == "submit" and name and "disabled" not in a:
                form.buttons.append((name, a.get("value", "")))
            return
        if not name or "disabled" in a:
            return
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind in ("submit", "image"):
                form.buttons.append((name, a.get("value", "")))
            elif kind in ("button", "reset", "file"):
                return
            elif kind in ("checkbox", "radio"):
                form.options.setdefault(name, []).append(a.get("value", "on"))
                if "checked" in a:
                    form.fields.append([name, a.get("value", "on")])
            else:
                form.fields.append([name, a.get("value", "")])
        elif tag == "select":
            self._select = {"name": name, "multiple": "multiple" in a, "options": []}
            form.options[name] = []
        elif tag == "textarea":
            self._textarea = [name, ""]
            form.fields.append(self._textarea)

    def handle_data(self, data) -> None:
        if self._option is not None:
            self._option["text"] += data
        elif self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag) -> None:
        if tag == "form":
            self._form = None
        elif tag == "option":
            self._option_end()
        elif tag == "select" and self._select is not None:
            self._select_end()
        elif tag == "textarea" and self._textarea is not None:
            # HTML drops a newline right after <textarea> (Django writes one).
            text = self._textarea[1]
            self._textarea[1] = text[2:] if text.startswith("\r\n") else text.removeprefix("\n")
            self._textarea = None

    def _option_end(self) -> None:
        if self._option is not None and self._select is not None:
            option = self._option
            value = option["value"] if option["value"] is not None else option["text"].strip()
            self._select["options"].append((value, option["selected"]))
        self._option = None

    def _select_end(self) -> None:
        self._option_end()
        select, self._select = self._select, None
        values = [value for value, _selected in select["options"]]
        self._form.options[select["name"]] = values
        chosen = [value for value, selected in select["options"] if selected]
        if not select["multiple"]:
            chosen = chosen[-1:] or values[:1]
        for value in chosen:
            self._form.fields.append([select["name"], value])


def scrape_forms(page: str, css_class: str | None) -> list[ScrapedForm]:
    """The forms with the class (every form if None), in document order."""
    scraper = FormScraper(css_class)
    scraper.feed(page)
    scraper.close()
    return scraper.forms


def scrape_form(page: str, css_class: str = "report-form") -> ScrapedForm | None:
    """The first form with the class, or None."""
    forms = scrape_forms(page, css_class)
    return forms[0] if forms else None


_STATIC = re.compile(r"""<(?:link|script)\b[^>]*?(?:href|src)="(/static/[^"]+)\"""")


def static_paths(page: str) -> list[str]:
    """The style sheets and scripts the page loads from /static/."""
    return list(dict.fromkeys(_STATIC.findall(page)))


_LINK = re.compile(r'<a\b[^>]*?\bhref="([^"]*)"')


def same_page_links(page: str, current: str, page_path: str) -> list[str]:
    """The links on the page to other views of ``page_path`` (the same path,
    another query): its views, pages, areas, periods. In document order,
    without fragments, without the current one."""
    links = []
    for href in _LINK.findall(page):
        target = urllib.parse.urlsplit(urllib.parse.urljoin(current, html.unescape(href)))
        link = urllib.parse.urlunsplit(("", "", target.path, target.query, ""))
        if target.path == page_path and link != current and link not in links:
            links.append(link)
    return links


def percentile(values, p: float) -> float | None:
    """The nearest-rank percentile (p in 0–100) of the values, None if there are none."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass(frozen=True)
class LogEntry:
    kind: str
    method: str
    status: int
    bytes: int
    ms: float
    path: str


def parse_access_log(lines) -> list[LogEntry]:
    """The load's requests in gunicorn's access log (ACCESS_LOG_FORMAT)."""
    entries = []
    for line in lines:
        match = _ACCESS_LINE.search(line)
        if match is None:
            continue
        size = match["bytes"]
        entries.append(
            LogEntry(
                kind=match["kind"],
                method=match["method"],
                status=int(match["status"]),
                bytes=int(size) if size.isdigit() else 0,
                ms=int(match["us"]) / 1000,
                path=match["path"],
            )
        )
    return entries


@dataclass(frozen=True)
class Attempt:
    """One comment a reporter tried to save; ``ok`` if the server said it was saved."""

    pk: int
    comment: str
    ok: bool
    user: str
    outcome: str  # "saved", or what went wrong


@dataclass
class Verdict:
    lost: list[Attempt] = field(default_factory=list)
    stored_despite_error: list[Attempt] = field(default_factory=list)


def verify_saves(
    attempts: list[Attempt], current: dict[int, str], history: dict[int, set[str]]
) -> Verdict:
    """Compare what the reporters believe with the database.

    ``attempts`` in the order each reporter made them (each row has one
    writer), ``current`` the rows' comments now, ``history`` every comment
    each row ever had. A saved comment is lost if the database never had it,
    or if the row's comment now is neither the last saved one nor one the same
    reporter tried after it (someone overwrote it). An unsaved comment that
    the database has was stored although the user saw an error."""
    verdict = Verdict()
    by_pk: dict[int, list[Attempt]] = defaultdict(list)
    for attempt in attempts:
        by_pk[attempt.pk].append(attempt)
    for pk, tries in by_pk.items():
        now = current.get(pk)
        known = set(history.get(pk, set())) | ({now} if now is not None else set())
        lost: list[Attempt] = []
        for attempt in tries:
            if attempt.ok and attempt.comment not in known:
                lost.append(attempt)
            if not attempt.ok and attempt.comment in known:
                verdict.stored_despite_error.append(attempt)
        last_ok = max((i for i, a in enumerate(tries) if a.ok), default=None)
        overwritten = last_ok is not None and now not in {a.comment for a in tries[last_ok:]}
        if overwritten and tries[last_ok] not in lost:
            lost.append(tries[last_ok])
        verdict.lost.extend(lost)
    return verdict


# --- The database: PostgreSQL, the load database, setup and check (children) --------


def server_url(value: str | None) -> str:
    if value:
        return value
    for name in ("PG_DATABASE_URL", "DATABASE_URL"):
        url = os.environ.get(name, "")
        if url.startswith(("postgres://", "postgresql://")):
            return url
    return "postgres://postgres@127.0.0.1:5432/postgres"


def with_database(url: str, name: str) -> str:
    return urllib.parse.urlunsplit(urllib.parse.urlsplit(url)._replace(path=f"/{name}"))


def loopback_only(url: str) -> None:
    host = urllib.parse.urlsplit(url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"the load test runs on loopback only, not on {host}")


class Postgres:
    """The PostgreSQL server, started as .ci/run does if it is not running."""

    def __init__(self, url: str) -> None:
        loopback_only(url)
        self.url = url
        parts = urllib.parse.urlsplit(url)
        self.host, self.port = parts.hostname, str(parts.port or 5432)
        self.cluster: str | None = None  # set if this script started it

    def ready(self) -> bool:
        done = subprocess.run(["pg_isready", "-q", "-h", self.host, "-p", self.port])
        return done.returncode == 0

    def ensure_running(self) -> None:
        if self.ready():
            log(f"PostgreSQL is running on {self.host}:{self.port}")
            return
        versions = sorted(os.listdir("/etc/postgresql")) if Path("/etc/postgresql").is_dir() else []
        if not versions or not shutil.which("pg_ctlcluster"):
            raise SystemExit("PostgreSQL is not running and not installed (see .ci/run)")
        self.cluster = versions[0]
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", self.cluster, "main", "start"],
            check=True,
            timeout=60,
        )
        for _ in range(30):
            if self.ready():
                log(f"PostgreSQL {self.cluster} started")
                return
            time.sleep(1)
        raise SystemExit("PostgreSQL did not start within 30 s")

    def admin(self):
        import psycopg

        return psycopg.connect(
            with_database(self.url, "postgres"), autocommit=True, connect_timeout=10
        )

    def create(self, name: str) -> str:
        with self.admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
        log(f"database {name} created")
        return with_database(self.url, name)

    def drop(self, name: str) -> None:
        with self.admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        log(f"database {name} dropped")

    def restore(self) -> None:
        """Stop the server again if this script started it and no one else uses it."""
        if self.cluster is None:
            return
        with self.admin() as admin:
            others = admin.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname IS NOT NULL AND pid <> pg_backend_pid()"
            ).fetchone()[0]
        if others:
            log(f"PostgreSQL left running: {others} other connection(s)")
            return
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", self.cluster, "main", "stop"],
            check=False,
            timeout=60,
        )
        log(f"PostgreSQL {self.cluster} stopped again")


def django_setup(url: str) -> None:
    sys.path.insert(0, str(BASE))
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fardplan.settings")
    # seed_demo refuses the production profile; the data is built without it.
    os.environ["FARDPLAN_ENV"] = "development"
    os.environ["DEBUG"] = "false"
    import django

    django.setup()


def setup_child(url: str) -> dict:
    """Build the load database: what `make setup` does, and the 52 reporters."""
    import io

    django_setup(url)
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import transaction
    from django.db.models import Count
    from django.urls import reverse

    from accounts import roles
    from followup.models import ReportingPeriod, StatusReport
    from roadmap.models import Organisation

    for command in ("migrate", "load_roadmap", "load_statuses", "seed_demo"):
        started = time.monotonic()
        call_command(command, stdout=io.StringIO())
        print(f"  manage.py {command}: {time.monotonic() - started:.1f} s", flush=True)

    password = make_password(os.environ["LOAD_PASSWORD"])  # hashed once for everyone
    reporter = Group.objects.get(name=roles.REPORTER)
    districts = list(Organisation.objects.districts().order_by("code"))
    users = []
    with transaction.atomic():
        for district in districts:
            for number in range(DISTRICT_USERS):
                username = f"load-{district.code}-{number}"
                user = get_user_model().objects.create(
                    username=username, first_name="Load", last_name=f"{district.code} {number}"
                )
                user.password = password
                user.save(update_fields=["password"])
                user.groups.add(reporter)
                user.organisations.add(district)
                users.append({"username": username, "district": district.code, "slot": number})

    periods = list(ReportingPeriod.objects.open())
    counts = dict(
        StatusReport.objects.filter(period__in=periods, organisation__in=districts)
        .values_list("organisation__code")
        .annotate(n=Count("pk"))
    )
    return {
        "periods": [str(p) for p in periods],
        "reports": {d.code: counts.get(d.code, 0) for d in districts},
        "users": users,
        "my_reports": reverse("followup:my_reports"),
        "login": reverse("login"),
    }


def check_child(url: str, attempts_file: Path) -> dict:
    """The saved rows' comments now and in their history."""
    django_setup(url)
    from followup.models import StatusReport

    pks = sorted({a["pk"] for a in json.loads(attempts_file.read_text())})
    current = dict(StatusReport.objects.filter(pk__in=pks).values_list("pk", "comment"))
    history = defaultdict(set)
    for pk, comment in StatusReport.history.filter(id__in=pks).values_list("id", "comment"):
        history[pk].add(comment)
    return {
        "current": {str(k): v for k, v in current.items()},
        "history": {str(k): sorted(v) for k, v in history.items()},
    }


def child(mode: list[str], url: str, env: dict | None = None) -> dict:
    """Run this script as a child in ``mode`` (it imports Django; the parent does not)."""
    command = [sys.executable, str(Path(__file__).resolve()), *mode, "--db-url", url]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=SETUP_TIMEOUT,
        cwd=BASE,
        env={**os.environ, **(env or {})},
    )
    result = None
    for line in done.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            result = json.loads(line.removeprefix(RESULT_PREFIX))
        else:
            print(line, flush=True)
    if done.returncode != 0 or result is None:
        raise RuntimeError(f"{mode} failed (exit {done.returncode}):\n{done.stderr[-4000:]}")
    return result


# --- gunicorn ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def production_env(database_url: str, workdir: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "PG", "REDIS", "CELERY", "REPORT_", "LOAD_"))
    }
    env.update(
        FARDPLAN_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS=f"{HOST},localhost",
        # Plain HTTP on loopback (no proxy ends TLS), as .ci/stack.
        SECURE_SSL_REDIRECT="false",
        DEBUG="false",
        DATABASE_URL=database_url,
        STATIC_ROOT=str(workdir / "static"),
        MEDIA_ROOT=str(workdir / "media"),
        EMAIL_URL=f"filemail://{workdir / 'mail'}",
        LOG_LEVEL="WARNING",
    )
    return env


def gunicorn_has_setting(name: str) -> bool:
    from gunicorn.config import KNOWN_SETTINGS

    return any(setting.name == name for setting in KNOWN_SETTINGS)


class Gunicorn:
    def __init__(self, env: dict, logs: Path, port: int, workers: int) -> None:
        self.access_log = logs / "gunicorn-access.log"
        self.error_log = logs / "gunicorn.log"
        command = [
            str(BIN / "gunicorn"),
            "fardplan.wsgi:application",
            f"--bind={HOST}:{port}",
            f"--workers={workers}",
            f"--access-logfile={self.access_log}",
            f"--access-logformat={ACCESS_LOG_FORMAT}",
            f"--error-logfile={self.error_log}",
        ]
        if gunicorn_has_setting("control_socket_disable"):
            # gunicorn >= 24 listens on ~/.gunicorn/gunicorn.ctl by default,
            # which another gunicorn on this machine (.ci/stack) may hold.
            command.append("--no-control-socket")
        with self.error_log.open("a") as out:
            self.process = subprocess.Popen(
                command,
                cwd=BASE,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        log(f"gunicorn started (pid {self.process.pid}, {workers} workers, port {port})")

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        """Graceful: gunicorn finishes the requests it took (30 s at most)."""
        if self.process.returncode is not None:
            return
        if self.alive():
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
                log("gunicorn did not stop in time: killed")
        log("gunicorn stopped")


# --- The client ----------------------------------------------------------------------


@dataclass
class Sample:
    kind: str
    ms: float
    status: int  # 0: no response
    outcome: str  # ok, error, timeout


class Recorder:
    """Every request the clients made, and every comment they tried to save."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.samples: list[Sample] = []
        self.attempts: list[Attempt] = []
        self.notes: dict[str, int] = defaultdict(int)

    def sample(self, kind: str, ms: float, status: int, outcome: str) -> Sample:
        sample = Sample(kind, ms, status, outcome)
        with self.lock:
            self.samples.append(sample)
        return sample

    def attempt(self, attempt: Attempt) -> None:
        with self.lock:
            self.attempts.append(attempt)

    def note(self, what: str) -> None:
        with self.lock:
            self.notes[what] += 1


@dataclass
class Response:
    status: int
    headers: dict
    body: bytes
    outcome: str = "ok"
    sample: Sample | None = None

    def fail(self) -> None:
        """An answer that is no success although its status is not an error."""
        self.outcome = "error"
        if self.sample is not None:
            self.sample.outcome = "error"

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def location(self) -> str:
        """The redirect's target as a path (and query) on this server."""
        parts = urllib.parse.urlsplit(self.headers.get("location", ""))
        return urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))


class Browser:
    """HTTP/1.1 on loopback, one connection per request (gunicorn's sync
    workers close it anyway), with a cookie jar that keeps the production
    profile's Secure cookies on http://127.0.0.1 as a browser does on localhost."""

    def __init__(self, port: int, recorder: Recorder) -> None:
        self.port = port
        self.recorder = recorder
        self.cookies: dict[str, str] = {}
        self.origin = f"http://{HOST}:{port}"

    def request(self, kind: str, method: str, path: str, fields=None, referer=None) -> Response:
        headers = {
            "Host": f"{HOST}:{self.port}",
            "User-Agent": "fardplan-load/1",
            "Accept": "text/html,*/*",
            "Accept-Language": "sv",
            KIND_HEADER: kind,
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if fields is not None:
            body = urllib.parse.urlencode(fields).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = self.origin
        if referer:
            headers["Referer"] = self.origin + referer
        connection = http.client.HTTPConnection(HOST, self.port, timeout=CLIENT_TIMEOUT)
        started = time.perf_counter()
        try:
            connection.request(method, path, body=body, headers=headers)
            raw = connection.getresponse()
            content = raw.read()
            response = Response(raw.status, {k.lower(): v for k, v in raw.getheaders()}, content)
            for value in raw.headers.get_all("Set-Cookie") or []:
                cookie = SimpleCookie()
                cookie.load(value)
                for key, morsel in cookie.items():
                    if morsel["max-age"] == "0" or morsel.value == "":
                        self.cookies.pop(key, None)
                    else:
                        self.cookies[key] = morsel.value
        except TimeoutError:
            response = Response(0, {}, b"", outcome="timeout")
        except (OSError, http.client.HTTPException) as error:
            response = Response(0, {}, str(error).encode(), outcome="error")
        finally:
            connection.close()
        ms = (time.perf_counter() - started) * 1000
        if response.outcome == "ok" and ms > CLIENT_TIMEOUT * 1000:
            response.outcome = "timeout"  # slower than the timeout, in several reads
        if response.outcome == "ok" and response.status >= 400:
            response.outcome = "error"
        response.sample = self.recorder.sample(kind, ms, response.status, response.outcome)
        return response


@dataclass
class Scenario:
    port: int
    login_path: str
    page_path: str
    password: str
    run_id: str
    speed: float
    ramp: float
    stop_at: float  # time.monotonic()
    recorder: Recorder
    logs: Path | None = None  # where an unexpected page is kept, for a look
    page_bytes: list[int] = field(default_factory=list)

    def keep(self, name: str, body: bytes) -> None:
        """The first page of each kind of surprise, in the logs."""
        if self.logs is not None:
            path = self.logs / name
            with self.recorder.lock:
                if not path.exists():
                    path.write_bytes(body)

    def pause(self, seconds: float) -> bool:
        """Sleep like a person, unless the run ends first; False if it ended."""
        until = time.monotonic() + seconds
        if until >= self.stop_at:
            time.sleep(max(0.0, self.stop_at - time.monotonic()))
            return False
        time.sleep(seconds)
        return True


class Reporter:
    def __init__(self, scenario: Scenario, user: dict, number: int) -> None:
        self.s = scenario
        self.user = user
        self.number = number
        self.rng = random.Random(f"{scenario.run_id}-{user['username']}")
        self.browser = Browser(scenario.port, scenario.recorder)
        self.saves = 0
        self.static_done = False
        self.links: list[str] = []  # the current page's links to its other views
        self.tried: set[str] = set()

    def login(self) -> bool:
        response = self.browser.request(LOGIN_FORM, "GET", self.s.login_path)
        forms = scrape_forms(response.text, None) if response.status == 200 else []
        form = next((f for f in forms if f.value("username") is not None), None)
        if form is None:
            if response.outcome == "ok":
                response.fail()
            self.s.recorder.note(f"login form not found: {response.outcome}")
            return False
        values = {"username": self.user["username"], "password": self.s.password}
        fields = [(n, values.get(n, v)) for n, v in form.fields]
        response = self.browser.request(
            LOGIN, "POST", self.s.login_path, fields, referer=self.s.login_path
        )
        if response.status not in (302, 303) or "sessionid" not in self.browser.cookies:
            if response.outcome == "ok":
                response.fail()
            self.s.recorder.note(f"login failed: {response.outcome} (HTTP {response.status})")
            return False
        # As a browser: follow the redirects to wherever a reporter lands,
        # unless that is "Mina rapporter", which run() loads next anyway.
        location = response.location()
        for _hop in range(3):
            if urllib.parse.urlsplit(location).path == self.s.page_path:
                break
            landing = self.browser.request(LANDING, "GET", location)
            if landing.status not in (301, 302, 303):
                break
            location = landing.location()
        return True

    def mine(self, form: ScrapedForm | None) -> list[int]:
        """This reporter's rows in the form (the district's rows are split by pk)."""
        if form is None:
            return []
        return [
            pk
            for pk in form.reports()
            if pk % DISTRICT_USERS == self.user["slot"] and form.value(f"r{pk}-comment") is not None
        ]

    def open_page(self, path: str) -> ScrapedForm | None:
        """The page's report form. If the page shows none of this reporter's
        rows (a view of what is left to do, say, in a district that has
        submitted everything: then there is no form at all), the page's other
        views, as a person clicks through them, until one does. No form in
        any view is an error of the first page load."""
        first = self.page(path)
        if first is None:
            return None
        form, tried, hops = first[1], {path}, 0
        while not self.mine(form) and hops < 10:
            link = next((link for link in self.links if link not in tried), None)
            if link is None:
                break
            tried.add(link)
            hops += 1
            self.s.recorder.note("went to another view of the page for rows to change")
            loaded = self.page(link)
            if (
                loaded is not None
                and loaded[1] is not None
                and (form is None or self.mine(loaded[1]))
            ):
                form = loaded[1]
        if form is None:
            response = first[0]
            response.fail()
            self.s.recorder.note("no form.report-form on the page nor in its other views")
            self.s.keep("no-report-form.html", response.body)
        elif not self.mine(form):
            self.s.recorder.note("no view of the page shows a row of this reporter's")
        return form

    def page(self, path: str) -> tuple[Response, ScrapedForm | None] | None:
        """GET the page: the response and its report form; None if it failed."""
        response = self.browser.request(PAGE, "GET", path)
        self.links = []
        if response.outcome != "ok":
            return None
        if response.status != 200:
            # A redirect (to the login page) is no page: count it as an error.
            response.fail()
            self.s.recorder.note(f"page GET answered {response.status}")
            return None
        text = response.text
        with self.s.recorder.lock:
            self.s.page_bytes.append(len(response.body))
        if not self.static_done:
            # A cold browser cache: the style sheets and scripts, once.
            self.static_done = True
            for path_ in static_paths(text):
                self.browser.request(STATIC, "GET", path_)
        self.links = same_page_links(text, path, self.s.page_path)
        form = scrape_form(text)
        if form is not None and not form.action:
            form.action = path
        return response, form

    def save(self, form: ScrapedForm) -> str:
        """Change one or two of this reporter's rows and save a draft. The path
        to load next (the redirect's target, or the page again)."""
        mine = self.mine(form)
        if not mine:
            self.s.recorder.note("no row of this reporter's on the page")
            return self.s.page_path
        button = form.button("draft")
        if button is None:
            self.s.recorder.note("no draft button: sent action=draft")
            button = ("action", "draft")
        self.saves += 1
        changes = {}
        for pk in self.rng.sample(mine, min(len(mine), self.rng.choice((1, 2)))):
            changes[f"r{pk}-comment"] = f"load {self.s.run_id} u{self.number} #{self.saves} r{pk}"
        response = self.browser.request(
            SAVE, "POST", form.action, form.submission(changes, button), referer=form.action
        )
        ok = response.outcome == "ok" and response.status in (302, 303)
        if response.outcome == "ok" and not ok:
            # A 200 (say, a re-rendered form) is no success either.
            response.fail()
        outcome = "saved" if ok else (response.outcome if response.status == 0 else "")
        outcome = outcome or f"HTTP {response.status}"
        if not ok:
            self.s.recorder.note(f"save: {outcome}")
            if response.status:
                self.s.keep(f"save-{response.status}.html", response.body)
        for name, comment in changes.items():
            pk = int(name[1:].split("-", 1)[0])
            self.s.recorder.attempt(Attempt(pk, comment, ok, self.user["username"], outcome))
        return response.location() if ok else form.action

    def run(self) -> None:
        s = self.s
        if not s.pause(self.rng.uniform(0, s.ramp)):
            return
        while not self.login():
            # As a person would: try again a little later.
            if not s.pause(self.rng.uniform(5, 10) / s.speed):
                return
        form = self.open_page(s.page_path)
        low, high = SAVE_EVERY
        while s.pause(self.rng.uniform(low, high) / s.speed):
            if form is None:
                form = self.open_page(s.page_path)
                continue
            form = self.open_page(self.save(form))


class Visitor:
    """An anonymous visitor on the trivial page."""

    def __init__(self, scenario: Scenario, number: int) -> None:
        self.s = scenario
        self.rng = random.Random(f"{scenario.run_id}-visitor-{number}")
        self.browser = Browser(scenario.port, scenario.recorder)

    def run(self) -> None:
        low, high = TRIVIAL_EVERY
        if not self.s.pause(self.rng.uniform(0, high / self.s.speed)):
            return
        while True:
            self.browser.request(TRIVIAL, "GET", self.s.login_path)
            if not self.s.pause(self.rng.uniform(low, high) / self.s.speed):
                return


def wait_ready(port: int, server: Gunicorn) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if not server.alive():
            raise RuntimeError(f"gunicorn exited; see {server.error_log}")
        connection = http.client.HTTPConnection(HOST, port, timeout=5)
        try:
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            connection.close()
        time.sleep(0.3)
    raise RuntimeError(f"/healthz did not answer 200 within {READY_TIMEOUT} s")


class CpuMeter:
    """The machine's CPU busy share between start and stop (/proc/stat)."""

    @staticmethod
    def _read() -> tuple[int, int]:
        try:
            numbers = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        except (OSError, ValueError):
            return 0, 0
        idle = numbers[3] + (numbers[4] if len(numbers) > 4 else 0)
        return sum(numbers), idle

    def __init__(self) -> None:
        self.start = self._read()
        self.client_start = resource.getrusage(resource.RUSAGE_SELF)

    def busy_share(self) -> float | None:
        total, idle = self._read()
        d_total, d_idle = total - self.start[0], idle - self.start[1]
        return 100 * (d_total - d_idle) / d_total if d_total else None

    def client_cpu(self) -> float:
        now = resource.getrusage(resource.RUSAGE_SELF)
        return (now.ru_utime - self.client_start.ru_utime) + (
            now.ru_stime - self.client_start.ru_stime
        )


def drive(scenario: Scenario, users: list[dict], duration: float) -> None:
    threads = [
        threading.Thread(target=Reporter(scenario, user, n).run, daemon=True, name=f"reporter-{n}")
        for n, user in enumerate(users)
    ]
    threads += [
        threading.Thread(target=Visitor(scenario, n).run, daemon=True, name=f"visitor-{n}")
        for n in range(TRIVIAL_USERS)
    ]
    for thread in threads:
        thread.start()
    # Each user stops at stop_at; a request then in flight ends within the
    # client timeout, and one save and one page load may still follow.
    deadline = scenario.stop_at + 3 * CLIENT_TIMEOUT + 5
    next_report = time.monotonic() + 30
    for thread in threads:
        while thread.is_alive() and time.monotonic() < deadline:
            thread.join(timeout=1)
            if time.monotonic() >= next_report:
                next_report += 30
                left = max(0, scenario.stop_at - time.monotonic())
                with scenario.recorder.lock:
                    done = len(scenario.recorder.samples)
                log(f"{done} requests so far, {left:.0f} s of load left")
    stuck = [t.name for t in threads if t.is_alive()]
    if stuck:
        log(f"{len(stuck)} client thread(s) still busy after the deadline: left behind")


# --- The figures ---------------------------------------------------------------------


def fmt(value: float | None, unit: str = "") -> str:
    return "–" if value is None else f"{value:.0f}{unit}"


def summarise(
    recorder: Recorder, entries: list[LogEntry], verdict: Verdict, context: dict
) -> tuple[str, bool]:
    server = defaultdict(list)
    for entry in entries:
        server[entry.kind].append(entry)
    client = defaultdict(list)
    for sample in recorder.samples:
        client[sample.kind].append(sample)

    lines = []
    heading = (
        f"{'request':<12} {'count':>6} {'errors':>6} {'timeouts':>8} {'srv n':>6} {'srv p50':>8} "
        f"{'srv p95':>8} {'srv max':>8} {'cli p50':>8} {'cli p95':>8} {'avg KB':>7}"
    )
    lines += [heading, "-" * len(heading)]
    p95 = {}
    for kind in KINDS:
        samples, logged = client.get(kind, []), server.get(kind, [])
        if not samples and not logged:
            continue
        server_ms = [e.ms for e in logged]
        p95[kind] = percentile(server_ms, 95)
        sizes = [e.bytes for e in logged]
        lines.append(
            f"{kind:<12} {len(samples):>6} "
            f"{sum(s.outcome == 'error' for s in samples):>6} "
            f"{sum(s.outcome == 'timeout' for s in samples):>8} {len(logged):>6} "
            f"{fmt(percentile(server_ms, 50)):>8} {fmt(p95[kind]):>8} "
            f"{fmt(max(server_ms, default=None)):>8} "
            f"{fmt(percentile([s.ms for s in samples], 50)):>8} "
            f"{fmt(percentile([s.ms for s in samples], 95)):>8} "
            f"{(sum(sizes) / len(sizes) / 1024 if sizes else 0):>7.0f}"
        )
    lines.append(
        "times in ms; srv: gunicorn's own time for the request (access log, %(D)s), "
        "srv n: requests it logged (one whose client had given up may be missing); "
        "cli: the client's time, including the wait for a free worker"
    )
    statuses = defaultdict(lambda: defaultdict(int))
    for entry in entries:
        statuses[entry.kind][entry.status] += 1
    lines.append(
        "server statuses: "
        + "; ".join(
            f"{kind} " + ", ".join(f"{code}×{n}" for code, n in sorted(statuses[kind].items()))
            for kind in KINDS
            if kind in statuses
        )
    )
    if recorder.notes:
        lines.append(
            "client notes: " + "; ".join(f"{k} ×{n}" for k, n in sorted(recorder.notes.items()))
        )
    saved = sum(a.ok for a in recorder.attempts)
    lines.append(
        f"comments: {len(recorder.attempts)} tried in "
        f"{sum(s.kind == SAVE for s in recorder.samples)} saves, {saved} saved; "
        f"lost updates {len(verdict.lost)}; stored although the user saw an error "
        f"{len(verdict.stored_despite_error)}"
    )
    for attempt in verdict.lost[:10]:
        lines.append(f"  LOST: report {attempt.pk} {attempt.comment!r} ({attempt.user})")
    for attempt in verdict.stored_despite_error[:10]:
        lines.append(
            f"  stored although the user saw {attempt.outcome}: report {attempt.pk} "
            f"{attempt.comment!r} ({attempt.user})"
        )

    def ratio(kind: str) -> float | None:
        if p95.get(kind) is None or not p95.get(TRIVIAL):
            return None
        return p95[kind] / p95[TRIVIAL]

    targets = []
    for kind in TARGET_KINDS:
        samples = client.get(kind, [])
        errors = sum(s.outcome == "error" for s in samples)
        timeouts = sum(s.outcome == "timeout" for s in samples)
        targets.append((f"{kind}: 0 errors", bool(samples) and errors == 0, f"{errors}"))
        targets.append(
            (f"{kind}: 0 timeouts at {CLIENT_TIMEOUT:.0f} s", timeouts == 0, f"{timeouts}")
        )
    for kind in (PAGE, SAVE):
        value = ratio(kind)
        targets.append(
            (
                f"{kind} server p95 / trivial server p95 <= {RATIO_TARGET:.0f}",
                value is not None and value <= RATIO_TARGET,
                "–"
                if value is None
                else f"{value:.1f} ({fmt(p95[kind])} / {fmt(p95[TRIVIAL])} ms)",
            )
        )
    targets.append(("0 lost updates", saved > 0 and not verdict.lost, f"{len(verdict.lost)}"))
    lines.append("")
    lines.append("targets (issue 11):")
    for label, ok, value in targets:
        lines.append(f"  {'PASS' if ok else 'FAIL'}  {label:<48} {value}")
    passed = all(ok for _label, ok, _value in targets)
    lines.append(f"overall: {'PASS' if passed else 'FAIL'}")
    lines.append("")
    lines.append(
        "machine: {cores} cores; load average before {load_before}, after {load_after}; "
        "CPU busy during the load {busy}; the client's own CPU {client_cpu:.0f} s "
        "({client_share:.0f}% of one core)".format(**context)
    )
    return "\n".join(lines), passed


# --- Main ----------------------------------------------------------------------------


def arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=300, help="seconds of load (300)")
    parser.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="pacing factor: think times and the ramp are divided by it (1 = people)",
    )
    parser.add_argument(
        "--ramp", type=float, default=60, help="reporters arrive within this many seconds (60)"
    )
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (3)")
    parser.add_argument("--server-url", help="the PostgreSQL server (loopback)")
    parser.add_argument("--db-name", default="fardplan_load", help="database (fardplan_load)")
    parser.add_argument("--logs", type=Path, help="folder for the logs (default: a new one)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--seed", default=None, help="random seed (default: a new run id)")
    # The children.
    parser.add_argument("--setup", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--check", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--db-url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.duration <= 0 or args.speed <= 0 or args.ramp < 0 or args.workers < 1:
        parser.error("--duration and --speed must be positive, --ramp >= 0, --workers >= 1")
    if not re.fullmatch(r"[a-z0-9_]+", args.db_name):
        parser.error(f"unsafe database name {args.db_name!r}")
    return args


def _terminated(*_args) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise SystemExit(143)


def run(args: argparse.Namespace) -> int:
    # Stopped from outside (timeout, kill): clean up as after Ctrl-C.
    signal.signal(signal.SIGTERM, _terminated)
    cores = os.cpu_count()
    load_before = "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    run_id = args.seed or secrets.token_hex(3)
    logs = args.logs or Path(tempfile.mkdtemp(prefix="fardplan-load-"))
    logs.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="fardplan-load-work-"))
    log(
        f"run {run_id}: {args.duration:.0f} s at speed {args.speed:g}, "
        f"{args.workers} gunicorn workers; {cores} cores, load average {load_before}; "
        f"logs in {logs}"
    )
    postgres = Postgres(server_url(args.server_url))
    postgres.ensure_running()
    database = None
    server = None
    password = "load-" + secrets.token_urlsafe(12)
    try:
        database = postgres.create(args.db_name)
        started = time.monotonic()
        try:
            setup = child(["--setup"], database, env={"LOAD_PASSWORD": password})
            env = production_env(database, workdir)
            done = subprocess.run(
                [sys.executable, "manage.py", "collectstatic", "--noinput"],
                cwd=BASE,
                env=env,
                capture_output=True,
                text=True,
                timeout=SETUP_TIMEOUT,
            )
            if done.returncode != 0:
                raise RuntimeError(f"collectstatic failed:\n{done.stderr[-4000:]}")
        except (RuntimeError, subprocess.TimeoutExpired) as error:
            log(f"setup failed: {error}")
            return 2
        empty = [code for code, n in setup["reports"].items() if not n]
        log(
            f"setup in {time.monotonic() - started:.0f} s: open period(s) "
            f"{', '.join(setup['periods']) or 'none'}; {len(setup['users'])} reporters; reports "
            f"per district {min(setup['reports'].values(), default=0)}–"
            f"{max(setup['reports'].values(), default=0)}"
        )
        if empty or not setup["periods"]:
            log(f"setup failed: no open period with reports for {', '.join(empty) or 'anyone'}")
            return 2

        port = free_port()
        server = Gunicorn(env, logs, port, args.workers)
        try:
            wait_ready(port, server)
        except RuntimeError as error:
            log(f"gunicorn did not come up: {error}")
            return 2
        recorder = Recorder()
        ramp = min(args.ramp / args.speed, args.duration / 3)
        scenario = Scenario(
            port=port,
            login_path=setup["login"],
            page_path=setup["my_reports"],
            password=password,
            run_id=run_id,
            speed=args.speed,
            ramp=ramp,
            stop_at=time.monotonic() + args.duration,
            recorder=recorder,
            logs=logs,
        )
        log(
            f"load: {len(setup['users'])} reporters (arriving within {ramp:.0f} s, a save every "
            f"{SAVE_EVERY[0] / args.speed:g}–{SAVE_EVERY[1] / args.speed:g} s), "
            f"{TRIVIAL_USERS} visitors on {setup['login']} (every "
            f"{TRIVIAL_EVERY[0] / args.speed:g}–{TRIVIAL_EVERY[1] / args.speed:g} s)"
        )
        meter = CpuMeter()
        load_started = time.monotonic()
        drive(scenario, setup["users"], args.duration)
        elapsed = time.monotonic() - load_started
        busy = meter.busy_share()
        client_cpu = meter.client_cpu()
        load_after = "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
        server.stop()  # every request it took is finished (and logged) now

        with recorder.lock:
            attempts = list(recorder.attempts)
        attempts_file = logs / "attempts.json"
        attempts_file.write_text(json.dumps([a.__dict__ for a in attempts], indent=1))
        try:
            stored = child(["--check", str(attempts_file)], database)
        except (RuntimeError, subprocess.TimeoutExpired) as error:
            log(f"the database check failed: {error}")
            return 2
        verdict = verify_saves(
            attempts,
            {int(k): v for k, v in stored["current"].items()},
            {int(k): set(v) for k, v in stored["history"].items()},
        )
        entries = parse_access_log(server.access_log.read_text(errors="replace").splitlines())
        report, passed = summarise(
            recorder,
            entries,
            verdict,
            {
                "cores": cores,
                "load_before": load_before,
                "load_after": load_after,
                "busy": "–" if busy is None else f"{busy:.0f}%",
                "client_cpu": client_cpu,
                "client_share": 100 * client_cpu / elapsed if elapsed else 0,
            },
        )
        print()
        print(
            f"load test {run_id}: {elapsed:.0f} s, speed {args.speed:g}, "
            f"{len(setup['users'])} reporters + {TRIVIAL_USERS} visitors, "
            f"gunicorn {args.workers} workers, production settings, PostgreSQL; "
            f"page {setup['my_reports']} "
            f"({percentile(scenario.page_bytes, 50) or 0:.0f} bytes median)"
        )
        print(report)
        (logs / "summary.txt").write_text(report + "\n")
        return 0 if passed else 1
    finally:
        # The clean-up is bounded; a second Ctrl-C or SIGTERM must not cut it short.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if server is not None:
            server.stop()
        if database is not None and not args.keep:
            postgres.drop(args.db_name)
        elif database is not None:
            log(f"database kept: {database}")
        postgres.restore()
        shutil.rmtree(workdir, ignore_errors=True)
        log(f"logs in {logs}")


def main() -> int:
    args = arguments()
    if args.setup:
        print(RESULT_PREFIX + json.dumps(setup_child(args.db_url)), flush=True)
        return 0
    if args.check:
        print(RESULT_PREFIX + json.dumps(check_child(args.db_url, args.check)), flush=True)
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
