"""Benchmark: importing a roadmap document (``load_roadmap``) at 1× and 10×.

1× is the adopted 2021 roadmap (fixtures/roadmap_2021.yaml). 10× is the same
document with its focus areas repeated ten times, for another year. Each is
imported into the same fresh database; the figures are the wall time and the
query count of the import alone, and of the whole ``load_roadmap`` command
(reference data included) for 1×.

Usage (a throw-away database is created; DATABASE_URL selects PostgreSQL):
    .venv/bin/python bench/bench_import.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fardplan_bench \
        .venv/bin/python bench/bench_import.py
"""

import copy
import os
import sys
import tempfile
from io import StringIO
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fardplan.settings")
if not os.environ.get("DATABASE_URL"):
    os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"

import django  # noqa: E402

django.setup()

import yaml  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from bench.bench_revision import measure  # noqa: E402

FIXTURE = BASE / "fixtures" / "roadmap_2021.yaml"


def scaled(data: dict, *, factor: int, year: int) -> dict:
    """The document with its focus areas repeated ``factor`` times, for ``year``."""
    big = copy.deepcopy(data)
    big["revision"]["year"] = year
    big["focus_areas"] = [copy.deepcopy(fa) for _ in range(factor) for fa in data["focus_areas"]]
    return big


def main() -> None:
    from roadmap.models import NextStep
    from roadmap.services import roadmap_import

    setup_test_environment()
    creation = connection.creation
    test_db = creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        print(f"database: {connection.vendor} ({test_db})")
        data = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))
        decision = data["decision"]

        def run(document: dict):
            return roadmap_import(
                data=document,
                responsible=decision["responsible"],
                all_districts=decision["all_districts"],
                decision_body=decision["body"],
                case_number=decision["case_number"],
                decision_note=decision["note"],
            )

        measure(
            "load_roadmap (reference data + 2021, 1×)",
            lambda: call_command("load_roadmap", stdout=StringIO()),
        )
        for factor, year in ((1, 2031), (10, 2032)):
            document = scaled(data, factor=factor, year=year)
            revision = measure(f"roadmap_import {factor}× ", lambda d=document: run(d))
            steps = NextStep.objects.filter(revision=revision).count()
            print(f"{'':<44} {steps} next steps")
    finally:
        creation.destroy_test_db(test_db, verbosity=0)


if __name__ == "__main__":
    main()
