"""`manage.py ils_report`: renders synchronously; bad input exits non-zero
with a message, and writes no file."""

import pytest
from django.db import connections

from followup.management.commands.ils_report import Command
from followup.models import ReportJob
from tests.helpers import pdf_text

# The PDF itself is tested in test_report_pdf.py; here it renders with the fake.
pytestmark = pytest.mark.usefixtures("fake_pdf")


@pytest.fixture(autouse=True)
def _keep_test_connection(monkeypatch):
    """`run_from_argv` closes every database connection when the command ends,
    as a process would on exit; here that would close the test's transaction
    (PostgreSQL), so the closing is left out."""
    monkeypatch.setattr(connections, "close_all", lambda: None)


def _run(*args: str) -> None:
    """As `python manage.py ils_report ARGS` runs it (exit code included)."""
    Command().run_from_argv(["manage.py", "ils_report", *args])


def test_period_report_for_an_organisation_by_name(small_period, tmp_path, capsys):
    output = tmp_path / "bromma.pdf"
    _run(
        "--kind",
        "period",
        "--organisation",
        "Bromma",
        "--period",
        "2030-t1",
        "--output",
        str(output),
    )

    text = pdf_text(output.read_bytes())
    assert "Periodrapport Tertialrapport 1" in text and "Bemanningen räcker inte." in text
    assert "Farsta stadsdelsnämnd" not in text
    assert "bromma.pdf" in capsys.readouterr().out
    assert not list(tmp_path.glob(".*partial"))
    assert ReportJob.objects.count() == 0


def test_annual_and_citywide_reports(small_period, tmp_path):
    _run("--kind", "annual", "--year", "2030", "--output", str(tmp_path / "a.pdf"))
    _run("--kind", "citywide", "--period", "2030-T1", "--output", str(tmp_path / "c.pdf"))
    assert "Årsuppföljning 2030" in pdf_text((tmp_path / "a.pdf").read_bytes())
    assert "Bromma stadsdelsnämnd" in pdf_text((tmp_path / "c.pdf").read_bytes())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kind", "annual", "--year", "1999"], "Det finns ingen uppföljning för 1999"),
        (["--kind", "annual", "--year", "tjugo"], "Ange året med fyra siffror"),
        (["--kind", "citywide", "--period", "2030-T4"], "Ange perioden som år och period"),
        (["--kind", "citywide", "--period", "2031-T1"], "Det finns ingen rapportperiod 2031-T1"),
        (
            ["--kind", "period", "--period", "2030-T1", "--organisation", "Narnia"],
            "Det finns ingen nämnd som heter ”Narnia”",
        ),
        (
            ["--kind", "period", "--period", "2030-T1", "--organisation", "Socialnämnden"],
            "Socialnämnden har inga rapporter i",
        ),
    ],
)
def test_bad_input_exits_non_zero_with_a_message(small_period, tmp_path, capsys, args, message):
    output = tmp_path / "x.pdf"
    with pytest.raises(SystemExit) as exit_info:
        _run(*args, "--output", str(output))
    assert exit_info.value.code != 0
    assert message in capsys.readouterr().err
    assert not output.exists()
