"""The roadmap admin: who may open what, and bad input that must change nothing."""

import pytest
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext
from simple_history.admin import SimpleHistoryAdmin

from accounts import roles
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
from tests.factories import FocusAreaFactory, RevisionFactory
from tests.helpers import change_form_data, history_form_data

ROADMAP_ADMINS = {
    model: model_admin
    for model, model_admin in admin.site._registry.items()
    if model._meta.app_label == "roadmap"
}
ROADMAP_MODELS = sorted(ROADMAP_ADMINS, key=lambda m: m._meta.model_name)
HISTORY_MODELS = [m for m in ROADMAP_MODELS if isinstance(ROADMAP_ADMINS[m], SimpleHistoryAdmin)]


def _ids(models):
    return [m._meta.model_name for m in models]


def test_every_roadmap_model_is_in_the_admin():
    assert set(ROADMAP_MODELS) == {
        TimeHorizon,
        Organisation,
        Revision,
        FocusArea,
        Need,
        NationalInitiative,
        CityAction,
        NextStep,
    }
    # Every audited model shows its history in the admin.
    assert set(HISTORY_MODELS) == {m for m in ROADMAP_MODELS if hasattr(m, "history")}


def _url(model, view, obj=None):
    name = f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}"
    return reverse(name, args=[obj.pk] if obj is not None else [])


def _object(model):
    obj = model.objects.order_by("pk").first()
    assert obj is not None, f"no {model.__name__} to open"
    return obj


# What the editor may do, per model: (changelist, add, change) status codes.
# Reference data is read-only for editors; the roadmap itself is theirs.
EDITOR_EXPECTED = {
    TimeHorizon: (200, 403, 200),
    Organisation: (200, 403, 200),
    Revision: (200, 200, 200),
    FocusArea: (200, 200, 200),
    Need: (200, 200, 200),
    NationalInitiative: (200, 200, 200),
    CityAction: (200, 200, 200),
    NextStep: (200, 200, 200),
}
# The approver moves revisions along; everything else is read-only for them.
APPROVER_EXPECTED = {
    TimeHorizon: (200, 403, 200),
    Organisation: (200, 403, 200),
    Revision: (200, 403, 200),
    FocusArea: (200, 403, 200),
    Need: (200, 403, 200),
    NationalInitiative: (200, 403, 200),
    CityAction: (200, 403, 200),
    NextStep: (200, 403, 200),
}


def _expected_from_roles(role, model):
    perms = {codename for _app, codename in roles.ROLE_PERMISSIONS[role]}
    name = model._meta.model_name
    can_view = f"view_{name}" in perms or f"change_{name}" in perms
    return (
        200 if can_view else 403,
        200 if f"add_{name}" in perms else 403,
        200 if can_view else 403,
    )


@pytest.mark.parametrize("role", [roles.EDITOR, roles.APPROVER])
def test_expectations_agree_with_the_role_definitions(role):
    expected = EDITOR_EXPECTED if role == roles.EDITOR else APPROVER_EXPECTED
    assert set(expected) == set(ROADMAP_MODELS)
    for model in ROADMAP_MODELS:
        assert expected[model] == _expected_from_roles(role, model), model


@pytest.mark.parametrize("model", ROADMAP_MODELS, ids=_ids(ROADMAP_MODELS))
def test_editor_admin_pages(model, small_roadmap, editor, client_for):
    client = client_for(editor)
    changelist, add, change = EDITOR_EXPECTED[model]
    assert client.get(_url(model, "changelist")).status_code == changelist
    assert client.get(_url(model, "add")).status_code == add
    response = client.get(_url(model, "change", _object(model)))
    assert response.status_code == change
    if model in (TimeHorizon, Organisation):
        # Read-only: the page shows the object but offers no form to save.
        assert response.context["has_change_permission"] is False
        assert b'name="_save"' not in response.content


@pytest.mark.parametrize("model", ROADMAP_MODELS, ids=_ids(ROADMAP_MODELS))
def test_approver_admin_pages(model, small_roadmap, approver, client_for):
    client = client_for(approver)
    changelist, add, change = APPROVER_EXPECTED[model]
    assert client.get(_url(model, "changelist")).status_code == changelist
    assert client.get(_url(model, "add")).status_code == add
    assert client.get(_url(model, "change", _object(model))).status_code == change


@pytest.mark.parametrize("who", ["reader", "bromma_reporter", "no_role_user", "anonymous"])
@pytest.mark.parametrize("model", ROADMAP_MODELS, ids=_ids(ROADMAP_MODELS))
def test_non_staff_are_sent_to_the_admin_login(model, who, small_roadmap, request, client_for):
    client = client_for(request.getfixturevalue(who))
    login = reverse("admin:login")
    for url in (
        _url(model, "changelist"),
        _url(model, "add"),
        _url(model, "change", _object(model)),
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(login), url


@pytest.mark.parametrize("model", HISTORY_MODELS, ids=_ids(HISTORY_MODELS))
def test_editor_sees_the_history_of_every_audited_model(model, small_roadmap, editor, client_for):
    obj = _object(model)
    response = client_for(editor).get(_url(model, "history", obj))
    assert response.status_code == 200
    assert response.context["object"] == obj
    assert response.context["page_obj"].paginator.count == obj.history.count() >= 1


@pytest.mark.parametrize("who", ["reader", "anonymous"])
def test_non_staff_cannot_see_history(who, roadmap_2021, request, client_for):
    response = client_for(request.getfixturevalue(who)).get(
        _url(NextStep, "history", _object(NextStep))
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


# --- Posting forms -----------------------------------------------------------------


def _snapshot(need: Need) -> dict:
    """The need and its items as stored, to see that nothing changed."""
    need.refresh_from_db()
    steps = need.next_steps.order_by("pk")
    return {
        "need": (need.title, need.position, need.data_note),
        "national": list(need.national_initiatives.order_by("pk").values_list("text", "position")),
        "city": list(need.city_actions.order_by("pk").values_list("text", "position")),
        "steps": list(steps.values_list("text", "position", "horizon_note")),
        "horizons": [list(s.horizons.order_by("pk").values_list("code", flat=True)) for s in steps],
        "counts": tuple(
            m.objects.count() for m in (Need, NationalInitiative, CityAction, NextStep)
        ),
        "history": tuple(
            m.history.count() for m in (Need, NationalInitiative, CityAction, NextStep)
        ),
    }


@pytest.fixture
def need_1_1(draft_2022) -> Need:
    """Need 1.1 of the 2022 draft: only a draft's content can be edited."""
    return Need.objects.get(revision=draft_2022, focus_area__position=1, position=1)


@pytest.fixture
def need_form(need_1_1, editor, client_for):
    """The editor's client, the change-form URL of need 1.1 and its POST data."""
    client = client_for(editor)
    url = _url(Need, "change", need_1_1)
    response = client.get(url)
    assert response.status_code == 200
    prefixes = [inline.formset.prefix for inline in response.context["inline_admin_formsets"]]
    assert prefixes == ["national_initiatives", "city_actions", "next_steps"]
    return client, url, change_form_data(response)


def test_unchanged_need_form_saves(need_form, need_1_1):
    client, url, data = need_form
    before = _snapshot(need_1_1)
    response = client.post(url, data)
    assert response.status_code == 302
    assert _snapshot(need_1_1)["steps"] == before["steps"]


def _assert_refused(client, url, data, need, field_error):
    """The form comes back with errors, and the database is as it was,
    including the valid edits made in the same post."""
    before = _snapshot(need)
    data = {
        **data,
        "title": "Ny rubrik som inte får sparas",
        "national_initiatives-0-text": "Ny nationell text som inte får sparas",
    }
    response = client.post(url, data)
    assert response.status_code == 200
    assert len(response.context["errors"]) > 0
    step_forms = {
        inline.formset.prefix: inline.formset
        for inline in response.context["inline_admin_formsets"]
    }["next_steps"]
    assert field_error(step_forms)
    # The editor's other entries are kept in the form.
    assert escape("Ny rubrik som inte får sparas") in response.content.decode()
    assert _snapshot(need) == before


def test_next_step_with_empty_text_is_refused(need_form, need_1_1):
    client, url, data = need_form
    data["next_steps-1-text"] = ""
    _assert_refused(client, url, data, need_1_1, lambda fs: "text" in fs.forms[1].errors)


def test_next_step_without_horizon_is_refused(need_form, need_1_1):
    client, url, data = need_form
    data["next_steps-0-horizons"] = []
    _assert_refused(client, url, data, need_1_1, lambda fs: "horizons" in fs.forms[0].errors)


def test_two_next_steps_with_the_same_position_are_refused(need_form, need_1_1):
    client, url, data = need_form
    assert data["next_steps-0-position"] == "1"
    data["next_steps-2-position"] = "1"
    with translation.override("sv"):
        message = gettext(
            "Position %(position)s is used twice. Each row needs its own position."
        ) % {"position": 1}
    # The readable message is next to the position field of the second row.
    _assert_refused(
        client,
        url,
        data,
        need_1_1,
        lambda fs: fs.forms[2].errors.get("position") == [message] and not fs.forms[0].errors,
    )


def test_new_next_step_with_a_taken_position_is_refused(need_form, need_1_1):
    client, url, data = need_form
    total = int(data["next_steps-TOTAL_FORMS"])
    data["next_steps-TOTAL_FORMS"] = str(total + 1)
    data.update(
        {
            f"next_steps-{total}-need": str(need_1_1.pk),
            f"next_steps-{total}-position": "2",
            f"next_steps-{total}-text": "Ett nytt steg på en upptagen plats",
            f"next_steps-{total}-horizons": [str(TimeHorizon.objects.get(code="short").pk)],
        }
    )
    _assert_refused(
        client,
        url,
        data,
        need_1_1,
        lambda fs: any("position" in f.errors or f.non_field_errors() for f in fs.forms),
    )


def test_swapping_two_next_steps_positions_in_one_save(need_form, need_1_1):
    client, url, data = need_form
    first, second = need_1_1.next_steps.order_by("position")[:2]
    assert (first.position, second.position) == (1, 2)
    data["next_steps-0-position"] = "2"
    data["next_steps-1-position"] = "1"
    response = client.post(url, data)
    assert response.status_code == 302, response.context and response.context["errors"]
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.position, second.position) == (2, 1)
    assert list(need_1_1.next_steps.order_by("position")) == [
        second,
        first,
        *need_1_1.next_steps.order_by("position")[2:],
    ]
    # The real change is in the history, with the editor as its author.
    latest = first.history.latest("history_date")
    assert latest.position == 2
    assert latest.history_user.username == "alice"


def test_adding_a_next_step_in_the_need_form(need_form, need_1_1):
    client, url, data = need_form
    total = int(data["next_steps-TOTAL_FORMS"])
    data["next_steps-TOTAL_FORMS"] = str(total + 1)
    long_term = TimeHorizon.objects.get(code="long")
    data.update(
        {
            f"next_steps-{total}-need": str(need_1_1.pk),
            f"next_steps-{total}-position": str(total + 1),
            f"next_steps-{total}-text": "Ett nytt steg",
            f"next_steps-{total}-horizons": [str(long_term.pk)],
        }
    )
    response = client.post(url, data)
    assert response.status_code == 302
    step = need_1_1.next_steps.get(text="Ett nytt steg")
    assert step.position == total + 1
    assert step.revision_id == need_1_1.revision_id
    assert list(step.horizons.all()) == [long_term]


def test_editor_edits_a_next_step_and_the_roadmap_shows_it(draft_2022, editor, client_for):
    step = NextStep.objects.get(
        revision=draft_2022, need__focus_area__position=1, need__position=2, position=1
    )
    client = client_for(editor)
    url = _url(NextStep, "change", step)
    data = change_form_data(client.get(url))
    new_text = "Tydliggöra organisationen för MAS och MAR i hela staden"
    data["text"] = new_text
    response = client.post(url, data)
    assert response.status_code == 302

    step.refresh_from_db()
    assert step.text == new_text
    page = client.get(reverse("roadmap:detail", args=[draft_2022.year]))
    assert page.status_code == 200
    assert escape(new_text) in page.content.decode()
    # The roadmap in force, 2021, is unchanged.
    current = client.get("/")
    assert current.context["revision"].year == 2021
    assert escape(new_text) not in current.content.decode()

    record = step.history.latest("history_date")
    assert record.text == new_text
    assert record.history_user == editor
    assert record.history_type == "~"
    assert step.history.filter(text="Tydliggöra organisationen för MAS och MAR").exists()


def test_approver_cannot_edit_a_next_step(draft_2022, approver, editor, client_for):
    # In the draft, where the editor could: the refusal is the approver's role.
    step = NextStep.objects.filter(revision=draft_2022).order_by("pk").first()
    url = _url(NextStep, "change", step)
    data = change_form_data(client_for(editor).get(url))
    data["text"] = "Ändrat av godkännaren"
    response = client_for(approver).post(url, data)
    assert response.status_code == 403
    step.refresh_from_db()
    assert step.text != "Ändrat av godkännaren"


def test_approver_cannot_edit_a_next_step_through_its_history(draft_2022, approver, client_for):
    """The history page's "revert to this version" form saves too; the
    approver may look at it, not save it."""
    step = NextStep.objects.filter(revision=draft_2022).order_by("pk").first()
    record = step.history.order_by("history_id").first()
    url = reverse("admin:roadmap_nextstep_simple_history", args=[step.pk, record.history_id])
    client = client_for(approver)
    response = client.get(url)
    assert response.status_code == 200
    data = history_form_data(response)
    data.update({"text": "Ändrat av godkännaren", "expected_version": ""})
    assert client.post(url, data).status_code == 403
    step.refresh_from_db()
    assert step.text != "Ändrat av godkännaren"


def test_editor_cannot_change_reference_data(roadmap_2021, editor, client_for):
    horizon = TimeHorizon.objects.get(code="short")
    response = client_for(editor).post(
        _url(TimeHorizon, "change", horizon),
        {
            "name": "Omedelbart",
            "code": "short",
            "definition": "x",
            "position": "1",
        },
    )
    assert response.status_code == 403
    horizon.refresh_from_db()
    assert horizon.name == "Kort sikt"


# --- Bad input on the other admin forms ---------------------------------------------


def _add_form(client, model):
    url = _url(model, "add")
    response = client.get(url)
    assert response.status_code == 200
    return url, change_form_data(response)


def test_second_draft_revision_is_refused_with_a_message(small_roadmap, editor, client_for):
    client = client_for(editor)
    url, data = _add_form(client, Revision)
    data.update({"year": "2040", "title": "Utkast 2040", "status": Revision.Status.DRAFT})
    assert client.post(url, data).status_code == 302
    data.update({"year": "2041", "title": "Utkast 2041"})
    response = client.post(url, data)
    assert response.status_code == 200
    assert len(response.context["errors"]) > 0
    # The database's rule, in words, not a server error.
    constraint = next(c for c in Revision._meta.constraints if c.name == "revision_single_draft")
    with translation.override("sv"):
        message = str(constraint.violation_error_message)
    assert escape(message) in response.content.decode()
    assert list(Revision.objects.filter(status=Revision.Status.DRAFT)) == [
        Revision.objects.get(year=2040)
    ]


def test_approved_revision_without_decision_is_refused(small_roadmap, editor, client_for):
    client = client_for(editor)
    url, data = _add_form(client, Revision)
    # The status is not the admin's to set: a posted "approved" is ignored and
    # the new revision is a draft. Approval goes through the lifecycle.
    assert "status" not in data
    data.update({"year": "2042", "title": "Färdplan 2042", "status": Revision.Status.APPROVED})
    assert client.post(url, data).status_code == 302
    revision = Revision.objects.get(year=2042)
    assert revision.status == Revision.Status.DRAFT
    assert (revision.case_number, revision.decision_body) == ("", None)
    # An approved revision without its decision is refused, naming both fields.
    revision.status = Revision.Status.APPROVED
    with pytest.raises(ValidationError) as excinfo:
        revision.full_clean()
    assert set(excinfo.value.message_dict) == {"case_number", "decision_body"}
    revision.refresh_from_db()
    assert revision.status == Revision.Status.DRAFT
    # With the decision it is accepted.
    revision.status = Revision.Status.APPROVED
    revision.case_number = "KS 2042/1"
    revision.decision_body = Organisation.objects.get(code="kf")
    revision.full_clean()


def test_need_without_title_or_data_note_is_refused(reference_data, editor, client_for):
    focus_area = FocusAreaFactory(revision=RevisionFactory(draft=True))
    client = client_for(editor)
    url, data = _add_form(client, Need)
    data.update({"focus_area": str(focus_area.pk), "position": "7", "title": "", "data_note": ""})
    before = Need.objects.count()
    response = client.post(url, data)
    assert response.status_code == 200
    assert "title" in response.context["adminform"].form.errors
    assert Need.objects.count() == before
    data["data_note"] = "Rubriken saknas i källan."
    assert client.post(url, data).status_code == 302
    assert Need.objects.get(focus_area=focus_area, position=7).title == ""
