"""The admin shows which revision it lists and edits (issue "Every role's day,
smooth"): a revision column and filter defaulting to the draft, year labels,
no lineage ids, retire versus delete, deciding bodies and reporting
organisations only, and the title corrected at approval."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from followup.selectors import organisations_reporting
from roadmap.admin import RETIRE_HELP, RevisionListFilter, YearLabelledFilter
from roadmap.forms import ApproveForm
from roadmap.models import (
    CityAction,
    FocusArea,
    NationalInitiative,
    Need,
    NextStep,
    Organisation,
    Revision,
    TimeHorizon,
)
from roadmap.services import revision_approve, revision_start, revision_submit
from tests.helpers import change_form_data

CONTENT_MODELS = [FocusArea, Need, NationalInitiative, CityAction, NextStep]
IDS = [m._meta.model_name for m in CONTENT_MODELS]


def _url(model, view: str, *args) -> str:
    return reverse(f"admin:roadmap_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def draft(small_roadmap, editor) -> Revision:
    """A draft copied from the small approved revision: every row twice."""
    return revision_start(actor=editor)


def _new_step(draft: Revision) -> NextStep:
    """A next step added in the draft (its lineage is not in the approved one)."""
    need = Need.objects.get(revision=draft)
    step = NextStep.objects.create(need=need, position=99, text="Ny åtgärd i utkastet.")
    step.horizons.set(TimeHorizon.objects.filter(code="short"))
    return step


# --- 1. Revision column and filter, year labels -------------------------------------


@pytest.mark.parametrize("model", CONTENT_MODELS, ids=IDS)
def test_content_lists_default_to_the_draft(model, draft, small_roadmap, editor, client_for):
    client = client_for(editor)
    response = client.get(_url(model, "changelist"))
    assert response.status_code == 200
    cl = response.context["cl"]
    assert "revision_column" in cl.list_display
    assert {row.revision_id for row in cl.result_list} == {draft.pk}
    assert any(isinstance(spec, RevisionListFilter) for spec in cl.filter_specs)
    # "All" must be chosen explicitly; then both revisions are listed.
    everything = client.get(_url(model, "changelist"), {"revision__id__exact": "all"})
    assert {row.revision_id for row in everything.context["cl"].result_list} == {
        draft.pk,
        small_roadmap.pk,
    }
    approved = client.get(_url(model, "changelist"), {"revision__id__exact": small_roadmap.pk})
    assert {row.revision_id for row in approved.context["cl"].result_list} == {small_roadmap.pk}
    # The column says the year and status.
    with translation.override("en"):
        page = client.get(_url(model, "changelist"), headers={"accept-language": "en"})
    assert f"{draft.year} (" in page.content.decode()


def test_without_a_draft_every_revision_is_listed(small_roadmap, editor, client_for):
    response = client_for(editor).get(_url(NextStep, "changelist"))
    assert response.status_code == 200
    assert response.context["cl"].result_count == NextStep.objects.count()


@pytest.mark.parametrize("value", ["abc", "9" * 30, "-1"])
def test_a_bad_revision_filter_is_no_server_error(value, draft, editor, client_for):
    response = client_for(editor).get(_url(NextStep, "changelist"), {"revision__id__exact": value})
    assert response.status_code in (200, 302)


@pytest.mark.parametrize("model", [Need, NationalInitiative, CityAction, NextStep])
def test_focus_area_filters_carry_the_year(model, draft, small_roadmap, editor, client_for):
    response = client_for(editor).get(_url(model, "changelist"), {"revision__id__exact": "all"})
    (spec,) = [s for s in response.context["cl"].filter_specs if isinstance(s, YearLabelledFilter)]
    labels = [label for _pk, label in spec.lookup_choices]
    title = FocusArea.objects.get(revision=draft).title
    assert labels == [f"{draft.year}: {title}", f"{small_roadmap.year}: {title}"]


def test_focus_area_and_need_selects_carry_the_year(draft, editor, client_for):
    client = client_for(editor)
    focus_area = FocusArea.objects.get(revision=draft)
    need = Need.objects.get(revision=draft)
    form = client.get(_url(Need, "add")).context["adminform"].form
    assert form.fields["focus_area"].label_from_instance(focus_area) == (
        f"{draft.year}: {focus_area}"
    )
    form = client.get(_url(NextStep, "add")).context["adminform"].form
    assert form.fields["need"].label_from_instance(need) == f"{draft.year}: {need}"


# --- 2. No lineage ids; which revision; retire versus delete -------------------------


@pytest.mark.parametrize("model", CONTENT_MODELS, ids=IDS)
def test_change_forms_name_the_revision_and_hide_the_lineage(model, draft, editor, client_for):
    obj = model.objects.filter(revision=draft).first()
    response = client_for(editor).get(_url(model, "change", obj.pk))
    assert response.status_code == 200
    content = response.content.decode()
    assert str(obj.lineage_id) not in content
    assert "lineage_id" not in response.context["adminform"].form.fields
    label = gettext("Revision %(year)s (%(status)s)") % {
        "year": draft.year,
        "status": draft.get_status_display().lower(),
    }
    assert label in response.context["subtitle"]
    assert f"<h2>{label}" in content
    assert response.context["adminform"].form.fields["retired"].help_text == RETIRE_HELP


def test_the_revision_heading_and_retire_help_are_swedish():
    with translation.override("sv"):
        assert gettext("Revision %(year)s (%(status)s)") % {
            "year": 2025,
            "status": "utkast",
        } == ("Revidering 2025 (utkast)")
        assert str(RETIRE_HELP).startswith("Utgått: ")


def test_a_carried_over_row_cannot_be_deleted(draft, editor, client_for):
    client = client_for(editor)
    step = NextStep.objects.get(revision=draft)
    assert client.get(_url(NextStep, "delete", step.pk)).status_code == 403
    response = client.get(_url(NextStep, "change", step.pk))
    assert response.context["has_delete_permission"] is False
    assert client.post(_url(NextStep, "delete", step.pk), {"post": "yes"}).status_code == 403
    assert NextStep.objects.filter(pk=step.pk).exists()
    # Nor through the list's "delete selected" action.
    client.post(
        _url(NextStep, "changelist"),
        {"action": "delete_selected", "_selected_action": [step.pk], "post": "yes"},
    )
    assert NextStep.objects.filter(pk=step.pk).exists()


def test_a_row_added_in_the_draft_can_be_deleted(draft, editor, client_for):
    client = client_for(editor)
    step = _new_step(draft)
    assert client.get(_url(NextStep, "delete", step.pk)).status_code == 200
    response = client.post(_url(NextStep, "delete", step.pk), {"post": "yes"})
    assert response.status_code == 302
    assert not NextStep.objects.filter(pk=step.pk).exists()


def test_inline_rows_carried_over_cannot_be_deleted(draft, editor, client_for):
    client = client_for(editor)
    new = _new_step(draft)
    url = _url(Need, "change", new.need_id)
    response = client.get(url)
    (steps,) = [
        f.formset for f in response.context["inline_admin_formsets"] if f.opts.model is NextStep
    ]
    disabled = {form.instance.pk: form.fields["DELETE"].disabled for form in steps.forms}
    assert len(disabled) == 2
    assert disabled.pop(new.pk) is False
    assert all(disabled.values())
    # A DELETE posted for every row deletes only the row added in the draft.
    data = change_form_data(response)
    for index in range(len(steps.forms)):
        data[f"{steps.prefix}-{index}-DELETE"] = "on"
    assert client.post(url, data).status_code == 302
    assert not NextStep.objects.filter(pk=new.pk).exists()
    assert NextStep.objects.filter(pk__in=disabled).count() == len(disabled)


# --- 3. Organisation choices by kind -------------------------------------------------


def test_the_deciding_body_is_one_of_the_deciding_bodies(reference_data):
    codes = set(ApproveForm().fields["decision_body"].queryset.values_list("code", flat=True))
    assert codes == {"kf", "ks", "aldrenamnden"}
    kinds = set(Organisation.objects.filter(code__in=codes).values_list("kind", flat=True))
    assert Organisation.Kind.DISTRICT not in kinds
    assert Organisation.Kind.COMPANY not in kinds


def test_approving_with_another_body_is_refused(draft, editor, approver, client_for):
    revision_submit(revision=draft, actor=editor)
    response = client_for(approver).post(
        reverse("roadmap:approve", args=[draft.year]),
        {
            "decision_body": Organisation.objects.get(code="bromma").pk,
            "decision_date": "2024-01-10",
            "case_number": "KS 1/1",
        },
    )
    assert response.status_code == 400
    assert "decision_body" in response.context["form"].errors


def test_the_report_form_offers_only_organisations_that_report(small_roadmap, editor, client_for):
    from followup.services import period_create, period_open

    period = period_create(year=2030, kind="T1", revision=small_roadmap, actor=editor)
    period_open(period=period, actor=editor)
    response = client_for(editor).get(reverse("followup:reports"))
    form = response.context["form"]
    codes = {value for value, _label in form.fields["organisation"].widget.choices if value}
    assert {"socialstyrelsen", "skr", "ivo", "region-stockholm", "micasa"}.isdisjoint(codes)
    assert {"bromma", "farsta", "aldrenamnden", "ks"} <= codes
    assert codes == set(organisations_reporting().values_list("code", flat=True))


# --- 5. The title corrected at approval ----------------------------------------------


def _decision(**extra) -> dict:
    return {
        "decision_body": Organisation.objects.get(code="kf").pk,
        "decision_date": "2024-01-10",
        "case_number": "KS 2024/1",
        **extra,
    }


def test_the_approval_form_is_prefilled_with_the_title(draft, editor, approver, client_for):
    revision_submit(revision=draft, actor=editor)
    response = client_for(approver).get(reverse("roadmap:approve", args=[draft.year]))
    assert response.context["form"]["title"].value() == draft.title


def test_the_title_is_corrected_at_approval(draft, editor, approver, client_for):
    revision_submit(revision=draft, actor=editor)
    response = client_for(approver).post(
        reverse("roadmap:approve", args=[draft.year]), _decision(title="  Färdplan 2031  ")
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.status, draft.title) == (Revision.Status.APPROVED, "Färdplan 2031")
    assert draft.history.filter(title="Färdplan 2031", status="approved").exists()


def test_an_empty_title_keeps_the_title(draft, editor, approver, client_for):
    title = draft.title
    revision_submit(revision=draft, actor=editor)
    response = client_for(approver).post(
        reverse("roadmap:approve", args=[draft.year]), _decision(title="")
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.status, draft.title) == (Revision.Status.APPROVED, title)


def test_a_too_long_title_is_refused(draft, editor, approver, client_for):
    revision_submit(revision=draft, actor=editor)
    response = client_for(approver).post(
        reverse("roadmap:approve", args=[draft.year]), _decision(title="x" * 201)
    )
    assert response.status_code == 400
    assert "title" in response.context["form"].errors
    draft.refresh_from_db()
    assert draft.status == Revision.Status.IN_REVIEW
    with pytest.raises(ValidationError) as excinfo:
        revision_approve(
            revision=draft,
            actor=approver,
            decision_body=Organisation.objects.get(code="kf"),
            decision_date=datetime.date(2024, 1, 10),
            case_number="KS 2024/1",
            title="x" * 201,
        )
    assert "title" in excinfo.value.message_dict
    draft.refresh_from_db()
    assert draft.status == Revision.Status.IN_REVIEW
