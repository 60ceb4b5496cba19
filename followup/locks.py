"""The database gate of the follow-up: closed periods never change.

Triggers, on PostgreSQL and on SQLite, refuse

* any UPDATE or DELETE of a closed period's row (closing it, open → closed,
  changes an open row and stays allowed), and any move of a period's state
  other than planned → open → closed;
* any INSERT, UPDATE or DELETE of a status report of a closed period, except

  - inside ``status_report_reopen``, which lifts the ``reopening`` lock for
    its transaction block (``fardplan.locks.locks_lifted``: ``SET LOCAL
    fardplan.reopening = 'on'`` on PostgreSQL, a row in a control table on
    SQLite), and
  - on a report an editor has reopened (``reopened`` is true in the row as
    stored), which its reporter may save until the submission that locks it
    again (it clears ``reopened``).

A refusal is an ``IntegrityError`` whose message has ``fardplan:closed-period``
(or ``fardplan:period-state``); ``fardplan.locks.lock_error`` turns it into
``PeriodClosedError`` (or a readable ``ValidationError``). The history tables
stay writable. Installed after every ``migrate`` by ``install`` (a
``post_migrate`` handler, see ``FollowupConfig.ready``).
"""

from django.core.exceptions import ValidationError
from django.db import connections
from django.utils.translation import gettext_lazy as _

from fardplan.locks import (
    ALL,
    install_triggers,
    pg_raise,
    pg_trigger,
    postgres_lifted,
    register_marker,
    sqlite_lifted,
)

from .models import PeriodClosedError, ReportingPeriod, StatusReport

CLOSED_MARKER = "fardplan:closed-period"
STATE_MARKER = "fardplan:period-state"
REOPENING = "reopening"


def _state_error() -> ValidationError:
    return ValidationError(
        _("A period's state changes only by opening and then closing it."),
        code="invalid_state",
    )


register_marker(CLOSED_MARKER, PeriodClosedError)
register_marker(STATE_MARKER, _state_error)

PERIOD = ReportingPeriod._meta.db_table
REPORT = StatusReport._meta.db_table
# planned → open → closed; nothing else, and never back.
_MOVE_ALLOWED = (
    "(NEW.state = OLD.state OR (OLD.state = 'planned' AND NEW.state = 'open') "
    "OR (OLD.state = 'open' AND NEW.state = 'closed'))"
)


def _closed(period_id: str) -> str:
    return f"EXISTS (SELECT 1 FROM {PERIOD} WHERE id = {period_id} AND state = 'closed')"


# When a report row is locked, per operation.
_REPORT_LOCKED = {
    "insert": _closed("NEW.period_id"),
    "update": (
        f"(({_closed('OLD.period_id')} AND NOT OLD.reopened) "
        f"OR (NEW.period_id <> OLD.period_id AND {_closed('NEW.period_id')}))"
    ),
    "delete": _closed("OLD.period_id"),
}


def trigger_names(vendor: str) -> set[tuple[str, str]]:
    """(table, trigger name) of every trigger this module installs."""
    if vendor == "sqlite":
        return {
            (PERIOD, f"fardplan_lock_{PERIOD}_update_closed"),
            (PERIOD, f"fardplan_lock_{PERIOD}_update_state"),
            (PERIOD, f"fardplan_lock_{PERIOD}_delete"),
        } | {(REPORT, f"fardplan_lock_{REPORT}_{op}") for op in _REPORT_LOCKED}
    return {(PERIOD, f"fardplan_lock_{PERIOD}"), (REPORT, f"fardplan_lock_{REPORT}")}


def _sqlite(table: str, event: str, name: str, when: str, marker: str) -> tuple[str, str]:
    return (
        name,
        f'CREATE TRIGGER "{name}" BEFORE {event} ON "{table}" FOR EACH ROW '
        f"WHEN {when} BEGIN SELECT RAISE(ABORT, '{marker}'); END",
    )


def sqlite_statements() -> list[tuple[str, str]]:
    unlocked = f"NOT {sqlite_lifted()}"
    statements = [
        _sqlite(
            PERIOD,
            "UPDATE",
            f"fardplan_lock_{PERIOD}_update_closed",
            f"{unlocked} AND OLD.state = 'closed'",
            CLOSED_MARKER,
        ),
        _sqlite(
            PERIOD,
            "UPDATE",
            f"fardplan_lock_{PERIOD}_update_state",
            # A closed row is the other trigger's: one refusal, one message.
            f"{unlocked} AND OLD.state <> 'closed' AND NOT {_MOVE_ALLOWED}",
            STATE_MARKER,
        ),
        _sqlite(
            PERIOD,
            "DELETE",
            f"fardplan_lock_{PERIOD}_delete",
            f"{unlocked} AND OLD.state = 'closed'",
            CLOSED_MARKER,
        ),
    ]
    reopening = f"NOT {sqlite_lifted(REOPENING)}"
    for op, locked in _REPORT_LOCKED.items():
        statements.append(
            _sqlite(
                REPORT,
                op.upper(),
                f"fardplan_lock_{REPORT}_{op}",
                f"{reopening} AND {locked}",
                CLOSED_MARKER,
            )
        )
    return statements


def postgresql_statements() -> list[str]:
    flush = postgres_lifted(ALL)
    period_body = (
        f"IF {flush} OR TG_OP = 'INSERT' THEN RETURN COALESCE(NEW, OLD); END IF;\n"
        f"IF OLD.state = 'closed' THEN {pg_raise(CLOSED_MARKER)} END IF;\n"
        f"IF TG_OP = 'UPDATE' THEN IF NOT {_MOVE_ALLOWED} THEN {pg_raise(STATE_MARKER)} "
        "END IF; END IF;"
    )
    lifted = f"{flush} OR {postgres_lifted(REOPENING)}"
    report_body = (
        f"IF {lifted} THEN RETURN COALESCE(NEW, OLD); END IF;\n"
        f"IF TG_OP = 'INSERT' THEN IF {_REPORT_LOCKED['insert']} THEN "
        f"{pg_raise(CLOSED_MARKER)} END IF; END IF;\n"
        f"IF TG_OP = 'UPDATE' THEN IF {_REPORT_LOCKED['update']} THEN "
        f"{pg_raise(CLOSED_MARKER)} END IF; END IF;\n"
        f"IF TG_OP = 'DELETE' THEN IF {_REPORT_LOCKED['delete']} THEN "
        f"{pg_raise(CLOSED_MARKER)} END IF; END IF;"
    )
    return pg_trigger(PERIOD, period_body) + pg_trigger(REPORT, report_body)


def install(sender=None, *, using: str = "default", **kwargs) -> None:
    """post_migrate: (re)install the follow-up's triggers."""
    install_triggers(
        connections[using],
        tables=[PERIOD, REPORT],
        sqlite=sqlite_statements,
        postgresql=postgresql_statements,
    )
