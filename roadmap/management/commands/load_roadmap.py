from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from roadmap.models import Revision
from roadmap.reference import reference_load_missing
from roadmap.services import roadmap_import_file

DEFAULT_PATH = Path(settings.BASE_DIR) / "fixtures" / "roadmap_2021.yaml"
REFERENCE_FIXTURES = ("time_horizons", "organisations")


class Command(BaseCommand):
    help = (
        "Load the reference data (time horizons, organisations) and a roadmap "
        "document (default: the adopted 2021 roadmap). Safe to run again."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", nargs="?", default=str(DEFAULT_PATH))

    def handle(self, *args, path: str, **options) -> None:
        reference_load_missing(*REFERENCE_FIXTURES)
        import yaml

        source = Path(path)
        if not source.exists():
            raise CommandError(f"Filen finns inte: {source}")
        try:
            with source.open(encoding="utf-8") as fh:
                year = int(yaml.safe_load(fh)["revision"]["year"])
        except (yaml.YAMLError, LookupError, TypeError, ValueError):
            year = None  # The import below says what is wrong with the file.
        if year is not None and Revision.objects.filter(year=year).exists():
            self.stdout.write(f"Revision {year} is already loaded; nothing to do.")
            return
        try:
            revision = roadmap_import_file(path=source)
        except ValidationError as exc:
            # One line per problem: the import names the row of each.
            raise CommandError("\n".join(exc.messages)) from exc
        self.stdout.write(self.style.SUCCESS(f"Loaded {revision}."))
