"""Benchmark: rendering the follow-up PDF reports, at 1× and 10×.

Each case renders one report and splits its time into four phases: (1) data
(validating the request and reading the report's data, with the number of
queries), (2) the checksum, (3) the Django template (data → HTML) and (4)
WeasyPrint (HTML → PDF). Every case runs in a fresh child process, so that its
peak RSS is its own; the child's imports and ``django.setup()`` are done before
the clock starts, but templates, fonts and style sheet are loaded cold, as in
the first report a worker renders.

Cases (``--cases``, comma-separated; default all):
    annual-1x     annual follow-up 2022 of the 2021 roadmap, a full year of demo reports
    period-1x     period report 2022-VB for Bromma
    citywide-1x   citywide period report 2022-VB
    annual-10x    annual follow-up of a synthetic revision with ten times the needs and
                  items of 2021 (bench_revision.build_synthetic: revision 1910), with the
                  periods 1911-T1, -T2 and -VB filled like the demo
    period-10x    period report 1911-VB for Bromma
    citywide-10x  citywide period report 1911-VB (takes a few minutes)

The synthetic periods are in 1911, the year after their revision, as 2022 is the
year after 2021: the drift section (next steps past their due year) then grows
with the roadmap and not with the distance in years.

The database is built once, in a child of its own (migrate, load_roadmap,
load_statuses, seed_demo, and the synthetic data if a 10× case is chosen), and
the children reuse it. The parent imports no Django and stays small, because on
Linux a child's ru_maxrss starts from its parent's. The database is SQLite in a
new temporary folder unless ``--db`` (a path or a database URL) or DATABASE_URL
says otherwise; what is already in it is reused. The PDFs are written to
``--output-dir`` (default a new temporary folder).

Usage:
    .venv/bin/python bench/bench_reports.py
    .venv/bin/python bench/bench_reports.py --cases annual-1x,period-1x --output-dir /tmp/pdfs
    .venv/bin/python bench/bench_reports.py --db /tmp/bench_reports.sqlite3   # keep and reuse
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fardplan_bench_reports \
        .venv/bin/python bench/bench_reports.py
"""

import argparse
import datetime
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE))

RESULT_PREFIX = "BENCH-RESULT "
DEMO_YEAR = 2022
SYNTHETIC_FACTOR = 10
SYNTHETIC_REVISION_YEAR = 1900 + SYNTHETIC_FACTOR  # as build_synthetic names it
SYNTHETIC_YEAR = SYNTHETIC_REVISION_YEAR + 1


@dataclass(frozen=True)
class Case:
    scale: int
    kind: str
    year: int | None = None
    period: str | None = None
    organisation: str | None = None

    @property
    def params(self) -> dict:
        return {
            "kind": self.kind,
            "year": self.year,
            "period": self.period,
            "organisation": self.organisation,
        }


CASES = {
    "annual-1x": Case(1, "annual", year=DEMO_YEAR),
    "period-1x": Case(1, "period", period=f"{DEMO_YEAR}-VB", organisation="bromma"),
    "citywide-1x": Case(1, "citywide", period=f"{DEMO_YEAR}-VB"),
    "annual-10x": Case(SYNTHETIC_FACTOR, "annual", year=SYNTHETIC_YEAR),
    "period-10x": Case(
        SYNTHETIC_FACTOR, "period", period=f"{SYNTHETIC_YEAR}-VB", organisation="bromma"
    ),
    "citywide-10x": Case(SYNTHETIC_FACTOR, "citywide", period=f"{SYNTHETIC_YEAR}-VB"),
}


def database_url(value: str) -> str:
    """A database URL as it is, or a path as a SQLite URL."""
    if "://" in value:
        return value
    return f"sqlite:///{Path(value).resolve()}"


def django_setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fardplan.settings")
    # As in production: no query log, no template debug information.
    os.environ.setdefault("DEBUG", "false")
    import django

    django.setup()


def peak_rss_mb() -> float:
    """The process's peak resident set so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- Building the database (parent) -----------------------------------------------------


def step(label: str, func):
    start = time.perf_counter()
    result = func()
    print(f"  {label:<58} {time.perf_counter() - start:7.1f} s", flush=True)
    return result


def editor_user():
    """The demo editor from seed_demo (role Redaktör: may manage periods)."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username="redaktor")


def synthetic_followup_build(*, actor) -> None:
    """Ten times the 2021 roadmap, and a year of periods on it filled like the demo."""
    from bench_revision import build_synthetic
    from django.db import transaction

    from followup.demo import _fill
    from followup.services import period_close, period_create, period_open
    from roadmap.models import Revision

    with transaction.atomic():
        revision = Revision.objects.filter(year=SYNTHETIC_REVISION_YEAR).first()
        if revision is None:
            revision = step(
                f"build_synthetic({SYNTHETIC_FACTOR})",
                lambda: build_synthetic(SYNTHETIC_FACTOR, actor=actor),
            )
        for kind in ("T1", "T2", "VB"):

            def period_build(kind=kind) -> int:
                period = period_create(
                    year=SYNTHETIC_YEAR, kind=kind, revision=revision, actor=actor
                )
                period = period_open(period=period, actor=actor)
                filled = _fill(period, organisations=None, actor=actor, skip_share=3)
                period_close(
                    period=period, actor=actor, today=period.deadline + datetime.timedelta(days=1)
                )
                return filled

            filled = step(f"period {SYNTHETIC_YEAR}-{kind}: open, fill, close", period_build)
            print(f"  {'':<58} {filled:7d} reports submitted", flush=True)


def database_build(scales: set[int]) -> None:
    """Whatever the chosen cases need and the database does not hold yet."""
    from django.core.management import call_command
    from django.db import connection

    from followup.models import ReportingPeriod, StatusReport

    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}", flush=True)
    step("migrate", lambda: call_command("migrate", verbosity=0))
    if not ReportingPeriod.objects.filter(year=DEMO_YEAR).exists():
        # seed_demo makes the 2022 periods only while there is no period at all,
        # so the 1× data comes first whichever cases are chosen.
        step("load_roadmap", lambda: call_command("load_roadmap", stdout=io.StringIO()))
        step("load_statuses", lambda: call_command("load_statuses", stdout=io.StringIO()))
        step("seed_demo", lambda: call_command("seed_demo", stdout=io.StringIO()))
    if (
        SYNTHETIC_FACTOR in scales
        and not ReportingPeriod.objects.filter(year=SYNTHETIC_YEAR).exists()
    ):
        synthetic_followup_build(actor=editor_user())
    for year in sorted({DEMO_YEAR} | ({SYNTHETIC_YEAR} if SYNTHETIC_FACTOR in scales else set())):
        reports = StatusReport.objects.filter(period__year=year)
        print(
            f"  {year}: {reports.count()} status reports in "
            f"{ReportingPeriod.objects.filter(year=year).count()} periods, "
            f"{reports.filter(state='submitted').count()} submitted",
            flush=True,
        )
    connection.close()


# --- One case (child) -----------------------------------------------------------------


def case_run(name: str, output_dir: Path) -> dict:
    from bench_revision import QueryCounter
    from django.db import connection
    from django.utils import timezone

    from followup.reports.data import report_checksum, report_data_build
    from followup.reports.params import report_request_clean
    from followup.reports.render import html_to_pdf, pdf_verify, report_html

    case = CASES[name]
    start_rss = peak_rss_mb()
    data_queries, later_queries = QueryCounter(), QueryCounter()
    with connection.execute_wrapper(data_queries):
        t0 = time.perf_counter()
        request = report_request_clean(**case.params)
        data = report_data_build(request)
    with connection.execute_wrapper(later_queries):
        t1 = time.perf_counter()
        report_checksum(data)
        t2 = time.perf_counter()
        html = report_html(data, generated_at=timezone.now())
        t3 = time.perf_counter()
        rendered = html_to_pdf(html)
        t4 = time.perf_counter()
    pdf_verify(rendered.pdf)
    path = output_dir / f"{name}.pdf"
    path.write_bytes(rendered.pdf)
    return {
        "case": name,
        "pages": rendered.pages,
        "pdf_kb": len(rendered.pdf) / 1024,
        "html_kb": len(html.encode()) / 1024,
        "queries": data_queries.count,
        "later_queries": later_queries.count,
        "data_s": t1 - t0,
        "checksum_s": t2 - t1,
        "template_s": t3 - t2,
        "weasyprint_s": t4 - t3,
        "start_rss_mb": start_rss,
        "peak_rss_mb": peak_rss_mb(),
        "path": str(path),
    }


def case_spawn(name: str, *, url: str, output_dir: Path, timeout: int) -> dict:
    """Run one case in a fresh interpreter; its result, or its error."""
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        *("--case", name, "--db", url, "--output-dir", str(output_dir)),
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"case": name, "error": f"timed out after {timeout} s"}
    for line in done.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            return json.loads(line.removeprefix(RESULT_PREFIX))
    tail = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
    return {"case": name, "error": f"exit {done.returncode}: {tail}", "stderr": done.stderr}


# --- The table --------------------------------------------------------------------------

COLUMNS = [
    # heading, width, format
    ("case", 13, "{case}"),
    ("pages", 6, "{pages}"),
    ("PDF KB", 8, "{pdf_kb:.0f}"),
    ("HTML KB", 8, "{html_kb:.0f}"),
    ("queries", 8, "{queries}"),
    ("data s", 8, "{data_s:.2f}"),
    ("checksum s", 11, "{checksum_s:.3f}"),
    ("template s", 11, "{template_s:.2f}"),
    ("WeasyPrint s", 13, "{weasyprint_s:.2f}"),
    ("total s", 8, "{total_s:.2f}"),
    ("outside WP %", 13, "{outside_share:.1f}"),
    ("start RSS MB", 13, "{start_rss_mb:.0f}"),
    ("peak RSS MB", 12, "{peak_rss_mb:.0f}"),
]


def table_print(results: list[dict]) -> None:
    def row(cells: list[str]) -> str:
        first, *rest = zip(cells, COLUMNS, strict=True)
        return " ".join(
            [f"{first[0]:<{first[1][1]}}", *(f"{cell:>{col[1]}}" for cell, col in rest)]
        )

    lines = [row([heading for heading, _w, _f in COLUMNS])]
    lines.append("-" * len(lines[0]))
    for result in results:
        if "error" in result:
            lines.append(f"{result['case']:<13} FAILED: {result['error']}")
            continue
        total = sum(result[k] for k in ("data_s", "checksum_s", "template_s", "weasyprint_s"))
        values = {
            **result,
            "total_s": total,
            "outside_share": 100 * (total - result["weasyprint_s"]) / total,
        }
        lines.append(row([fmt.format(**values) for _h, _w, fmt in COLUMNS]))
    print("\n".join(lines))
    print(
        "queries: those of the data phase (request validation + report_data_build). "
        "start RSS: the child after imports and django.setup(), before the case."
    )
    for result in results:
        if result.get("later_queries"):
            print(
                f"note: {result['case']} ran {result['later_queries']} queries after the "
                "data phase (checksum, template or WeasyPrint)."
            )


# --- Main -------------------------------------------------------------------------------


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--cases",
        default=",".join(CASES),
        help=f"comma-separated, of: {', '.join(CASES)} (default: all)",
    )
    parser.add_argument("--db", help="SQLite path or database URL (default: DATABASE_URL or new)")
    parser.add_argument("--output-dir", type=Path, help="where the PDFs go (default: new temp)")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per case")
    # The children: build the database, or run one case.
    parser.add_argument("--build", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.cases = [name.strip() for name in args.cases.split(",") if name.strip()]
    unknown = [name for name in [*args.cases, *filter(None, [args.case])] if name not in CASES]
    if unknown:
        parser.error(f"unknown case(s): {', '.join(unknown)}; choose from {', '.join(CASES)}")
    return args


def main() -> None:
    args = arguments()
    if args.build:
        django_setup(database_url(args.db))
        database_build({CASES[name].scale for name in args.cases})
        return
    if args.case:
        django_setup(database_url(args.db))
        print(RESULT_PREFIX + json.dumps(case_run(args.case, args.output_dir)), flush=True)
        return

    # The parent imports no Django and builds nothing itself: on Linux a child
    # starts with the parent's peak RSS as its own ru_maxrss (fork + exec keep
    # it), so the parent must stay small for the children's peaks to be theirs.
    if args.db:
        url = database_url(args.db)
        if "://" not in args.db:
            Path(args.db).resolve().parent.mkdir(parents=True, exist_ok=True)
    elif os.environ.get("DATABASE_URL"):
        url = os.environ["DATABASE_URL"]
    else:
        url = database_url(str(Path(tempfile.mkdtemp(prefix="bench_reports_")) / "bench.sqlite3"))
    output_dir = args.output_dir or Path(tempfile.mkdtemp(prefix="bench_reports_pdf_"))
    output_dir.mkdir(parents=True, exist_ok=True)

    script = [sys.executable, str(Path(__file__).resolve())]
    build = [*script, "--build", "--db", url, "--cases", ",".join(args.cases)]
    if subprocess.run(build).returncode != 0:
        sys.exit("building the database failed")

    results = []
    for name in args.cases:
        print(f"running {name} ...", flush=True)
        start = time.perf_counter()
        result = case_spawn(name, url=url, output_dir=output_dir, timeout=args.timeout)
        print(f"  {name} done in {time.perf_counter() - start:.1f} s (wall, child)", flush=True)
        if "stderr" in result:
            print(result["stderr"], file=sys.stderr)
        results.append(result)

    print(f"\nreports, database: {url.split(':', 1)[0]}")
    table_print(results)
    print(f"PDFs in {output_dir}")


if __name__ == "__main__":
    main()
