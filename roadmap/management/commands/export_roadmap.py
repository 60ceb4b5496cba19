import io
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from fardplan.exports import csv_writer
from roadmap.models import Revision
from roadmap.selectors import EXPORT_CSV_COLUMNS, revision_export_data, revision_export_rows


class Command(BaseCommand):
    help = "Export one revision with every item, its horizons and responsible organisations."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--revision", type=int, required=True, help="Revision year, e.g. 2021")
        parser.add_argument("--format", choices=["json", "csv"], default="json")
        parser.add_argument("--output", help="File to write (default: standard output)")

    def handle(self, *args, revision: int, format: str, output: str | None, **options) -> None:
        try:
            rev = Revision.objects.select_related("decision_body").get(year=revision)
        except Revision.DoesNotExist:
            raise CommandError(f"Det finns ingen revidering för år {revision}.") from None
        buffer = io.StringIO()
        if format == "json":
            json.dump(revision_export_data(revision=rev), buffer, ensure_ascii=False, indent=2)
            buffer.write("\n")
        else:
            writer = csv_writer(buffer, EXPORT_CSV_COLUMNS)
            writer.writeheader()
            writer.writerows(revision_export_rows(revision=rev))
        if output in (None, "-"):
            self.stdout.write(buffer.getvalue(), ending="")
        else:
            Path(output).write_text(buffer.getvalue(), encoding="utf-8", newline="")
