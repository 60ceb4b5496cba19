"""``manage.py restore_db FILE``: replace the database's contents with a
backup made by ``manage.py backup_db`` (pg_restore --clean --if-exists, in one
transaction: on an error nothing is changed). See the README, "Backup and
restore"."""

import subprocess
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils.translation import gettext as _

from ._pg import client_program, postgresql_target


class Command(BaseCommand):
    help = (
        "Replace everything in the PostgreSQL database with the backup FILE made by backup_db "
        "(pg_restore --clean --if-exists, in one transaction)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="A backup file written by backup_db")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)
        parser.add_argument(
            "--noinput",
            "--no-input",
            action="store_false",
            dest="interactive",
            help="Do not ask for confirmation.",
        )

    def handle(self, *args, file: str, database: str, interactive: bool, **options) -> None:
        name, env = postgresql_target(database)
        source = Path(file)
        if not source.is_file():
            raise CommandError(_("There is no backup file %(file)s.") % {"file": source})
        if interactive:
            answer = input(
                _(
                    "This replaces everything in the database %(name)s with %(file)s. "
                    "Type 'yes' to continue: "
                )
                % {"name": name, "file": source}
            )
            if answer != "yes":
                raise CommandError(_("Restore cancelled."))
        # The restore drops tables this process may have open.
        connections[database].close()
        command = [
            client_program("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={name}",
            str(source),
        ]
        result = subprocess.run(command, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            raise CommandError(
                _("pg_restore failed, nothing was changed: %(error)s")
                % {"error": result.stderr.strip()}
            )
        self.stdout.write(
            _("Database %(name)s restored from %(file)s.") % {"name": name, "file": source}
        )
