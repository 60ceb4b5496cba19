"""backup_db and restore_db: a round trip through a backup file gives the same
roadmap export and the same follow-up export, read from another database.

The backup is made of the test database (its data committed: a transactional
test), restored into a fresh database of its own, and both are read by
separate ``manage.py`` processes, as an operator would.
"""

import json
import os
import subprocess
import sys

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from followup.models import StatusReport
from followup.services import ReportInput, status_report_save

BASE = settings.BASE_DIR

# Both exports from one process (a Django process costs seconds here): the
# roadmap export as `manage.py export_roadmap --revision 2021 --format json`
# writes it, then a separator, then the follow-up CSV export of 2022-T1 as an
# editor downloads it.
SEPARATOR = "\n=== follow-up ===\n"
EXPORTS = f"""
import sys
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import RequestFactory
from followup.models import ReportingPeriod
from followup.views_overview import period_export_csv_view
call_command("export_roadmap", revision=2021, format="json", stdout=sys.stdout)
sys.stdout.write({SEPARATOR!r})
period = ReportingPeriod.objects.get(year=2022, kind="T1")
request = RequestFactory().get("/")
request.user = get_user_model().objects.get(username="alice")
response = period_export_csv_view(request, pk=period.pk)
assert response.status_code == 200, response.status_code
sys.stdout.write(response.content.decode("utf-8"))
"""


def _url(name: str) -> str:
    db = connection.settings_dict
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{name}"


def _manage(database_url: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=check,
    )


def _exports(database_url: str) -> tuple[str, str]:
    output = _manage(database_url, "shell", "--no-imports", "-c", EXPORTS).stdout
    roadmap, followup = output.split(SEPARATOR)
    return roadmap, followup


def _admin(sql: str) -> None:
    db = connection.settings_dict
    with psycopg.connect(
        host=db.get("HOST") or "127.0.0.1",
        port=db.get("PORT") or 5432,
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        dbname="postgres",
        autocommit=True,
    ) as admin:
        admin.execute(sql)


def _drop(name: str) -> None:
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_backup_and_restore_give_identical_exports(open_period, bromma_reporter, tmp_path):
    report = StatusReport.objects.filter(
        period=open_period, organisation__code="bromma", next_step__isnull=False
    ).first()
    status_report_save(
        report=report,
        data=ReportInput(status=_status("forsenad"), comment="Å, ä, ö."),
        actor=bromma_reporter,
        submit=True,
    )
    source = _url(connection.settings_dict["NAME"])
    restored_name = f"{connection.settings_dict['NAME']}_restore"
    restored = _url(restored_name)
    backup = tmp_path / "fardplan.dump"

    before = _exports(source)
    assert json.loads(before[0])  # the 2021 roadmap
    assert "Å, ä, ö." in before[1] and "bromma" in before[1].lower()

    _manage(source, "backup_db", str(backup))
    assert backup.read_bytes().startswith(b"PGDMP")
    assert not list(tmp_path.glob(".*partial"))
    _drop(restored_name)
    _admin(f'CREATE DATABASE "{restored_name}"')
    try:
        _manage(restored, "restore_db", str(backup), "--noinput")
        assert _exports(restored) == before
        # Again, over the restored data (--clean): still the same.
        _manage(restored, "restore_db", str(backup), "--noinput")
        assert _exports(restored) == before
    finally:
        _drop(restored_name)


def _status(code: str):
    from followup.models import Status

    return Status.objects.get(code=code)


def test_backup_on_sqlite_says_to_copy_the_file(tmp_path):
    database = tmp_path / "fardplan.sqlite3"
    result = _manage(f"sqlite:///{database}", "backup_db", str(tmp_path / "b.dump"), check=False)
    assert result.returncode != 0
    assert "kopiera databasfilen" in result.stderr and str(database) in result.stderr
    assert not (tmp_path / "b.dump").exists()
    result = _manage(f"sqlite:///{database}", "restore_db", "nothing.dump", check=False)
    assert result.returncode != 0 and "kopiera databasfilen" in result.stderr
