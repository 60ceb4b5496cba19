"""The database gate of the roadmap (roadmap/locks.py): approved and superseded
revisions never change, whatever path the write takes, down to raw SQL.

Run on SQLite and on PostgreSQL: the triggers are written for each.
"""

import datetime
from io import StringIO

import pytest
from django.contrib.messages import constants as message_levels
from django.core.management import call_command
from django.core.management.sql import emit_post_migrate_signal, emit_pre_migrate_signal
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext

from fardplan.locks import lock_error
from roadmap import locks
from roadmap.models import (
    CityAction,
    FocusArea,
    NationalInitiative,
    Need,
    NextStep,
    Organisation,
    Revision,
    RevisionEvent,
    RevisionLockedError,
    TimeHorizon,
)
from roadmap.services import revision_approve, revision_return, revision_submit
from tests.factories import NextStepFactory
from tests.helpers import (
    change_form_data,
    history_form_data,
    installed_triggers,
    parse_html,
    refused_sql,
)

CONTENT = [FocusArea, Need, NationalInitiative, CityAction, NextStep]
CONTENT_IDS = [m.__name__ for m in CONTENT]
TEXT = {FocusArea: "title", Need: "title", NationalInitiative: "text", CityAction: "text"}
TEXT[NextStep] = "text"
LINKS = [
    NextStep.horizons.through,
    NextStep.responsible_organisations.through,
    CityAction.responsible_organisations.through,
]
LINK_IDS = [t._meta.db_table for t in LINKS]
MISSING_VERSION = (
    "The form was sent without the version of the item you opened, so someone else may "
    "have changed it in the meantime. Your changes were not saved. Reload the page and "
    "make your change again."
)
SAVE_BUTTONS = {"_save", "_continue", "_addanother", "_saveasnew"}


def refused(statement, params=()) -> IntegrityError:
    return refused_sql(statement, params, marker="fardplan:locked-revision")


def snapshot(revision: Revision) -> dict:
    """Everything in the revision, link rows included."""
    state = {
        "revision": Revision.objects.filter(pk=revision.pk).values().get(),
    }
    for model in CONTENT:
        state[model] = list(model.objects.filter(revision=revision).order_by("pk").values())
    for through in LINKS:
        state[through] = sorted(through.objects.values_list(flat=False))
    return state


@pytest.fixture
def approved(small_roadmap) -> Revision:
    return small_roadmap


@pytest.fixture
def step(approved) -> NextStep:
    return NextStep.objects.get(revision=approved)


# --- The triggers are there -----------------------------------------------------------


def test_every_trigger_exists_after_migrate(db):
    expected = locks.trigger_names(connection.vendor)
    assert expected <= installed_triggers()
    # Every guarded table, the revision's own row included.
    assert {table for table, _ in expected} == {
        *(m._meta.db_table for m in CONTENT),
        *LINK_IDS,
        Revision._meta.db_table,
    }


def test_a_lost_trigger_comes_back_with_the_next_migrate(db):
    """On SQLite a migration that alters a table rebuilds it without its
    triggers; every migrate ends by installing them again."""
    table, name = sorted(locks.trigger_names(connection.vendor))[0]
    with connection.cursor() as cursor:
        cursor.execute(
            f'DROP TRIGGER "{name}"' + ("" if connection.vendor == "sqlite" else f' ON "{table}"')
        )
    assert (table, name) not in installed_triggers()
    emit_post_migrate_signal(verbosity=0, interactive=False, db=connection.alias)
    assert locks.trigger_names(connection.vendor) <= installed_triggers()
    # Installing twice changes nothing.
    locks.install(using=connection.alias)
    assert locks.trigger_names(connection.vendor) <= installed_triggers()


def test_migrate_keeps_the_triggers_around_the_migrations(db):
    """A migration that rebuilds roadmap_revision on SQLite fails while another
    table's trigger names it; so on SQLite they go before the migrations and
    come back after. PostgreSQL alters tables in place: they stay."""
    from followup import locks as followup_locks

    vendor = connection.vendor
    expected = locks.trigger_names(vendor) | followup_locks.trigger_names(vendor)
    emit_pre_migrate_signal(verbosity=0, interactive=False, db=connection.alias)
    if vendor == "sqlite":
        assert not expected & installed_triggers()
    else:
        assert expected <= installed_triggers()
    emit_post_migrate_signal(verbosity=0, interactive=False, db=connection.alias)
    assert expected <= installed_triggers()


# --- Raw SQL, QuerySet.update(), bulk_create() --------------------------------------


def test_raw_sql_update_of_an_approved_next_step_is_refused(step, approved):
    before = snapshot(approved)
    error = refused(
        "UPDATE roadmap_nextstep SET text = %s WHERE id = %s", ["Ändrat i SQL", step.pk]
    )
    assert isinstance(lock_error(error), RevisionLockedError)
    assert snapshot(approved) == before


@pytest.mark.parametrize("status", ["approved", "superseded"])
@pytest.mark.parametrize("model", CONTENT, ids=CONTENT_IDS)
def test_raw_sql_update_and_delete_of_locked_content_are_refused(approved, model, status):
    if status == "superseded":
        Revision.objects.filter(pk=approved.pk).update(status=status)
    row = model.objects.get(revision=approved)
    table = model._meta.db_table
    before = snapshot(approved)
    refused(f"UPDATE {table} SET position = position + 10 WHERE id = %s", [row.pk])  # noqa: S608
    refused(f"DELETE FROM {table} WHERE id = %s", [row.pk])  # noqa: S608
    assert snapshot(approved) == before


@pytest.mark.parametrize("model", CONTENT, ids=CONTENT_IDS)
def test_queryset_update_of_locked_content_is_refused(approved, model):
    before = snapshot(approved)
    with pytest.raises(IntegrityError, match="fardplan:locked-revision"), transaction.atomic():
        model.objects.filter(revision=approved).update(**{TEXT[model]: "Ändrat med update()"})
    with pytest.raises(IntegrityError, match="fardplan:locked-revision"), transaction.atomic():
        model.objects.filter(revision=approved).update(position=99)
    assert snapshot(approved) == before


@pytest.mark.parametrize("model", CONTENT, ids=CONTENT_IDS)
def test_bulk_create_into_a_locked_revision_is_refused(approved, model):
    template = model.objects.get(revision=approved)
    copy = model.objects.filter(pk=template.pk).values().get()
    copy.pop("id")
    copy.update(position=50, lineage_id=None)
    copy.pop("lineage_id")
    before = snapshot(approved)
    with pytest.raises(IntegrityError, match="fardplan:locked-revision"), transaction.atomic():
        model.objects.bulk_create([model(**copy)])
    assert snapshot(approved) == before


def test_content_cannot_be_moved_into_a_locked_revision(approved, editor):
    """A draft's row moved under an approved revision's need is refused too:
    the trigger checks the parent as well as the row's own revision."""
    draft = Revision.objects.create(year=2040, title="Utkast", status=Revision.Status.DRAFT)
    area = FocusArea.objects.create(revision=draft, position=1, title="Område")
    need = Need.objects.create(focus_area=area, position=1, title="Behov")
    item = NationalInitiative.objects.create(need=need, position=1, text="Nationellt")
    approved_need = Need.objects.get(revision=approved)
    before = snapshot(approved)
    refused(
        "UPDATE roadmap_nationalinitiative SET need_id = %s WHERE id = %s",
        [approved_need.pk, item.pk],
    )
    assert snapshot(approved) == before


@pytest.mark.parametrize("through", LINKS, ids=LINK_IDS)
def test_link_rows_of_locked_content_are_refused(approved, through):
    item_fk = next(f for f in through._meta.fields if f.related_model in (NextStep, CityAction))
    other_fk = next(
        f for f in through._meta.fields if f.related_model in (TimeHorizon, Organisation)
    )
    item = item_fk.related_model.objects.get(revision=approved)
    existing = set(
        through.objects.filter(**{item_fk.name: item}).values_list(other_fk.attname, flat=True)
    )
    new_target = other_fk.related_model.objects.exclude(pk__in=existing).first()
    table = through._meta.db_table
    before = snapshot(approved)
    with pytest.raises(IntegrityError, match="fardplan:locked-revision"), transaction.atomic():
        through.objects.bulk_create(
            [through(**{item_fk.attname: item.pk, other_fk.attname: new_target.pk})]
        )
    with pytest.raises(IntegrityError, match="fardplan:locked-revision"), transaction.atomic():
        through.objects.filter(**{item_fk.name: item}).delete()
    refused(
        f"INSERT INTO {table} ({item_fk.column}, {other_fk.column}) VALUES (%s, %s)",  # noqa: S608
        [item.pk, new_target.pk],
    )
    if existing:
        refused(f"DELETE FROM {table} WHERE {item_fk.column} = %s", [item.pk])  # noqa: S608
        refused(
            f"UPDATE {table} SET {other_fk.column} = %s WHERE {item_fk.column} = %s",  # noqa: S608
            [new_target.pk, item.pk],
        )
    assert snapshot(approved) == before


def test_the_approved_revision_row_is_locked(approved):
    before = snapshot(approved)
    refused("UPDATE roadmap_revision SET title = %s WHERE id = %s", ["Ny titel", approved.pk])
    refused("UPDATE roadmap_revision SET status = 'draft' WHERE id = %s", [approved.pk])
    refused("DELETE FROM roadmap_revision WHERE id = %s", [approved.pk])
    with pytest.raises(IntegrityError, match="fardplan:locked-revision"), transaction.atomic():
        Revision.objects.filter(pk=approved.pk).update(case_number="KS 1999/1")
    assert snapshot(approved) == before
    # The one move its life allows: approved → superseded; and never back.
    Revision.objects.filter(pk=approved.pk).update(status="superseded")
    refused("UPDATE roadmap_revision SET status = 'approved' WHERE id = %s", [approved.pk])


def test_a_draft_stays_writable(draft_2022):
    step = NextStep.objects.filter(revision=draft_2022).first()
    NextStep.objects.filter(pk=step.pk).update(text="Ändrat i utkastet")
    step.horizons.clear()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE roadmap_nextstep SET position = 99 WHERE id = %s", [step.pk])
    step.refresh_from_db()
    assert (step.text, step.position, step.horizons.count()) == ("Ändrat i utkastet", 99, 0)


def test_the_model_guard_says_why_in_swedish(step):
    step.text = "Ändrat"
    with pytest.raises(RevisionLockedError) as excinfo:
        step.save()
    with translation.override("sv"):
        assert "fastställd" in " ".join(excinfo.value.messages)


def test_a_trigger_refusal_in_a_save_is_readable(reference_data, monkeypatch):
    """Should the model's own check miss a lock (the revision is approved in
    the instant after it), the save still ends in RevisionLockedError, not a
    bare database error, and nothing is written."""
    step = NextStepFactory()
    kf = Organisation.objects.get(code="kf")
    bump = NextStep._bump_version

    def approved_meanwhile(self):
        Revision.objects.filter(pk=self.revision_id).update(
            status="approved", case_number="KS 2040/1", decision_body=kf
        )
        bump(self)

    monkeypatch.setattr(NextStep, "_bump_version", approved_meanwhile)
    step.text = "Ändrat"
    with pytest.raises(RevisionLockedError), transaction.atomic():
        step.save()
    step.refresh_from_db()
    assert step.text != "Ändrat"


# --- What legitimately writes still works ---------------------------------------------


def _decision() -> dict:
    return {
        "decision_body": Organisation.objects.get(code="kf"),
        "decision_date": datetime.date(2022, 3, 1),
        "case_number": "KS 2022/1",
    }


def test_approving_a_revision_still_works(draft_2022, editor, approver):
    before_2021 = snapshot(Revision.objects.get(year=2021))
    revision_submit(revision=draft_2022, actor=editor)
    revision_approve(revision=draft_2022, actor=approver, **_decision())
    draft_2022.refresh_from_db()
    old = Revision.objects.get(year=2021)
    assert (draft_2022.status, old.status) == ("approved", "superseded")
    # Superseding changed the revision row's status, and nothing else.
    after_2021 = snapshot(old)
    for key in (k for k in before_2021 if k != "revision"):
        assert after_2021[key] == before_2021[key]


@pytest.mark.django_db(transaction=True)
def test_flush_empties_a_database_with_locked_data(approved):
    """A flush (the end of every transactional test) deletes approved
    content. On SQLite that is DELETE FROM, which the gate lets through only
    for the flush command; on PostgreSQL it is TRUNCATE, which fires no row
    trigger (and which PostgreSQL runs only outside a pending transaction, so
    this test commits, as a transactional test does)."""
    call_command("flush", interactive=False, verbosity=0, stdout=StringIO())
    assert not Revision.objects.exists()
    assert not NextStep.objects.exists()
    # Afterwards the gate is closed again.
    assert locks.trigger_names(connection.vendor) <= installed_triggers()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM fardplan_lock_lifted")
            assert cursor.fetchone()[0] == 0


# --- The admin: history pages are for reading, the version is required ---------------


def _history_url(obj, record) -> str:
    name = f"admin:roadmap_{obj._meta.model_name}_simple_history"
    return reverse(name, args=[obj.pk, record.history_id])


def test_history_revert_is_refused_even_in_a_draft(draft_2022, editor, client_for):
    step = NextStep.objects.filter(revision=draft_2022).order_by("pk").first()
    step.text = "En senare version"
    step.save()
    first = step.history.order_by("history_id").first()
    client = client_for(editor)
    response = client.get(_history_url(step, first))
    assert response.status_code == 200
    names = {attrs.get("name") for _tag, attrs in parse_html(response.content).tags}
    assert not names & SAVE_BUTTONS
    data = history_form_data(response)
    data["text"] = "Återställt via historiken"
    assert client.post(_history_url(step, first), data).status_code == 403
    step.refresh_from_db()
    assert step.text == "En senare version"


def test_approver_cannot_move_a_returned_draft_back_to_review(
    draft_2022, editor, approver, client_for
):
    """The history's in-review version, "reverted", would set the status
    without the lifecycle: no event, and approvers may not submit."""
    revision_submit(revision=draft_2022, actor=editor)
    revision_return(revision=draft_2022, actor=approver, comment="Komplettera.")
    in_review = draft_2022.history.filter(status="in_review").order_by("history_id").first()
    events = RevisionEvent.objects.filter(revision=draft_2022).count()
    client = client_for(approver)
    url = _history_url(draft_2022, in_review)
    response = client.get(url)
    assert response.status_code == 200
    assert client.post(url, history_form_data(response)).status_code == 403
    draft_2022.refresh_from_db()
    assert draft_2022.status == Revision.Status.DRAFT
    assert RevisionEvent.objects.filter(revision=draft_2022).count() == events


def test_lifecycle_fields_are_not_in_the_revision_form(draft_2022, editor, client_for):
    url = reverse("admin:roadmap_revision_change", args=[draft_2022.pk])
    data = change_form_data(client_for(editor).get(url))
    assert "status" not in data
    data["status"] = Revision.Status.APPROVED
    assert client_for(editor).post(url, data).status_code == 302
    draft_2022.refresh_from_db()
    assert draft_2022.status == Revision.Status.DRAFT


def test_a_change_form_without_its_version_is_a_conflict(draft_2022, editor, client_for):
    step = NextStep.objects.filter(revision=draft_2022).order_by("pk").first()
    url = reverse("admin:roadmap_nextstep_change", args=[step.pk])
    client = client_for(editor)
    first = change_form_data(client.get(url))
    second = dict(first)
    first.pop("expected_version")
    first["text"] = "Först sparat"
    second.pop("expected_version")
    second["text"] = "Sparat sedan"
    # The first save without the version is refused too: nobody can tell it
    # from a stale one.
    response = client.post(url, first)
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors()
    with translation.override("sv"):
        message = gettext(MISSING_VERSION)
    assert message.startswith("Formuläret skickades utan uppgift om när posten")
    assert escape(message) in response.content.decode()
    assert client.post(url, second).status_code == 200
    step.refresh_from_db()
    assert step.text not in ("Först sparat", "Sparat sedan")


def test_a_change_form_with_its_version_saves(draft_2022, editor, client_for):
    step = NextStep.objects.filter(revision=draft_2022).order_by("pk").first()
    url = reverse("admin:roadmap_nextstep_change", args=[step.pk])
    client = client_for(editor)
    data = change_form_data(client.get(url))
    data["text"] = "Sparat med version"
    assert client.post(url, data).status_code == 302
    # The same form again: now stale, refused with a message.
    data["text"] = "Sparat igen"
    response = client.post(url, data)
    assert response.status_code == 200
    step.refresh_from_db()
    assert step.text == "Sparat med version"


def test_submit_action_on_approved_revision_is_a_message(approved, editor, client_for):
    response = client_for(editor).post(
        reverse("admin:roadmap_revision_changelist"),
        {"action": "submit_for_review", "_selected_action": [str(approved.pk)]},
        follow=True,
    )
    assert response.status_code == 200
    assert [m.level for m in response.context["messages"]] == [message_levels.ERROR]
