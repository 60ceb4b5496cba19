"""Every write to the roadmap leaves history rows that say who made it."""

from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.urls import reverse

from roadmap.models import (
    CityAction,
    FocusArea,
    NationalInitiative,
    Need,
    NextStep,
    Revision,
    TimeHorizon,
)
from roadmap.services import roadmap_import, roadmap_import_file
from tests.factories import NextStepFactory
from tests.helpers import change_form_data

FIXTURE = Path(settings.BASE_DIR) / "fixtures" / "roadmap_2021.yaml"
AUDITED = (Revision, FocusArea, Need, NationalInitiative, CityAction, NextStep)


def _horizon_codes(record) -> list[str]:
    """The horizons a historical next step had at that point."""
    return sorted(row.timehorizon.code for row in record.horizons.all())


def test_import_records_history_with_the_actor_and_a_reason(reference_data, editor):
    revision = roadmap_import_file(path=FIXTURE, actor=editor)
    for model in AUDITED:
        objects = model.objects.all()
        if model is not Revision:
            objects = objects.filter(revision=revision)
        records = model.history.filter(id__in=objects.values("id"))
        assert records.exists(), model
        # One creation record per object, by the editor, with the reason.
        created = records.filter(history_type="+")
        assert created.count() == objects.count(), model
        assert set(records.values_list("history_user", flat=True)) == {editor.pk}, model
        assert set(created.values_list("history_change_reason", flat=True)) == {
            "Import av Färdplan för äldreomsorgens utveckling 2021"
        }, model


def test_import_without_actor_records_no_user(roadmap_2021):
    assert NextStep.history.exclude(history_user=None).count() == 0
    assert NextStep.history.filter(history_type="+").count() == 45


def test_failed_import_leaves_no_rows_and_no_history(reference_data, editor):
    data = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))
    # The last next step of the document has no horizon: the import must fail
    # after most of the document has been written, and roll all of it back.
    data["focus_areas"][-1]["needs"][-1]["next_steps"][-1]["horizons"] = []
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        roadmap_import(
            data=data,
            responsible=["aldrenamnden", "ks"],
            all_districts=True,
            decision_body="kf",
            case_number="KS 2021/1462",
            decision_note="",
            actor=editor,
        )
    for model in AUDITED:
        assert model.objects.count() == 0, model
        assert model.history.count() == 0, model


def test_horizon_changes_are_recorded(reference_data):
    short, medium, long_term = (
        TimeHorizon.objects.get(code=c) for c in ("short", "medium", "long")
    )
    step = NextStepFactory(horizons=[short])
    assert _horizon_codes(step.history.latest("history_date")) == ["short"]

    step.horizons.set([medium, long_term])

    latest = step.history.order_by("-history_id").first()
    assert _horizon_codes(latest) == ["long", "medium"]
    # The earlier state is still there.
    assert any(_horizon_codes(r) == ["short"] for r in step.history.all())


def test_responsible_organisation_changes_are_recorded(reference_data):
    from roadmap.models import Organisation

    step = NextStepFactory()
    step.responsible_organisations.set(Organisation.objects.filter(code="bromma"))
    latest = step.history.order_by("-history_id").first()
    assert [row.organisation.code for row in latest.responsible_organisations.all()] == ["bromma"]


def _post_change_form(client, model, obj, changes):
    url = reverse(f"admin:roadmap_{model._meta.model_name}_change", args=[obj.pk])
    data = change_form_data(client.get(url))
    data.update(changes)
    return client.post(url, data)


def test_admin_change_of_horizons_is_recorded_with_the_user(draft_2022, editor, client_for):
    step = NextStep.objects.filter(revision=draft_2022, horizons__code="medium").first()
    long_term = TimeHorizon.objects.get(code="long")
    before = step.history.count()

    response = _post_change_form(
        client_for(editor), NextStep, step, {"horizons": [str(long_term.pk)]}
    )

    assert response.status_code == 302
    assert list(step.horizons.all()) == [long_term]
    new_records = step.history.order_by("-history_id")[: step.history.count() - before]
    assert new_records, "the change left no history"
    assert all(r.history_user == editor for r in new_records)
    assert _horizon_codes(step.history.order_by("-history_id").first()) == ["long"]
    assert any(_horizon_codes(r) == ["medium"] for r in step.history.all())


def test_admin_inline_saves_record_the_user(draft_2022, editor, client_for):
    need = Need.objects.get(revision=draft_2022, focus_area__position=3, position=1)
    step = need.next_steps.get(position=1)
    response = _post_change_form(
        client_for(editor),
        Need,
        need,
        {"title": "Adekvat bemanning dygnet runt", "next_steps-0-text": "Klargöra bemanningen"},
    )
    assert response.status_code == 302
    need_record = need.history.latest("history_date")
    step_record = step.history.latest("history_date")
    assert (need_record.title, need_record.history_user) == (
        "Adekvat bemanning dygnet runt",
        editor,
    )
    assert (step_record.text, step_record.history_user) == ("Klargöra bemanningen", editor)


def test_approver_change_of_a_revision_is_recorded(draft_2022, approver, client_for):
    # Approved revisions are read-only; the draft's decision note is the
    # approver's to write.
    note = "Underlaget bereds av äldreförvaltningen."
    response = _post_change_form(
        client_for(approver), Revision, draft_2022, {"decision_note": note}
    )
    assert response.status_code == 302
    record = draft_2022.history.latest("history_date")
    assert record.decision_note == note
    assert record.history_user == approver


def test_refused_admin_change_leaves_no_history(roadmap_2021, reader, client_for):
    step = NextStep.objects.filter(revision=roadmap_2021).first()
    before = step.history.count()
    url = reverse("admin:roadmap_nextstep_change", args=[step.pk])
    response = client_for(reader).post(url, {"text": "Ändrat av läsaren"})
    assert response.status_code == 302
    assert step.history.count() == before
    step.refresh_from_db()
    assert step.text != "Ändrat av läsaren"
