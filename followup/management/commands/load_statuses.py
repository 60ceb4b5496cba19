from django.core.management.base import BaseCommand

from roadmap.reference import reference_load_missing


class Command(BaseCommand):
    help = "Load the default status words (fixtures/statuses.json) that are missing."

    def handle(self, *args, **options) -> None:
        created = reference_load_missing("statuses")
        self.stdout.write(f"{created} statuses created.")
