"""The database gate of the roadmap: approved and superseded revisions never change.

Triggers, on PostgreSQL and on SQLite, refuse every INSERT, UPDATE and DELETE of

* the content rows (focus areas, needs, national initiatives, city actions,
  next steps) of an approved or superseded revision, checked by the row's
  ``revision_id`` and by its parent's, before and after the change;
* their link rows (a next step's horizons and responsible organisations, a
  city action's responsible organisations);
* the approved or superseded revision row itself, except the one move its
  life allows: approved → superseded (with its ``updated_at`` and
  ``version``). Approving (in review → approved) changes an unlocked row.

The history tables are separate tables and stay writable. A refusal is an
``IntegrityError`` whose message has ``fardplan:locked-revision``;
``fardplan.locks.lock_error`` turns it into ``RevisionLockedError``.

The triggers are installed after every ``migrate`` by ``install`` (a
``post_migrate`` handler, see ``RoadmapConfig.ready``); see ``fardplan/locks.py``
for why.
"""

from django.db import connections

from fardplan.locks import (
    ALL,
    install_triggers,
    pg_raise,
    pg_trigger,
    postgres_lifted,
    register_marker,
    sqlite_lifted,
)

from .models import (
    LOCKED_STATUSES,
    CityAction,
    FocusArea,
    NationalInitiative,
    Need,
    NextStep,
    Revision,
    RevisionLockedError,
)

MARKER = "fardplan:locked-revision"
register_marker(MARKER, RevisionLockedError)

REVISION = Revision._meta.db_table
LOCKED = "(" + ", ".join(f"'{s}'" for s in LOCKED_STATUSES) + ")"
# The parent whose revision a content row also hangs under.
PARENTS = {
    FocusArea: None,
    Need: FocusArea,
    NationalInitiative: Need,
    CityAction: Need,
    NextStep: Need,
}
LINKS = [
    (NextStep.horizons.through, NextStep),
    (NextStep.responsible_organisations.through, NextStep),
    (CityAction.responsible_organisations.through, CityAction),
]


def _revision_locked(revision_id: str) -> str:
    return f"EXISTS (SELECT 1 FROM {REVISION} WHERE id = {revision_id} AND status IN {LOCKED})"


def _item_locked(model, item_id: str) -> str:
    table = model._meta.db_table
    return (
        f"EXISTS (SELECT 1 FROM {table} AS item JOIN {REVISION} AS rev "
        f"ON rev.id = item.revision_id WHERE item.id = {item_id} AND rev.status IN {LOCKED})"
    )


def _content_locked(model, row: str) -> str:
    checks = [_revision_locked(f"{row}.revision_id")]
    parent = PARENTS[model]
    if parent is not None:
        fk = next(f for f in model._meta.fields if f.related_model is parent)
        checks.append(_item_locked(parent, f"{row}.{fk.column}"))
    return "(" + " OR ".join(checks) + ")"


def _link_locked(through, item_model, row: str) -> str:
    fk = next(f for f in through._meta.fields if f.related_model is item_model)
    return _item_locked(item_model, f"{row}.{fk.column}")


def guarded_rows():
    """(table, expression that is true when the row named by its argument is locked)."""
    for model in PARENTS:
        yield model._meta.db_table, (lambda row, m=model: _content_locked(m, row))
    for through, item_model in LINKS:
        yield (
            through._meta.db_table,
            (lambda row, t=through, m=item_model: _link_locked(t, m, row)),
        )


def _revision_columns() -> list[str]:
    exempt = {"status", "updated_at", "version"}
    return [f.column for f in Revision._meta.concrete_fields if f.attname not in exempt]


_REVISION_MOVE_ALLOWED = (
    "(NEW.status = OLD.status OR (OLD.status = 'approved' AND NEW.status = 'superseded'))"
)


def trigger_names(vendor: str) -> set[tuple[str, str]]:
    """(table, trigger name) of every trigger this module installs."""
    tables = [table for table, _ in guarded_rows()]
    if vendor == "sqlite":
        return {
            (table, f"fardplan_lock_{table}_{op}")
            for table in tables
            for op in ("insert", "update", "delete")
        } | {(REVISION, f"fardplan_lock_{REVISION}_{op}") for op in ("update", "delete")}
    return {(table, f"fardplan_lock_{table}") for table in [*tables, REVISION]}


def _raise_sqlite() -> str:
    return f"BEGIN SELECT RAISE(ABORT, '{MARKER}'); END"


def sqlite_statements() -> list[tuple[str, str]]:
    statements = []
    unlocked = f"NOT {sqlite_lifted()}"
    for table, locked in guarded_rows():
        conditions = {
            "insert": locked("NEW"),
            "update": f"({locked('OLD')} OR {locked('NEW')})",
            "delete": locked("OLD"),
        }
        for op, condition in conditions.items():
            name = f"fardplan_lock_{table}_{op}"
            statements.append(
                (
                    name,
                    f'CREATE TRIGGER "{name}" BEFORE {op.upper()} ON "{table}" FOR EACH ROW '
                    f"WHEN {unlocked} AND {condition} {_raise_sqlite()}",
                )
            )
    changed = " OR ".join(f'OLD."{c}" IS NOT NEW."{c}"' for c in _revision_columns())
    name = f"fardplan_lock_{REVISION}_update"
    statements.append(
        (
            name,
            f'CREATE TRIGGER "{name}" BEFORE UPDATE ON "{REVISION}" FOR EACH ROW '
            f"WHEN {unlocked} AND OLD.status IN {LOCKED} "
            f"AND (NOT {_REVISION_MOVE_ALLOWED} OR {changed}) {_raise_sqlite()}",
        )
    )
    name = f"fardplan_lock_{REVISION}_delete"
    statements.append(
        (
            name,
            f'CREATE TRIGGER "{name}" BEFORE DELETE ON "{REVISION}" FOR EACH ROW '
            f"WHEN {unlocked} AND OLD.status IN {LOCKED} {_raise_sqlite()}",
        )
    )
    return statements


_RAISE_PG = pg_raise(MARKER)


def postgresql_statements() -> list[str]:
    statements = []
    lifted = postgres_lifted(ALL)
    for table, locked in guarded_rows():
        body = (
            f"IF {lifted} THEN RETURN COALESCE(NEW, OLD); END IF;\n"
            f"IF TG_OP <> 'INSERT' THEN IF {locked('OLD')} THEN {_RAISE_PG} END IF; END IF;\n"
            f"IF TG_OP <> 'DELETE' THEN IF {locked('NEW')} THEN {_RAISE_PG} END IF; END IF;"
        )
        statements += pg_trigger(table, body)
    exempt = "ARRAY['status', 'updated_at', 'version']"
    body = (
        f"IF {lifted} OR TG_OP = 'INSERT' THEN RETURN COALESCE(NEW, OLD); END IF;\n"
        f"IF OLD.status NOT IN {LOCKED} THEN RETURN COALESCE(NEW, OLD); END IF;\n"
        f"IF TG_OP = 'DELETE' THEN {_RAISE_PG} END IF;\n"
        f"IF NOT {_REVISION_MOVE_ALLOWED} OR "
        f"(to_jsonb(OLD) - {exempt}) IS DISTINCT FROM (to_jsonb(NEW) - {exempt}) "
        f"THEN {_RAISE_PG} END IF;"
    )
    statements += pg_trigger(REVISION, body)
    return statements


def install(sender=None, *, using: str = "default", **kwargs) -> None:
    """post_migrate: (re)install the roadmap's triggers."""
    install_triggers(
        connections[using],
        tables=[REVISION, *(table for table, _ in guarded_rows())],
        sqlite=sqlite_statements,
        postgresql=postgresql_statements,
    )
