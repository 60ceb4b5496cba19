"""Benchmark: the reporter page ("Mina rapporter") at 1× and 10× the rows.

On the demo data (``load_roadmap``, ``load_statuses``, ``seed_demo``: the open
period of the demo, where Bromma and nine other organisations have every
report left to do), two reporters: one for Bromma (101 rows, 1×) and one for
ten organisations (1,010 rows, 10×). For each, the default view (what is left
to do, the first page) is requested ``--repeat`` times through Django's test
client, with the production template loaders; the figures are the server
time (median and p95), the HTML size and the number of queries. Then saving:
the number of queries to save 1, 10 and 20 changed rows, and to post the page
back unchanged.

The targets (issue 11): at 1× at most 250 ms and 120 KB; at 10× within 2× of
the 1× time; a constant number of queries per changed row, and nothing for
rows not changed.

Usage (a throw-away database is created; DATABASE_URL selects PostgreSQL):
    .venv/bin/python bench/bench_reporter_page.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fardplan_bench \
        .venv/bin/python bench/bench_reporter_page.py --repeat 30
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from io import StringIO
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fardplan.settings")
if not os.environ.get("DATABASE_URL"):
    os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
os.environ.setdefault("DEBUG", "false")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402

URL = reverse("followup:my_reports")
# Organisations with every report of the demo's open period left to do.
TEN = (
    "bromma",
    "hagersten-alvsjo",
    "hasselby-vallingby",
    "kungsholmen",
    "norrmalm",
    "rinkeby-kista",
    "skarholmen",
    "skarpnack",
    "spanga-tensta",
    "ks",
)


def reporter(username: str, codes: tuple[str, ...]):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from accounts import roles
    from roadmap.models import Organisation

    user, _ = get_user_model().objects.get_or_create(username=username)
    user.groups.add(Group.objects.get(name=roles.REPORTER))
    user.organisations.set(Organisation.objects.filter(code__in=codes))
    return user


def timed_get(client: Client, repeat: int) -> dict:
    times, size, queries = [], 0, 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = client.get(URL)
            times.append(time.perf_counter() - start)
        assert response.status_code == 200, response.status_code
        size, queries = len(response.content), len(captured)
    times.sort()
    return {
        "median_ms": 1000 * statistics.median(times),
        "p95_ms": 1000 * times[max(0, round(0.95 * len(times)) - 1)],
        "kb": size / 1024,
        "queries": queries,
        "rows": response.context["page"].total,
        "forms": response.content.count(b"<fieldset"),
        "response": response,
    }


def post_queries(client: Client, changed: int) -> int:
    """Queries to save ``changed`` rows of the first page as drafts."""
    page = client.get(URL)
    data: dict = {"report": [], "action": "draft"}
    for index, report in enumerate(page.context["page"].reports):
        form = report.form
        data["report"].append(str(report.pk))
        for name in form.fields:
            value = form[name].value()
            data[form[name].html_name] = "" if value is None else str(value)
        if index < changed:
            data[f"r{report.pk}-comment"] = f"Benchmark {time.monotonic_ns()}"
    with CaptureQueriesContext(connection) as captured:
        response = client.post(page.context["form_action"], data)
    assert response.status_code == 302, response.status_code
    return len(captured)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    setup_test_environment()
    settings.ALLOWED_HOSTS = ["testserver"]
    creation = connection.creation
    test_db = creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        for command in ("load_roadmap", "load_statuses", "seed_demo"):
            call_command(command, stdout=StringIO())
        print(f"database: {connection.vendor}; {os.cpu_count()} cores; load {os.getloadavg()}")
        results = {}
        for label, user in (
            ("1x", reporter("bench-1x", ("bromma",))),
            ("10x", reporter("bench-10x", TEN)),
        ):
            client = Client()
            client.force_login(user)
            client.get(URL)  # warm: templates, translations
            results[label] = result = timed_get(client, args.repeat)
            print(
                f"GET default view {label:>3}: {result['rows']:>5} rows, {result['forms']} forms, "
                f"median {result['median_ms']:.0f} ms, p95 {result['p95_ms']:.0f} ms, "
                f"{result['kb']:.0f} KB, {result['queries']} queries"
            )
        ratio = results["10x"]["median_ms"] / results["1x"]["median_ms"]
        print(f"10x / 1x median time: {ratio:.2f} (target at most 2)")
        client = Client()
        client.force_login(reporter("bench-1x", ("bromma",)))
        saves = {n: post_queries(client, n) for n in (0, 1, 10, 20)}
        per_row = (saves[20] - saves[10]) / 10
        print(
            f"POST save draft, queries by changed rows: {saves}; "
            f"per changed row {per_row:g}; unchanged page {saves[0]}"
        )
        one = results["1x"]
        ok = (
            one["median_ms"] <= 250
            and one["kb"] <= 120
            and ratio <= 2
            and per_row == (saves[10] - saves[1]) / 9
        )
        print("PASS" if ok else "FAIL")
        sys.exit(0 if ok else 1)
    finally:
        creation.destroy_test_db(test_db, verbosity=0)


if __name__ == "__main__":
    main()
