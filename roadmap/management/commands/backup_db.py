"""``manage.py backup_db FILE``: the whole database in one file (pg_dump's
custom format), to restore with ``manage.py restore_db FILE``. See the README,
"Backup and restore"."""

import subprocess
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS
from django.utils.translation import gettext as _

from ._pg import client_program, postgresql_target


class Command(BaseCommand):
    help = "Write the whole PostgreSQL database to FILE (pg_dump -Fc); restore it with restore_db."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="The backup file to write")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, file: str, database: str, **options) -> None:
        name, env = postgresql_target(database)
        target = Path(file)
        # Written beside the target and renamed: a failed dump never leaves a
        # half-written file under the backup's name.
        partial = target.with_name(f".{target.name}.partial")
        command = [
            client_program("pg_dump"),
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            f"--file={partial}",
            name,
        ]
        result = subprocess.run(command, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            partial.unlink(missing_ok=True)
            raise CommandError(_("pg_dump failed: %(error)s") % {"error": result.stderr.strip()})
        partial.replace(target)
        self.stdout.write(
            _("Database %(name)s written to %(file)s (%(size)s bytes).")
            % {"name": name, "file": target, "size": target.stat().st_size}
        )
