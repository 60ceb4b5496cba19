"""Render an ILS follow-up report to a PDF file, synchronously.

    python manage.py ils_report --kind annual --year 2022 --output arsuppfoljning-2022.pdf
    python manage.py ils_report --kind period --organisation Bromma --period 2022-T1 --output b.pdf
    python manage.py ils_report --kind citywide --period 2022-VB --output stad.pdf

It checks its input and builds and renders the report with the same functions
as the Celery task (followup.services.report_job_run); it stores no job.
"""

import time
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from followup.models import ReportJob
from followup.reports.data import report_data_build
from followup.reports.params import report_request_clean
from followup.reports.render import report_pdf_render


class Command(BaseCommand):
    help = "Render an ILS follow-up report (annual, period or citywide) to a PDF file."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--kind", required=True, choices=ReportJob.Kind.values)
        parser.add_argument("--year", help="annual: the year followed up, e.g. 2022")
        parser.add_argument("--period", help="period, citywide: e.g. 2022-T1 (T1, T2 or VB)")
        parser.add_argument(
            "--organisation", help="period: the organisation's code, name or short name"
        )
        parser.add_argument("--output", required=True, help="the PDF file to write")

    def handle(self, *args, **options) -> None:
        try:
            request = report_request_clean(
                kind=options["kind"],
                year=options["year"],
                period=options["period"],
                organisation=options["organisation"],
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        output = Path(options["output"])
        if not output.parent.is_dir():
            raise CommandError(f"The folder {output.parent} does not exist.")
        start = time.perf_counter()
        rendered = report_pdf_render(report_data_build(request), generated_at=timezone.now())
        # Written whole, then moved into place: no half-written file at OUTPUT.
        partial = output.with_name(f".{output.name}.partial")
        partial.write_bytes(rendered.pdf)
        partial.replace(output)
        self.stdout.write(
            f"{request.title}: {output} ({rendered.pages} pages, "
            f"{len(rendered.pdf) // 1024} KB, {time.perf_counter() - start:.1f} s)"
        )
