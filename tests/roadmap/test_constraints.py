"""The database itself guards the roadmap's invariants.

Every write here bypasses ``full_clean()`` (plain ``save()``/``create()``), so
what stops it is the named constraint in the database, not Python.
"""

import re
import uuid

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext

from fardplan import limits
from roadmap.models import (
    CityAction,
    FocusArea,
    NationalInitiative,
    Need,
    NextStep,
    Organisation,
    Revision,
    RevisionEvent,
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

MOVE_REFUSED = "An item cannot be moved to another revision."


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


@pytest.mark.parametrize(("model", "factory", "key", "parent", "text"), ITEM_MODELS, ids=ITEM_IDS)
def test_retired_item_needs_a_reason(tree, model, factory, key, parent, text):
    existing = tree[key]
    prefix = model.__name__.lower()
    name = f"{prefix}_retired_has_reason"
    assert_rejected_by(
        model,
        name,
        lambda: factory(**{parent: getattr(existing, parent), "position": 99, "retired": True}),
    )
    # Retiring a saved item without a reason is refused too.
    existing.retired = True
    existing.change_reason = ""
    assert_rejected_by(model, name, existing.save)
    # Validation (forms, services) also takes blanks for no reason.
    existing.change_reason = "   "
    with pytest.raises(ValidationError) as excinfo:
        existing.full_clean()
    assert "change_reason" in excinfo.value.message_dict
    existing.refresh_from_db()
    assert existing.retired is False
    # With a reason it is retired.
    existing.retired = True
    existing.change_reason = "Genomfört under 2021."
    existing.save()
    existing.refresh_from_db()
    assert (existing.retired, existing.change_reason) == (True, "Genomfört under 2021.")


def test_returned_event_needs_a_comment(tree):
    revision = tree["revision"]

    def event(kind, comment):
        return RevisionEvent.objects.create(
            revision=revision,
            kind=kind,
            from_status=Revision.Status.IN_REVIEW,
            to_status=Revision.Status.DRAFT,
            comment=comment,
        )

    assert_rejected_by(
        RevisionEvent, "revisionevent_return_has_comment", lambda: event("returned", "")
    )
    assert not RevisionEvent.objects.exists()
    assert event("returned", "Komplettera motiveringarna.").pk
    # Other steps may go without a comment.
    assert event("submitted", "").pk


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
    decision = {"case_number": "KS 2030/1", "decision_body": OrganisationFactory(), **missing}
    assert_rejected_by(
        Revision,
        "revision_approved_has_decision",
        lambda: RevisionFactory(status=status, **decision),
    )
    # With the whole decision it is accepted.
    assert RevisionFactory(
        status=status, case_number="KS 2030/1", decision_body=OrganisationFactory()
    )


def test_revision_in_review_needs_no_decision_yet(db):
    revision = RevisionFactory(status=Revision.Status.IN_REVIEW, case_number="", decision_body=None)
    assert revision.pk


def test_revision_title_must_not_be_empty(db):
    assert_rejected_by(Revision, "revision_title_not_empty", lambda: RevisionFactory(title=""))


def test_revision_status_must_be_known(db):
    # With a decision, so that the unknown status is the only thing wrong
    # (PostgreSQL names just one of the check constraints a row violates).
    decision = {"case_number": "KS 2030/1", "decision_body": OrganisationFactory()}
    assert_rejected_by(
        Revision,
        "revision_status_valid",
        lambda: RevisionFactory(status="withdrawn", **decision),
    )


def test_organisation_name_must_not_be_empty(db):
    assert_rejected_by(
        Organisation, "organisation_name_not_empty", lambda: OrganisationFactory(name="")
    )


def test_organisation_kind_must_be_known(db):
    assert_rejected_by(
        Organisation, "organisation_kind_valid", lambda: OrganisationFactory(kind="club")
    )


# (model, key in tree, constraint prefix, field, limit): the text length limits.
TEXT_LIMITS = [
    (Revision, "revision", "revision", "summary", limits.REVISION_SUMMARY),
    (Revision, "revision", "revision", "decision_note", limits.DECISION_NOTE),
    *(
        (m[0], m[2], m[0].__name__.lower(), field, limit)
        for m in ITEM_MODELS
        for field, limit in (
            ("data_note", limits.DATA_NOTE),
            ("change_reason", limits.CHANGE_REASON),
        )
    ),
    *(
        (m[0], m[2], m[0].__name__.lower(), "text", limits.ITEM_TEXT)
        for m in ITEM_MODELS
        if m[4] == "text"
    ),
]


@pytest.mark.parametrize(
    ("model", "key", "prefix", "field", "limit"),
    TEXT_LIMITS,
    ids=[f"{t[2]}.{t[3]}" for t in TEXT_LIMITS],
)
def test_text_longer_than_its_limit_is_refused(tree, model, key, prefix, field, limit):
    """QuerySet.update() bypasses every Python check: the database refuses."""
    pk = tree[key].pk
    model.objects.filter(pk=pk).update(**{field: "x" * limit})
    assert_rejected_by(
        model,
        f"{prefix}_{field}_max_length",
        lambda: model.objects.filter(pk=pk).update(**{field: "x" * (limit + 1)}),
    )


def test_revision_event_comment_longer_than_its_limit_is_refused(tree):
    event = RevisionEvent.objects.create(
        revision=tree["revision"], kind="created", to_status="draft", comment="x"
    )
    assert_rejected_by(
        RevisionEvent,
        "revisionevent_comment_max_length",
        lambda: RevisionEvent.objects.filter(pk=event.pk).update(
            comment="x" * (limits.EVENT_COMMENT + 1)
        ),
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
        "revisionevent_return_has_comment",
        "revisionevent_comment_max_length",
        *(f"{m[0].__name__.lower()}_retired_has_reason" for m in ITEM_MODELS),
        *(f"{m[0].__name__.lower()}_unique_position" for m in ITEM_MODELS),
        *(f"{m[0].__name__.lower()}_unique_lineage" for m in ITEM_MODELS),
        *(f"{m[0].__name__.lower()}_{m[4]}_not_empty" for m in ITEM_MODELS if m[0] is not Need),
        *(f"{prefix}_{field}_max_length" for _model, _key, prefix, field, _limit in TEXT_LIMITS),
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


def test_a_need_moves_between_focus_areas_of_its_revision_only(db):
    need = NeedFactory()
    sibling = FocusAreaFactory(revision=need.revision)
    need.focus_area = sibling
    need.save()
    need.refresh_from_db()
    assert (need.focus_area_id, need.revision_id) == (sibling.pk, sibling.revision_id)

    # Moving it into another revision would take it out of its revision's
    # history: refused, and nothing is written.
    elsewhere = FocusAreaFactory()
    need.focus_area = elsewhere
    with pytest.raises(ValidationError, match=re.escape(gettext(MOVE_REFUSED))):
        need.save()
    need.refresh_from_db()
    assert (need.focus_area_id, need.revision_id) == (sibling.pk, sibling.revision_id)


def test_a_next_step_cannot_move_to_a_need_of_another_revision(db):
    step = NextStepFactory()
    step.need = NeedFactory()
    with pytest.raises(ValidationError, match=re.escape(gettext(MOVE_REFUSED))):
        step.save()
    step.refresh_from_db()
    assert step.need.revision_id == step.revision_id
