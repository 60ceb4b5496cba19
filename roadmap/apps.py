import sqlite3

from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate, pre_migrate
from django.utils.translation import gettext_lazy as _


def sqlite_use_real_variable_limit(sender, connection, **kwargs) -> None:
    """Django 5.2 assumes that an SQLite statement takes at most 999
    parameters (SQLite's compile-time default before 3.32) and splits every
    bulk insert into statements of that size, so the number of queries of a
    bulk insert grows with the number of rows. Use the connection's real
    limit (32766 by default since SQLite 3.32), as Django 6.0 does, so that
    the bulk import of a roadmap costs the same number of queries whatever
    its size, as it does on PostgreSQL."""
    if connection.vendor != "sqlite" or not hasattr(connection.connection, "getlimit"):
        return
    connection.features.max_query_params = connection.connection.getlimit(
        sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER
    )


class RoadmapConfig(AppConfig):
    name = "roadmap"
    verbose_name = _("Roadmap")

    def ready(self) -> None:
        from fardplan.locks import drop_sqlite_triggers

        from . import locks, signals  # noqa: F401  (connects the guards)

        # The database gate: on SQLite the triggers are dropped before the
        # migrations run (a table rebuild fails while other tables' triggers
        # name it) and, like on PostgreSQL, (re)installed after every migrate.
        pre_migrate.connect(
            drop_sqlite_triggers, sender=self, dispatch_uid="fardplan_locks_drop_sqlite"
        )
        post_migrate.connect(locks.install, sender=self, dispatch_uid="roadmap_locks")

        connection_created.connect(
            sqlite_use_real_variable_limit, dispatch_uid="roadmap_sqlite_variable_limit"
        )
