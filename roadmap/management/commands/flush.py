"""Django's ``flush``, with the database gate lifted while it empties the tables.

On SQLite a flush is ``DELETE FROM`` every table, which the lock triggers
(each app's ``locks.py``) would refuse for approved revisions and closed
periods; the tests of transactional databases end with a
flush. Emptying the whole database is not a change to a locked row, so the
``all`` lock (which lifts every lock, see ``fardplan/locks.py``) is lifted
for the duration. On PostgreSQL a flush is ``TRUNCATE``, which fires no row
trigger; lifting the lock there changes nothing.
"""

from django.core.management.commands.flush import Command as FlushCommand
from django.db import DEFAULT_DB_ALIAS, connections

from fardplan.locks import ALL, ensure_control_table, locks_lifted


class Command(FlushCommand):
    def handle(self, **options):
        using = options.get("database") or DEFAULT_DB_ALIAS
        ensure_control_table(connections[using])
        with locks_lifted(ALL, using=using):
            return super().handle(**options)
