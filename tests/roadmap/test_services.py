"""The revision lifecycle services: start (deep copy), submit, return, approve."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext

from roadmap.demo import DEMO_TITLE, DEMO_YEAR, demo_draft_build
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
from roadmap.services import (
    revision_approve,
    revision_return,
    revision_start,
    revision_submit,
    roadmap_item_save,
)

CONTENT_MODELS = (FocusArea, Need, NationalInitiative, CityAction, NextStep)


def _snapshot(revision: Revision) -> dict:
    """Everything a copy must keep, keyed by lineage id."""
    data = {}
    for model in CONTENT_MODELS:
        for item in model.objects.filter(revision=revision).prefetch_related():
            row = {
                "model": model.__name__,
                "position": item.position,
                "text": getattr(item, "text", None) or getattr(item, "title", ""),
                "data_note": item.data_note,
            }
            if isinstance(item, Need):
                row["parent"] = item.focus_area.lineage_id
            elif not isinstance(item, FocusArea):
                row["parent"] = item.need.lineage_id
            if isinstance(item, (CityAction, NextStep)):
                row["orgs"] = sorted(o.code for o in item.responsible_organisations.all())
                row["all_districts"] = item.all_districts
            if isinstance(item, NextStep):
                row["horizons"] = sorted(h.code for h in item.horizons.all())
                row["horizon_note"] = item.horizon_note
                row["horizon_set_year"] = item.horizon_set_year
            data[(model.__name__, item.lineage_id)] = row
    return data


def _decision(**overrides):
    values = {
        "decision_body": Organisation.objects.get(code="kf"),
        "decision_date": datetime.date(2022, 11, 30),
        "case_number": "KS 2022/999",
        "decision_paragraph": "§ 12",
    }
    values.update(overrides)
    return values


# --- Starting a new revision ---------------------------------------------------------


def test_start_copies_every_item_with_its_lineage(roadmap_2021, editor):
    draft = revision_start(actor=editor, year=2022)

    assert draft.status == Revision.Status.DRAFT
    assert draft.based_on == roadmap_2021
    assert draft.title == roadmap_2021.title
    assert _snapshot(draft) == _snapshot(roadmap_2021)
    counts = {m.__name__: m.objects.filter(revision=draft).count() for m in CONTENT_MODELS}
    assert counts == {
        "FocusArea": 4,
        "Need": 20,
        "NationalInitiative": 21,
        "CityAction": 56,
        "NextStep": 45,
    }
    # The original is untouched and still in force.
    roadmap_2021.refresh_from_db()
    assert roadmap_2021.status == Revision.Status.APPROVED
    assert Revision.objects.current() == roadmap_2021


def test_start_defaults_to_the_next_year(roadmap_2021, editor):
    assert revision_start(actor=editor).year == 2022


def test_start_records_an_event_and_history_with_the_editor(roadmap_2021, editor):
    draft = revision_start(actor=editor, year=2022)
    event = draft.events.get()
    assert (event.kind, event.actor, event.to_status) == ("created", editor, "draft")
    step = NextStep.objects.filter(revision=draft).first()
    record = step.history.earliest()
    assert record.history_type == "+"
    assert record.history_user == editor
    # The m2m fields are in the history record too.
    assert {row.timehorizon.code for row in record.horizons.all()} == {
        h.code for h in step.horizons.all()
    }
    assert {row.organisation.code for row in record.responsible_organisations.all()} == {
        "aldrenamnden",
        "ks",
    }


def test_start_leaves_out_retired_items(roadmap_2021, editor, approver):
    first = revision_start(actor=editor, year=2022)
    step = NextStep.objects.filter(revision=first).first()
    step.retired = True
    step.change_reason = "Genomfört."
    roadmap_item_save(item=step, actor=editor)
    revision_submit(revision=first, actor=editor)
    revision_approve(revision=first, actor=approver, **_decision())

    second = revision_start(actor=editor, year=2023)
    assert not NextStep.objects.filter(revision=second, lineage_id=step.lineage_id).exists()
    assert NextStep.objects.filter(revision=second).count() == 44


def test_start_refuses_a_second_draft_with_a_message(roadmap_2021, editor):
    revision_start(actor=editor, year=2022)
    with pytest.raises(ValidationError) as exc:
        revision_start(actor=editor, year=2023)
    assert exc.value.messages == [
        gettext("There is already an open draft revision. Finish or remove it first.")
    ]
    assert Revision.objects.filter(status="draft").count() == 1
    assert not Revision.objects.filter(year=2023).exists()


def test_start_refuses_a_year_not_after_the_current_revision(roadmap_2021, editor):
    with pytest.raises(ValidationError):
        revision_start(actor=editor, year=2021)
    with pytest.raises(ValidationError):
        revision_start(actor=editor, year=2020)
    assert Revision.objects.count() == 1


@pytest.mark.parametrize(
    "role", ["approver", "bromma_reporter", "farsta_reporter", "reader", "no_role_user"]
)
def test_only_editors_start_revisions(roadmap_2021, request, role):
    user = request.getfixturevalue(role)
    with pytest.raises(PermissionDenied):
        revision_start(actor=user, year=2022)
    assert Revision.objects.count() == 1


# --- Submit, return, approve -------------------------------------------------------------


@pytest.fixture
def draft_2022(roadmap_2021, editor):
    return revision_start(actor=editor, year=2022)


def test_full_cycle_supersedes_the_previous_revision(draft_2022, roadmap_2021, editor, approver):
    revision_submit(revision=draft_2022, actor=editor, comment="Klar för granskning")
    revision_return(revision=draft_2022, actor=approver, comment="Komplettera motiveringarna.")
    revision_submit(revision=draft_2022, actor=editor)
    approved = revision_approve(revision=draft_2022, actor=approver, **_decision())

    assert approved.status == Revision.Status.APPROVED
    assert (approved.case_number, approved.decision_paragraph) == ("KS 2022/999", "§ 12")
    assert approved.decision_date == datetime.date(2022, 11, 30)
    roadmap_2021.refresh_from_db()
    assert roadmap_2021.status == Revision.Status.SUPERSEDED
    assert Revision.objects.current() == approved

    timeline = [(e.kind, e.actor, e.comment) for e in draft_2022.events.order_by("pk")]
    assert timeline == [
        ("created", editor, timeline[0][2]),
        ("submitted", editor, "Klar för granskning"),
        ("returned", approver, "Komplettera motiveringarna."),
        ("submitted", editor, ""),
        ("approved", approver, ""),
    ]
    superseded = roadmap_2021.events.filter(kind=RevisionEvent.Kind.SUPERSEDED).get()
    assert superseded.actor == approver


def test_history_records_who_approved(draft_2022, editor, approver):
    revision_submit(revision=draft_2022, actor=editor)
    revision_approve(revision=draft_2022, actor=approver, **_decision())
    latest = draft_2022.history.latest()
    assert (latest.status, latest.history_user) == ("approved", approver)


@pytest.mark.parametrize(
    "role", ["approver", "bromma_reporter", "farsta_reporter", "reader", "no_role_user"]
)
def test_only_editors_submit(draft_2022, request, role):
    with pytest.raises(PermissionDenied):
        revision_submit(revision=draft_2022, actor=request.getfixturevalue(role))
    draft_2022.refresh_from_db()
    assert draft_2022.status == Revision.Status.DRAFT
    assert draft_2022.events.count() == 1


@pytest.mark.parametrize(
    "role", ["editor", "bromma_reporter", "farsta_reporter", "reader", "no_role_user"]
)
def test_only_approvers_return_and_approve(draft_2022, editor, request, role):
    revision_submit(revision=draft_2022, actor=editor)
    user = request.getfixturevalue(role)
    with pytest.raises(PermissionDenied):
        revision_return(revision=draft_2022, actor=user, comment="Nej")
    with pytest.raises(PermissionDenied):
        revision_approve(revision=draft_2022, actor=user, **_decision())
    draft_2022.refresh_from_db()
    assert draft_2022.status == Revision.Status.IN_REVIEW
    assert draft_2022.events.count() == 2


def test_invalid_transitions_change_nothing(draft_2022, roadmap_2021, editor, approver):
    with pytest.raises(ValidationError):
        revision_approve(revision=draft_2022, actor=approver, **_decision())  # still a draft
    with pytest.raises(ValidationError):
        revision_return(revision=draft_2022, actor=approver, comment="x")  # not in review
    with pytest.raises(ValidationError):
        revision_submit(revision=roadmap_2021, actor=editor)  # approved
    revision_submit(revision=draft_2022, actor=editor)
    with pytest.raises(ValidationError):
        revision_submit(revision=draft_2022, actor=editor)  # already in review
    draft_2022.refresh_from_db()
    roadmap_2021.refresh_from_db()
    assert (draft_2022.status, roadmap_2021.status) == ("in_review", "approved")
    assert draft_2022.events.count() == 2


def test_return_needs_a_comment(draft_2022, editor, approver):
    revision_submit(revision=draft_2022, actor=editor)
    with pytest.raises(ValidationError) as exc:
        revision_return(revision=draft_2022, actor=approver, comment="   ")
    assert "comment" in exc.value.message_dict
    draft_2022.refresh_from_db()
    assert draft_2022.status == Revision.Status.IN_REVIEW


@pytest.mark.parametrize("missing", ["decision_body", "decision_date", "case_number"])
def test_approval_needs_the_decision(draft_2022, editor, approver, missing):
    revision_submit(revision=draft_2022, actor=editor)
    with pytest.raises(ValidationError) as exc:
        revision_approve(
            revision=draft_2022,
            actor=approver,
            **_decision(**{missing: "" if missing == "case_number" else None}),
        )
    assert missing in exc.value.message_dict
    draft_2022.refresh_from_db()
    assert draft_2022.status == Revision.Status.IN_REVIEW


def test_a_new_draft_cannot_start_while_one_is_in_review(draft_2022, editor):
    revision_submit(revision=draft_2022, actor=editor)
    # Only one revision in progress at a time: the one in review must be
    # approved or returned first.
    with pytest.raises(ValidationError):
        revision_start(actor=editor, year=2023)
    assert not Revision.objects.filter(year=2023).exists()


# --- Demo data -----------------------------------------------------------------------


def test_demo_draft_has_the_example_changes(roadmap_2021, editor):
    draft = demo_draft_build(actor=editor)

    assert (draft.year, draft.title, draft.status) == (DEMO_YEAR, DEMO_TITLE, "draft")
    assert "EXEMPEL" in draft.title
    digital = Need.objects.get(revision=draft, title="Digitalisering och välfärdsteknik")
    texts = [s.text for s in digital.next_steps.order_by("position")]
    assert any("4G" in t and "trygghetslarm" in t for t in texts)
    assert any(t.startswith("Nyckelfri hemtjänst") for t in texts)
    retired = NextStep.objects.get(revision=draft, retired=True)
    assert retired.text == "Se över behov av antal MAR i staden"
    retimed = NextStep.objects.get(revision=draft, text="Införa mobil röntgen")
    assert [h.code for h in retimed.horizons.all()] == ["long"]
    assert retimed.horizon_set_year == DEMO_YEAR
    # Every changed item says it is demo data.
    changed = [
        item
        for model in CONTENT_MODELS
        for item in model.objects.filter(revision=draft).exclude(change_reason="")
    ]
    assert len(changed) == 6
    assert all(item.change_reason.startswith("Demodata") for item in changed)


def test_demo_draft_is_built_once(roadmap_2021, editor):
    assert demo_draft_build(actor=editor) is not None
    assert demo_draft_build(actor=editor) is None
    assert Revision.objects.filter(year=DEMO_YEAR).count() == 1
