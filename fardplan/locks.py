"""The database gate for locked data: shared machinery.

Approved revisions and closed periods never change, by any path. The rule's
home is the database: triggers, on PostgreSQL and on SQLite, refuse the write
(``roadmap/locks.py`` and ``followup/locks.py`` define them). This module has
what both apps share:

* ``install_triggers``: installs an app's triggers idempotently. It runs from a
  ``post_migrate`` handler, after every ``migrate`` (and every ``flush``):
  on SQLite, Django's AlterField/AddField rebuild a table and so drop its
  triggers, and other migrations alter these tables. (On SQLite they are also
  dropped before the migrations run, by ``drop_sqlite_triggers``.) Each trigger is dropped
  (if it exists) and created again, in one transaction, so the installed
  definition is always the current one (on PostgreSQL the functions are
  ``CREATE OR REPLACE``d).

* ``locks_lifted``: the one sanctioned way round a trigger, for a service that
  may write locked rows (reopening a report of a closed period). It lifts a
  named lock for the rest of a transaction block, and only there:

  - PostgreSQL: ``set_config('fardplan.<name>', 'on', true)``, the function
    form of ``SET LOCAL``, which the trigger reads with
    ``current_setting('fardplan.<name>', true)``. It is reset to '' when the
    block ends normally; when the block fails, rolling back its savepoint
    restores the setting too.
  - SQLite has no session variables. A one-column control table,
    ``fardplan_lock_lifted``, holds the name of each lifted lock; the triggers
    check it. The row is inserted inside the block's transaction (or
    savepoint) and deleted at its end, or rolled back with it. SQLite has a
    single writer and other connections never see uncommitted rows, so no
    other connection ever sees the lock lifted.

  The lock name ``all`` (``ALL``) lifts every lock. The ``flush`` management
  command (``roadmap/management/commands/flush.py``) uses it, for SQLite,
  where a flush is ``DELETE FROM`` every table (the teardown of transactional
  tests); on PostgreSQL a flush is ``TRUNCATE``, which fires no row trigger.
  A data migration that must write locked rows would use it too.

* ``lock_error``: a trigger's refusal is a database error whose message
  carries a marker (``fardplan:locked-revision``, ``fardplan:closed-period``).
  Each app registers its marker with the readable domain error it stands for
  (``RevisionLockedError``, ``PeriodClosedError``); ``lock_error(exc)`` gives
  that error, so that a refusal reaches the user in Swedish, never as a 500.
"""

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.db import DatabaseError, connections, transaction

CONTROL_TABLE = "fardplan_lock_lifted"
ALL = "all"

# marker in the trigger's message -> factory of the readable error
_MARKERS: dict[str, Callable[[], ValidationError]] = {}


def register_marker(marker: str, error: Callable[[], ValidationError]) -> None:
    _MARKERS[marker] = error


def lock_error(exc: BaseException) -> ValidationError | None:
    """The readable domain error for a trigger's refusal, or None if ``exc``
    is something else."""
    if not isinstance(exc, DatabaseError):
        return None
    text = str(exc)
    for marker, error in _MARKERS.items():
        if marker in text:
            return error()
    return None


@contextmanager
def lock_errors_readable() -> Iterator[None]:
    """Raise a trigger's refusal inside the block as its domain error."""
    try:
        yield
    except DatabaseError as exc:
        error = lock_error(exc)
        if error is None:
            raise
        raise error from exc


def sqlite_lifted(*names: str) -> str:
    """SQL (for a SQLite trigger's WHEN clause): true while one of the named
    locks, or all of them (``flush``), is lifted."""
    quoted = ", ".join(f"'{name}'" for name in (*names, ALL))
    return f"EXISTS (SELECT 1 FROM {CONTROL_TABLE} WHERE name IN ({quoted}))"


def postgres_lifted(name: str) -> str:
    """SQL (for a PL/pgSQL trigger function): true while the named lock is lifted."""
    return f"coalesce(current_setting('fardplan.{name}', true), '') = 'on'"


@contextmanager
def locks_lifted(name: str, *, using: str = "default") -> Iterator[None]:
    """Lift the lock ``name`` for the writes inside the block, and only there.

    Only a service may use this, for a write its rules allow although the row
    is locked (see the module docstring)."""
    connection = connections[using]
    with transaction.atomic(using=using), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT set_config(%s, 'on', true)", [f"fardplan.{name}"])
        else:
            cursor.execute(f"INSERT INTO {CONTROL_TABLE} (name) VALUES (%s)", [name])  # noqa: S608
        yield
        if connection.vendor == "postgresql":
            cursor.execute("SELECT set_config(%s, '', true)", [f"fardplan.{name}"])
        else:
            cursor.execute(f"DELETE FROM {CONTROL_TABLE} WHERE name = %s", [name])  # noqa: S608


def ensure_control_table(connection) -> None:
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {CONTROL_TABLE} (name TEXT PRIMARY KEY NOT NULL)"
            )


def drop_sqlite_triggers(sender=None, *, using: str = "default", **kwargs) -> None:
    """pre_migrate, on SQLite: drop every lock trigger before the migrations run.

    A trigger's body names other tables (a content row's trigger reads
    ``roadmap_revision``); when a migration rebuilds such a table (create a
    copy, drop the original, rename the copy), SQLite refuses the rename
    ("error in trigger ...: no such table"). The ``post_migrate`` handlers
    install every trigger again at the end. On PostgreSQL the migrations alter
    tables in place and PL/pgSQL bodies are bound late, so the triggers stay
    (a data migration that must write locked rows lifts ``ALL`` with
    ``locks_lifted``)."""
    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'fardplan_lock_%'"
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP TRIGGER IF EXISTS "{name}"')


def install_triggers(
    connection,
    *,
    tables: Sequence[str],
    sqlite: Callable[[], Sequence[tuple[str, str]]],
    postgresql: Callable[[], Sequence[str]],
) -> None:
    """(Re)install an app's triggers on ``connection``, if its ``tables`` exist.

    ``sqlite()`` gives (trigger name, CREATE TRIGGER statement) pairs;
    ``postgresql()`` gives statements (functions and triggers) that may run
    again and again (CREATE OR REPLACE FUNCTION, DROP TRIGGER IF EXISTS +
    CREATE TRIGGER)."""
    existing = set(connection.introspection.table_names())
    if not set(tables) <= existing:
        return  # migrated backwards, or not yet forwards: nothing to guard
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            ensure_control_table(connection)
            for name, statement in sqlite():
                cursor.execute(f'DROP TRIGGER IF EXISTS "{name}"')
                cursor.execute(statement)
        elif connection.vendor == "postgresql":
            for statement in postgresql():
                cursor.execute(statement)


def pg_raise(marker: str) -> str:
    """The PL/pgSQL statement that refuses a write with the given marker."""
    return (
        f"RAISE EXCEPTION USING MESSAGE = '{marker}', ERRCODE = 'integrity_constraint_violation';"
    )


def pg_trigger(table: str, body: str) -> list[str]:
    """A row trigger on ``table`` (before INSERT, UPDATE and DELETE) that runs
    ``body`` and otherwise lets the write through; (re)created idempotently."""
    function = f"fardplan_lock_{table}"
    return [
        f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"BEGIN\n{body}\n"
        "IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;\nRETURN NEW;\nEND;\n$$",
        f'DROP TRIGGER IF EXISTS "{function}" ON "{table}"',
        f'CREATE TRIGGER "{function}" BEFORE INSERT OR UPDATE OR DELETE ON "{table}" '
        f"FOR EACH ROW EXECUTE FUNCTION {function}()",
    ]
