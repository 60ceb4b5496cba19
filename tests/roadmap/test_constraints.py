"""The database itself guards the roadmap's invariants.

Every write here bypasses ``full_clean()`` (plain ``save()``/``create()``), so
what stops it is the named constraint in the database, not Python.
"""

import uuid

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction

from roadmap.models import (
    CityAction,
    FocusArea,
    NationalInitiative,
    Need,
    NextStep,
    Organisation,
    Revision,
)
from tests.factories import (
    CityActionFactory,
    FocusAreaFactory,
    NationalInitiativeFactory,
    NeedFactory,
    NextStepFactory,
    OrganisationFactory,
    RevisionFactory,
)


def _constraint(model, name):
    return next(c for c in model._meta.constraints if c.name == name)


def assert_rejected_by(model, name, write):
    """``write()`` fails inside its own transaction, on constraint ``name``."""
    constraint = _constraint(model, name)
    with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
        write()
    message = str(excinfo.value)
    if connection.vendor == "sqlite" and hasattr(constraint, "fields") and constraint.fields:
        # SQLite names the columns of a failed unique index, not the index.
        table = model._meta.db_table
        columns = [model._meta.get_field(f).column for f in constraint.fields]
        assert ", ".join(f"{table}.{c}" for c in columns) in message
    else:
        assert name in message


@pytest.fixture
def tree(db):
    """One revision with one of every kind of item."""
    step = NextStepFactory()
    need = step.need
    return {
        "revision": need.revision,
        "focus_area": need.focus_area,
        "need": need,
        "national_initiative": NationalInitiativeFactory(need=need),
        "city_action": CityActionFactory(need=need),
        "next_step": step,
    }


ITEM_MODELS = [
    # (model, factory, key in tree, parent field, text field)
    (FocusArea, FocusAreaFactory, "focus_area", "revision", "title"),
    (Need, NeedFactory, "need", "focus_area", "title"),
    (NationalInitiative, NationalInitiativeFactory, "national_initiative", "need", "text"),
    (CityAction, CityActionFactory, "city_action", "need", "text"),
    (NextStep, NextStepFactory, "next_step", "need", "text"),
]
ITEM_IDS = [m[0].__name__ for m in ITEM_MODELS]


@pytest.mark.parametrize(("model", "factory", "key", "parent", "text"), ITEM_MODELS, ids=ITEM_IDS)
def test_position_is_unique_per_parent(tree, model, factory, key, parent, text):
    existing = tree[key]
    prefix = model.__name__.lower()
    assert_rejected_by(
        model,
        f"{prefix}_unique_position",
        lambda: factory(**{parent: getattr(existing, parent), "position": existing.position}),
    )
    # The same position under another parent is fine.
    other_parent = factory(**{"position": existing.position})
    assert other_parent.position == existing.position


@pytest.mark.parametrize(("model", "factory", "key", "parent", "text"), ITEM_MODELS, ids=ITEM_IDS)
def test_lineage_is_unique_per_revision(tree, model, factory, key, parent, text):
    existing = tree[key]
    prefix = model.__name__.lower()
    assert_rejected_by(
        model,
        f"{prefix}_unique_lineage",
        lambda: factory(
            **{parent: getattr(existing, parent), "position": 99, "lineage_id": existing.lineage_id}
        ),
    )
    # The copy of the item in another revision keeps the lineage id: allowed.
    copy = factory(lineage_id=existing.lineage_id)
    assert copy.revision_id != existing.revision_id


@pytest.mark.parametrize(
    ("model", "factory", "key", "parent", "text"),
    [m for m in ITEM_MODELS if m[0] is not Need],
    ids=[i for i in ITEM_IDS if i != "Need"],
)
def test_text_must_not_be_empty(tree, model, factory, key, parent, text):
    existing = tree[key]
    prefix = model.__name__.lower()
    assert_rejected_by(
        model,
        f"{prefix}_{text}_not_empty",
        lambda: factory(**{parent: getattr(existing, parent), "position": 99, text: ""}),
    )


def test_need_without_title_or_data_note_is_rejected(tree):
    assert_rejected_by(
        Need,
        "need_title_or_data_note",
        lambda: NeedFactory(focus_area=tree["focus_area"], title="", data_note=""),
    )


def test_need_without_title_but_with_data_note_is_accepted(tree):
    need = NeedFactory(
        focus_area=tree["focus_area"], title="", data_note="Rubriken saknas i källan."
    )
    need.refresh_from_db()
    assert need.title == ""


def test_editing_a_saved_item_to_empty_text_is_rejected(tree):
    step = tree["next_step"]
    step.text = ""
    assert_rejected_by(NextStep, "nextstep_text_not_empty", step.save)
    step.refresh_from_db()
    assert step.text


def test_only_one_draft_revision_at_a_time(db):
    RevisionFactory(draft=True)
    assert_rejected_by(Revision, "revision_single_draft", lambda: RevisionFactory(draft=True))
    # A revision in review may sit beside the draft.
    RevisionFactory(draft=True, status=Revision.Status.IN_REVIEW)
    assert Revision.objects.filter(status=Revision.Status.DRAFT).count() == 1


@pytest.mark.parametrize("status", [Revision.Status.APPROVED, Revision.Status.SUPERSEDED])
@pytest.mark.parametrize(
    "missing",
    [{"case_number": ""}, {"decision_body": None}, {"case_number": "", "decision_body": None}],
    ids=["no-case-number", "no-deciding-body", "neither"],
)
def test_approved_revision_needs_its_decision(db, status, missing):
    assert_rejected_by(
        Revision,
        "revision_approved_has_decision",
        lambda: RevisionFactory(status=status, **missing),
    )


def test_revision_in_review_needs_no_decision_yet(db):
    revision = RevisionFactory(status=Revision.Status.IN_REVIEW, case_number="", decision_body=None)
    assert revision.pk


def test_revision_title_must_not_be_empty(db):
    assert_rejected_by(Revision, "revision_title_not_empty", lambda: RevisionFactory(title=""))


def test_revision_status_must_be_known(db):
    assert_rejected_by(
        Revision, "revision_status_valid", lambda: RevisionFactory(status="withdrawn")
    )


def test_organisation_name_must_not_be_empty(db):
    assert_rejected_by(
        Organisation, "organisation_name_not_empty", lambda: OrganisationFactory(name="")
    )


def test_organisation_kind_must_be_known(db):
    assert_rejected_by(
        Organisation, "organisation_kind_valid", lambda: OrganisationFactory(kind="club")
    )


def test_every_named_constraint_has_a_test():
    """A constraint added to the roadmap models without a test fails here."""
    tested = {
        "organisation_name_not_empty",
        "organisation_kind_valid",
        "revision_status_valid",
        "revision_title_not_empty",
        "revision_approved_has_decision",
        "revision_single_draft",
        "need_title_or_data_note",
        *(f"{m[0].__name__.lower()}_unique_position" for m in ITEM_MODELS),
        *(f"{m[0].__name__.lower()}_unique_lineage" for m in ITEM_MODELS),
        *(f"{m[0].__name__.lower()}_{m[4]}_not_empty" for m in ITEM_MODELS if m[0] is not Need),
    }
    declared = {
        c.name
        for model in apps.get_app_config("roadmap").get_models()
        for c in model._meta.constraints
    }
    assert declared == tested


def test_need_takes_its_revision_from_its_focus_area(db):
    focus_area = FocusAreaFactory()
    other_revision = RevisionFactory()
    need = Need(
        focus_area=focus_area,
        revision=other_revision,
        position=1,
        title="Behov",
        lineage_id=uuid.uuid4(),
    )
    need.save()
    need.refresh_from_db()
    assert need.revision_id == focus_area.revision_id != other_revision.pk


def test_items_take_their_revision_from_their_need(db):
    need = NeedFactory()
    other_revision = RevisionFactory()
    for factory in (NationalInitiativeFactory, CityActionFactory, NextStepFactory):
        item = factory(need=need, revision=other_revision)
        item.refresh_from_db()
        assert item.revision_id == need.revision_id != other_revision.pk


def test_moving_a_need_to_another_revisions_focus_area_moves_its_revision(db):
    need = NeedFactory()
    elsewhere = FocusAreaFactory()
    need.focus_area = elsewhere
    need.save()
    need.refresh_from_db()
    assert need.revision_id == elsewhere.revision_id
