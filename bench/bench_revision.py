"""Benchmark: "Starta ny revidering" (deep copy) and the redline, at 1× and 10×.

1× is the adopted 2021 roadmap (4 focus areas, 20 needs, 21 national
initiatives, 56 city actions, 45 next steps). 10× is synthetic: ten times as
many needs, each with the same mix of items.

Usage (a throw-away database is created; DATABASE_URL selects PostgreSQL):
    .venv/bin/python bench/bench_revision.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fardplan_bench \
        .venv/bin/python bench/bench_revision.py
"""

import os
import resource
import sys
import tempfile
import time
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fardplan.settings")
if not os.environ.get("DATABASE_URL"):
    os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402


class QueryCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def measure(label: str, func):
    """Wall time and query count of one call; the process's peak RSS so far
    (an upper bound for the memory the call needed)."""
    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        start = time.perf_counter()
        result = func()
        elapsed = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{label:<44} {elapsed * 1000:9.0f} ms {counter.count:7d} queries "
        f"{peak_mb:8.1f} MB peak RSS"
    )
    return result


def build_synthetic(factor: int, *, actor):
    """An approved revision with `factor` times the needs of 2021, same mix."""
    from roadmap.models import (
        CityAction,
        FocusArea,
        NationalInitiative,
        Need,
        NextStep,
        Organisation,
        Revision,
        TimeHorizon,
    )
    from roadmap.services import roadmap_item_save

    horizons = list(TimeHorizon.objects.all())
    orgs = list(Organisation.objects.filter(code__in=["aldrenamnden", "ks"]))
    year = 1900 + factor
    revision = Revision.objects.create(year=year, title=f"Syntetisk {factor}x", status="in_review")
    base = Revision.objects.get(year=2021)
    for fa in FocusArea.objects.filter(revision=base).order_by("position"):
        new_fa = FocusArea.objects.create(revision=revision, position=fa.position, title=fa.title)
        pos = 0
        for copy in range(factor):
            for need in Need.objects.filter(focus_area=fa).order_by("position"):
                pos += 1
                new_need = Need.objects.create(
                    focus_area=new_fa,
                    position=pos,
                    title=f"{need.title or 'Behov'} {copy}",
                )
                for model in (NationalInitiative, CityAction, NextStep):
                    for item in model.objects.filter(need=need).order_by("position"):
                        new = model.objects.create(
                            need=new_need,
                            position=item.position,
                            text=f"{item.text} ({copy})",
                            **({"all_districts": True} if model is not NationalInitiative else {}),
                        )
                        if model is not NationalInitiative:
                            new.responsible_organisations.set(orgs)
                        if model is NextStep:
                            new.horizons.set(horizons[item.pk % 4 : item.pk % 4 + 1])
    revision.status = "approved"
    revision.case_number = f"SYNT {year}"
    revision.decision_body = Organisation.objects.get(code="kf")
    roadmap_item_save(item=revision, actor=actor)
    return revision


def main() -> None:
    setup_test_environment()
    from django.contrib.auth import get_user_model

    from accounts import roles
    from roadmap.models import NextStep, Revision, TimeHorizon
    from roadmap.redline import revision_compare
    from roadmap.services import revision_start

    print(f"database: {connection.vendor}")
    call_command("migrate", verbosity=0)
    call_command("load_roadmap", verbosity=0)
    roles.sync_roles()
    editor = get_user_model().objects.create_user("bench-editor", is_staff=True)
    from django.contrib.auth.models import Group

    editor.groups.add(Group.objects.get(name=roles.EDITOR), Group.objects.get(name=roles.APPROVER))
    editor = get_user_model().objects.get(pk=editor.pk)

    def cycle(label: str, base_year: int) -> None:
        base = Revision.objects.get(year=base_year)
        # Make `base` the revision in force, so that revision_start copies it.
        Revision.objects.exclude(pk=base.pk).filter(status="approved").update(status="superseded")
        draft = measure(
            f"{label}: copy (Starta ny revidering)",
            lambda: revision_start(actor=editor, year=base_year + 100),
        )
        items = sum(m.objects.filter(revision=draft).count() for m in (NextStep,))
        # A few edits so that the redline has something to show.
        steps = list(NextStep.objects.filter(revision=draft).order_by("pk")[:: max(1, items // 20)])
        long = TimeHorizon.objects.get(code="long")
        for step in steps:
            step.text += " (ändrad)"
            step.change_reason = "Benchmark"
            step.save()
            step.horizons.set([long])
        measure(
            f"{label}: redline (selector)", lambda: revision_compare(old=base, new=draft).summary
        )
        print(f"{'':<44} next steps in draft: {items}, edited: {len(steps)}")
        draft.delete()

    cycle("1x (2021)", 2021)
    synthetic = build_synthetic(10, actor=editor)
    cycle("10x (synthetic)", synthetic.year)


if __name__ == "__main__":
    main()
