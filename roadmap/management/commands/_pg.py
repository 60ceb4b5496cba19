"""What backup_db and restore_db share: the PostgreSQL client programs and how
to reach the database of ``DATABASE_URL`` with them."""

import os
import shutil

from django.core.management.base import CommandError
from django.db import connections
from django.utils.translation import gettext as _


def postgresql_target(database: str) -> tuple[str, dict[str, str]]:
    """The database's name and the environment for pg_dump/pg_restore (the
    password goes in PGPASSWORD, never on the command line). A clear error on
    anything but PostgreSQL."""
    connection = connections[database]
    if connection.vendor != "postgresql":
        name = connection.settings_dict.get("NAME")
        raise CommandError(
            _(
                "backup_db and restore_db work on PostgreSQL. This database is %(vendor)s: "
                "stop the app and copy the database file (%(name)s) instead."
            )
            % {"vendor": connection.vendor, "name": name}
        )
    db = connection.settings_dict
    env = {**os.environ}
    for variable, key in (
        ("PGHOST", "HOST"),
        ("PGPORT", "PORT"),
        ("PGUSER", "USER"),
        ("PGPASSWORD", "PASSWORD"),
    ):
        env.pop(variable, None)
        if db.get(key):
            env[variable] = str(db[key])
    return db["NAME"], env


def client_program(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise CommandError(
            _("%(program)s was not found: install the PostgreSQL client programs.")
            % {"program": name}
        )
    return path
