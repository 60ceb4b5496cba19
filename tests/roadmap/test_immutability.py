"""Approved and superseded revisions never change.

Whatever path a change takes (a model's save() or delete(), a queryset delete,
a many-to-many change from either side, a new child, the admin's forms, inlines
and actions) it is refused with ``RevisionLockedError`` or a 403, and the
database is exactly as it was. A revision in review is read-only in the admin.
"""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import constants as message_levels
from django.db import transaction
from django.urls import reverse

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
from tests.factories import (
    CityActionFactory,
    FocusAreaFactory,
    NationalInitiativeFactory,
    NeedFactory,
    NextStepFactory,
    RevisionFactory,
    approve,
    supersede,
)
from tests.helpers import change_form_data, history_form_data, parse_html

APPROVED, SUPERSEDED, IN_REVIEW = (
    Revision.Status.APPROVED,
    Revision.Status.SUPERSEDED,
    Revision.Status.IN_REVIEW,
)
LOCKED = [APPROVED, SUPERSEDED]
NOT_DRAFT = [IN_REVIEW, APPROVED, SUPERSEDED]

CONTENT_MODELS = [FocusArea, Need, NationalInitiative, CityAction, NextStep]
MODELS = [Revision, *CONTENT_MODELS]
MODEL_IDS = [m.__name__ for m in MODELS]
CONTENT_IDS = [m.__name__ for m in CONTENT_MODELS]
THROUGH = [
    NextStep.horizons.through,
    NextStep.responsible_organisations.through,
    CityAction.responsible_organisations.through,
]
# The field each model's parent is chosen by, in the admin's add form.
PARENT_FIELD = {
    FocusArea: "revision",
    Need: "focus_area",
    NationalInitiative: "need",
    CityAction: "need",
    NextStep: "need",
}
PARENT_MODEL = {
    FocusArea: Revision,
    Need: FocusArea,
    NationalInitiative: Need,
    CityAction: Need,
    NextStep: Need,
}
TEXT_FIELD = {
    Revision: "title",
    FocusArea: "title",
    Need: "title",
    NationalInitiative: "text",
    CityAction: "text",
    NextStep: "text",
}
SAVE_BUTTONS = {"_save", "_continue", "_addanother", "_saveasnew"}


# --- The tree and what "unchanged" means ----------------------------------------------


@pytest.fixture
def tree(reference_data) -> dict:
    """One of every kind of item, in a draft (so that a form can be opened on
    it while it is still editable), keyed by model."""
    short = TimeHorizon.objects.get(code="short")
    aldrenamnden = Organisation.objects.get(code="aldrenamnden")
    revision = RevisionFactory(draft=True)
    step = NextStepFactory(
        need__focus_area__revision=revision,
        horizons=[short],
        responsible_organisations=[aldrenamnden],
    )
    need = step.need
    return {
        Revision: revision,
        FocusArea: need.focus_area,
        Need: need,
        NationalInitiative: NationalInitiativeFactory(need=need),
        CityAction: CityActionFactory(need=need, responsible_organisations=[aldrenamnden]),
        NextStep: step,
    }


def lock(tree: dict, status: str) -> dict:
    """Move the tree's revision to ``status``; the objects fresh from the database."""
    revision = tree[Revision]
    if status == APPROVED:
        approve(revision)
    elif status == SUPERSEDED:
        supersede(revision)
    else:
        revision.status = status
        revision.save()
    return {model: model.objects.get(pk=obj.pk) for model, obj in tree.items()}


@pytest.fixture(params=LOCKED)
def locked(request, tree) -> dict:
    """The tree in an approved, and then in a superseded, revision."""
    return lock(tree, request.param)


def db_state() -> dict:
    """Every row of the roadmap (versions and timestamps included), the
    many-to-many rows, the timeline and the number of history records."""
    state = {}
    for model in (Revision, RevisionEvent, *CONTENT_MODELS, *THROUGH):
        state[model._meta.label] = list(model._base_manager.order_by("pk").values())
    for model in MODELS:
        state[f"{model._meta.label} history"] = model.history.count()
    return state


def assert_refused(action) -> None:
    """``action()`` raises RevisionLockedError and leaves the database as it was."""
    before = db_state()
    # Its own transaction: Django's delete() and m2m changes mark the enclosing
    # one for rollback when a signal handler raises.
    with pytest.raises(RevisionLockedError), transaction.atomic():
        action()
    assert db_state() == before


# --- Model save() ---------------------------------------------------------------------

CHANGES = {
    Revision: [
        ("title", "Ändrad titel"),
        ("summary", "Ändrad sammanfattning"),
        ("year", 1999),
        ("case_number", "KS 1999/1"),
        ("decision_note", "Ändrad anteckning"),
        ("decision_paragraph", "§ 99"),
    ],
    FocusArea: [("title", "Ändrad"), ("position", 42), ("data_note", "Ändrad")],
    Need: [("title", "Ändrad"), ("position", 42), ("change_reason", "Ändrad")],
    NationalInitiative: [("text", "Ändrad"), ("position", 42), ("data_note", "Ändrad")],
    CityAction: [("text", "Ändrad"), ("position", 42), ("all_districts", True)],
    NextStep: [
        ("text", "Ändrad"),
        ("position", 42),
        ("horizon_note", "Ändrad"),
        ("all_districts", True),
        ("horizon_set_year", 1999),
    ],
}
CHANGE_CASES = [
    (model, field, value) for model, changes in CHANGES.items() for field, value in changes
]


@pytest.mark.parametrize(
    ("model", "field", "value"),
    CHANGE_CASES,
    ids=[f"{m.__name__}-{f}" for m, f, _v in CHANGE_CASES],
)
def test_saving_a_changed_field_is_refused(locked, model, field, value):
    obj = locked[model]
    setattr(obj, field, value)
    assert_refused(obj.save)
    assert_refused(lambda: obj.save(update_fields=[field]))
    obj.refresh_from_db()
    assert getattr(obj, field) != value


@pytest.mark.parametrize("model", CONTENT_MODELS, ids=CONTENT_IDS)
def test_retiring_an_item_is_refused(locked, model):
    obj = locked[model]
    obj.retired = True
    obj.change_reason = "Genomfört."
    assert_refused(obj.save)


@pytest.mark.parametrize("model", CONTENT_MODELS, ids=CONTENT_IDS)
def test_even_an_unchanged_save_of_content_is_refused(locked, model):
    assert_refused(locked[model].save)


@pytest.mark.parametrize("model", MODELS, ids=MODEL_IDS)
def test_in_review_and_draft_content_can_still_be_saved(tree, model):
    """The guard is the lock, nothing else: in review (where approvers may ask
    for a correction) the model still saves."""
    for status in (Revision.Status.DRAFT, IN_REVIEW):
        objects = lock(tree, status)
        obj = objects[model]
        setattr(obj, TEXT_FIELD[model], f"Ändrad i {status}")
        obj.save()
        obj.refresh_from_db()
        assert getattr(obj, TEXT_FIELD[model]) == f"Ändrad i {status}"


# --- The revision's own status ----------------------------------------------------------


def test_approved_to_superseded_is_the_only_change_allowed(tree):
    revision = lock(tree, APPROVED)[Revision]
    for status in (Revision.Status.DRAFT, IN_REVIEW):
        revision.status = status
        assert_refused(revision.save)
    # Superseding is allowed, but only on its own.
    revision.status = SUPERSEDED
    revision.title = "Ändrad titel"
    assert_refused(revision.save)
    revision = Revision.objects.get(pk=revision.pk)
    before = {
        k: v
        for k, v in Revision.objects.filter(pk=revision.pk).values().get().items()
        if k not in ("status", "updated_at", "version")
    }
    revision.status = SUPERSEDED
    revision.save()
    after = Revision.objects.filter(pk=revision.pk).values().get()
    assert after["status"] == SUPERSEDED
    assert {k: v for k, v in after.items() if k in before} == before


def test_a_superseded_revision_stays_superseded(tree):
    revision = lock(tree, SUPERSEDED)[Revision]
    for status in (Revision.Status.DRAFT, IN_REVIEW, APPROVED):
        revision.status = status
        assert_refused(revision.save)


# --- Deleting ---------------------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS, ids=MODEL_IDS)
def test_delete_is_refused(locked, model):
    obj = locked[model]
    assert_refused(obj.delete)
    assert_refused(lambda: model.objects.filter(pk=obj.pk).delete())
    assert_refused(lambda: model.objects.all().delete())
    assert model.objects.filter(pk=obj.pk).exists()


@pytest.mark.parametrize(
    "target",
    [
        lambda: Organisation.objects.filter(code="aldrenamnden").delete(),
        lambda: TimeHorizon.objects.filter(code="short").delete(),
    ],
    ids=["organisation", "time-horizon"],
)
def test_deleting_reference_data_used_by_a_locked_revision_is_refused(locked, target):
    """The cascade would take the rows of the steps' horizons and responsible
    organisations with it."""
    assert_refused(target)


# --- Many-to-many changes, from both sides ------------------------------------------------


def _horizon(code):
    return TimeHorizon.objects.get(code=code)


def _org(code):
    return Organisation.objects.get(code=code)


M2M_CHANGES = {
    # NextStep.horizons, forward and reverse (the step has "short").
    "step.horizons.add": lambda o: o[NextStep].horizons.add(_horizon("medium")),
    "step.horizons.remove": lambda o: o[NextStep].horizons.remove(_horizon("short")),
    "step.horizons.clear": lambda o: o[NextStep].horizons.clear(),
    "step.horizons.set": lambda o: o[NextStep].horizons.set([_horizon("long")]),
    "horizon.next_steps.add": lambda o: _horizon("medium").next_steps.add(o[NextStep]),
    "horizon.next_steps.remove": lambda o: _horizon("short").next_steps.remove(o[NextStep]),
    "horizon.next_steps.clear": lambda o: _horizon("short").next_steps.clear(),
    "horizon.next_steps.set": lambda o: _horizon("short").next_steps.set([]),
    # NextStep.responsible_organisations (the step has äldrenämnden).
    "step.orgs.add": lambda o: o[NextStep].responsible_organisations.add(_org("bromma")),
    "step.orgs.remove": lambda o: o[NextStep].responsible_organisations.remove(
        _org("aldrenamnden")
    ),
    "step.orgs.clear": lambda o: o[NextStep].responsible_organisations.clear(),
    "step.orgs.set": lambda o: o[NextStep].responsible_organisations.set([_org("bromma")]),
    "org.next_steps.add": lambda o: _org("bromma").next_steps.add(o[NextStep]),
    "org.next_steps.remove": lambda o: _org("aldrenamnden").next_steps.remove(o[NextStep]),
    "org.next_steps.clear": lambda o: _org("aldrenamnden").next_steps.clear(),
    "org.next_steps.set": lambda o: _org("aldrenamnden").next_steps.set([]),
    # CityAction.responsible_organisations (the action has äldrenämnden).
    "action.orgs.add": lambda o: o[CityAction].responsible_organisations.add(_org("bromma")),
    "action.orgs.remove": lambda o: o[CityAction].responsible_organisations.remove(
        _org("aldrenamnden")
    ),
    "action.orgs.clear": lambda o: o[CityAction].responsible_organisations.clear(),
    "action.orgs.set": lambda o: o[CityAction].responsible_organisations.set([_org("bromma")]),
    "org.city_actions.add": lambda o: _org("bromma").city_actions.add(o[CityAction]),
    "org.city_actions.remove": lambda o: _org("aldrenamnden").city_actions.remove(o[CityAction]),
    "org.city_actions.clear": lambda o: _org("aldrenamnden").city_actions.clear(),
    "org.city_actions.set": lambda o: _org("aldrenamnden").city_actions.set([]),
}


@pytest.mark.parametrize("change", M2M_CHANGES.values(), ids=M2M_CHANGES.keys())
def test_many_to_many_changes_are_refused(locked, change):
    assert_refused(lambda: change(locked))


# From the reverse side, django-simple-history (3.13) fails to record the change
# on an open revision (AttributeError: the organisation has no history; upstream
# issue django-commons/django-simple-history#1048), so the control below takes
# the forward changes only.
FORWARD_M2M_CHANGES = {
    name: change for name, change in M2M_CHANGES.items() if name.startswith(("step.", "action."))
}


@pytest.mark.parametrize("change", FORWARD_M2M_CHANGES.values(), ids=FORWARD_M2M_CHANGES.keys())
def test_the_same_many_to_many_changes_work_in_review(tree, change):
    """Each change above really changes something when the revision is open."""
    objects = lock(tree, IN_REVIEW)
    before = db_state()
    change(objects)
    assert db_state() != before


# --- New and moved content ------------------------------------------------------------------

NEW_CHILDREN = {
    "focus area in the revision": lambda o: FocusAreaFactory(revision=o[Revision], position=9),
    "need in the focus area": lambda o: NeedFactory(focus_area=o[FocusArea], position=9),
    "national initiative": lambda o: NationalInitiativeFactory(need=o[Need], position=9),
    "city action": lambda o: CityActionFactory(need=o[Need], position=9),
    "next step": lambda o: NextStepFactory(need=o[Need], position=9),
    "next step via need.next_steps.create": lambda o: o[Need].next_steps.create(
        position=9, text="Nytt steg"
    ),
    "focus area via revision.focus_areas.create": lambda o: o[Revision].focus_areas.create(
        position=9, title="Nytt fokusområde"
    ),
}


@pytest.mark.parametrize("create", NEW_CHILDREN.values(), ids=NEW_CHILDREN.keys())
def test_new_content_under_a_locked_parent_is_refused(locked, create):
    assert_refused(lambda: create(locked))


def test_content_cannot_move_into_or_out_of_a_locked_revision(locked):
    draft = RevisionFactory(draft=True)
    draft_need = NeedFactory(focus_area__revision=draft)
    # Into the locked revision.
    draft_need.focus_area = locked[FocusArea]
    assert_refused(draft_need.save)
    # Out of it.
    step = locked[NextStep]
    step.need = draft_need
    assert_refused(step.save)


# --- The admin --------------------------------------------------------------------------------


def _url(model, view, obj=None):
    name = f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}"
    return reverse(name, args=[obj.pk] if obj is not None else [])


@pytest.fixture
def editor_client(editor, client_for):
    return client_for(editor)


@pytest.fixture
def superuser_client(reference_data, client_for):
    user = get_user_model().objects.create_superuser("root", password="x")  # noqa: S106
    return client_for(user)


def _assert_read_only_page(response) -> None:
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    assert response.context["has_delete_permission"] is False
    names = {attrs.get("name") for _tag, attrs in parse_html(response.content).tags}
    assert not names & SAVE_BUTTONS, names & SAVE_BUTTONS
    assert "expected_version" not in names
    # Nor can an inline take a new row or delete one.
    for inline in response.context["inline_admin_formsets"]:
        assert not inline.has_add_permission, inline.formset.prefix
        assert not inline.has_change_permission, inline.formset.prefix
        assert not inline.has_delete_permission, inline.formset.prefix


@pytest.mark.parametrize("status", NOT_DRAFT)
@pytest.mark.parametrize("model", MODELS, ids=MODEL_IDS)
def test_admin_change_view_is_read_only(tree, status, model, editor_client, superuser_client):
    objects = lock(tree, status)
    for client in (editor_client, superuser_client):
        _assert_read_only_page(client.get(_url(model, "change", objects[model])))


@pytest.mark.parametrize("status", NOT_DRAFT)
@pytest.mark.parametrize("model", MODELS, ids=MODEL_IDS)
def test_admin_post_of_a_change_is_refused(tree, status, model, editor_client):
    """The editor opened the form while the revision was a draft; by the time
    they save, it has moved on."""
    url = _url(model, "change", tree[model])
    data = change_form_data(editor_client.get(url))
    assert "expected_version" in data
    data[TEXT_FIELD[model]] = "Ändrat efter att revideringen låstes"
    lock(tree, status)
    before = db_state()
    response = editor_client.post(url, data)
    assert response.status_code == 403
    assert db_state() == before


@pytest.mark.parametrize("status", NOT_DRAFT)
@pytest.mark.parametrize("model", CONTENT_MODELS, ids=CONTENT_IDS)
def test_admin_add_view_cannot_target_a_locked_parent(tree, status, model, editor_client):
    field = PARENT_FIELD[model]
    parent = tree[PARENT_MODEL[model]]
    url = _url(model, "add")
    response = editor_client.get(url)
    assert parent in response.context["adminform"].form.fields[field].queryset
    data = change_form_data(response)

    lock(tree, status)
    response = editor_client.get(url)
    assert parent not in response.context["adminform"].form.fields[field].queryset
    data.update({field: str(parent.pk), "position": "9", TEXT_FIELD[model]: "Nytt innehåll"})
    if model is NextStep:
        data["horizons"] = [str(_horizon("short").pk)]
    before = db_state()
    response = editor_client.post(url, data)
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert db_state() == before


@pytest.mark.parametrize("status", NOT_DRAFT)
@pytest.mark.parametrize(
    ("model", "field"),
    [(Need, "focus_area"), (NationalInitiative, "need"), (CityAction, "need"), (NextStep, "need")],
    ids=["Need", "NationalInitiative", "CityAction", "NextStep"],
)
def test_admin_autocomplete_offers_no_locked_parent(tree, status, model, field, editor_client):
    parent = tree[PARENT_MODEL[model]]
    url = reverse("admin:autocomplete")
    params = {"app_label": "roadmap", "model_name": model._meta.model_name, "field_name": field}

    def offered():
        response = editor_client.get(url, {**params, "term": ""})
        assert response.status_code == 200
        return {int(r["id"]) for r in response.json()["results"]}

    assert parent.pk in offered()
    lock(tree, status)
    assert parent.pk not in offered()


@pytest.mark.parametrize("status", NOT_DRAFT)
@pytest.mark.parametrize("model", MODELS, ids=MODEL_IDS)
def test_admin_delete_view_is_refused(tree, status, model, editor_client, superuser_client):
    obj = lock(tree, status)[model]
    url = _url(model, "delete", obj)
    before = db_state()
    for client in (editor_client, superuser_client):
        assert client.get(url).status_code == 403
        assert client.post(url, {"post": "yes"}).status_code == 403
    assert db_state() == before


@pytest.mark.parametrize("status", NOT_DRAFT)
@pytest.mark.parametrize("model", MODELS, ids=MODEL_IDS)
def test_admin_bulk_delete_is_refused(tree, status, model, superuser_client):
    obj = lock(tree, status)[model]
    before = db_state()
    response = superuser_client.post(
        _url(model, "changelist"),
        {"action": "delete_selected", "_selected_action": [str(obj.pk)], "post": "yes"},
    )
    assert response.status_code == 403
    assert db_state() == before


# (parent model, inline prefix, text field of the inline's rows)
INLINES = [
    (Revision, "focus_areas", "title"),
    (FocusArea, "needs", "title"),
    (Need, "national_initiatives", "text"),
    (Need, "city_actions", "text"),
    (Need, "next_steps", "text"),
]


def _inline_edit(data: dict, prefix: str, text: str, how: str) -> None:
    if how == "change":
        data[f"{prefix}-0-{text}"] = "Ändrat i raden"
    elif how == "delete":
        data[f"{prefix}-0-DELETE"] = "on"
    else:
        total = int(data[f"{prefix}-TOTAL_FORMS"])
        data[f"{prefix}-TOTAL_FORMS"] = str(total + 1)
        data[f"{prefix}-{total}-position"] = "9"
        data[f"{prefix}-{total}-{text}"] = "En ny rad"
        if prefix == "next_steps":
            data[f"{prefix}-{total}-horizons"] = [str(_horizon("short").pk)]


@pytest.mark.parametrize("status", NOT_DRAFT)
@pytest.mark.parametrize("how", ["add", "change", "delete"])
@pytest.mark.parametrize(
    ("model", "prefix", "text"), INLINES, ids=[f"{m.__name__}-{p}" for m, p, _t in INLINES]
)
def test_admin_inline_rows_of_a_locked_parent_cannot_change(
    tree, status, how, model, prefix, text, editor_client
):
    url = _url(model, "change", tree[model])
    data = change_form_data(editor_client.get(url))
    assert int(data[f"{prefix}-TOTAL_FORMS"]) == 1
    _inline_edit(data, prefix, text, how)
    lock(tree, status)
    before = db_state()
    response = editor_client.post(url, data)
    assert response.status_code == 403
    assert db_state() == before


@pytest.mark.parametrize(
    "model", [Revision, FocusArea, Need], ids=["Revision", "FocusArea", "Need"]
)
def test_admin_inline_edits_work_in_a_draft(tree, model, editor_client):
    """The posts above are valid ones: in the draft they save."""
    prefix, text = next((p, t) for m, p, t in INLINES if m is model)
    url = _url(model, "change", tree[model])
    data = change_form_data(editor_client.get(url))
    _inline_edit(data, prefix, text, "change")
    response = editor_client.post(url, data)
    assert response.status_code == 302, response.context and response.context["errors"]
    child_model = type(getattr(tree[model], prefix).get())
    assert getattr(child_model.objects.get(pk=getattr(tree[model], prefix).get().pk), text) == (
        "Ändrat i raden"
    )


@pytest.mark.parametrize("status", LOCKED)
def test_submit_for_review_action_on_a_locked_revision_says_no(tree, status, editor_client):
    revision = lock(tree, status)[Revision]
    before = db_state()
    response = editor_client.post(
        _url(Revision, "changelist"),
        {"action": "submit_for_review", "_selected_action": [str(revision.pk)]},
        follow=True,
    )
    assert response.status_code == 200
    messages = list(response.context["messages"])
    assert [m.level for m in messages] == [message_levels.ERROR]
    assert str(revision) in messages[0].message
    assert db_state() == before


def test_submit_for_review_action_submits_a_draft(tree, editor_client):
    revision = tree[Revision]
    response = editor_client.post(
        _url(Revision, "changelist"),
        {"action": "submit_for_review", "_selected_action": [str(revision.pk)]},
        follow=True,
    )
    assert [m.level for m in response.context["messages"]] == [message_levels.SUCCESS]
    revision.refresh_from_db()
    assert revision.status == IN_REVIEW


@pytest.mark.parametrize("status", NOT_DRAFT)
@pytest.mark.parametrize("model", MODELS, ids=MODEL_IDS)
def test_admin_history_revert_is_refused(tree, status, model, editor_client, superuser_client):
    """The history page's "revert to this version" form saves too."""
    obj = tree[model]
    setattr(obj, TEXT_FIELD[model], "En senare version")
    obj.save()
    first = obj.history.order_by("history_id").first()
    lock(tree, status)
    url = reverse(
        f"admin:roadmap_{model._meta.model_name}_simple_history", args=[obj.pk, first.history_id]
    )
    before = db_state()
    for client in (editor_client, superuser_client):
        response = client.get(url)
        assert response.status_code == 200
        names = {attrs.get("name") for _tag, attrs in parse_html(response.content).tags}
        assert not names & SAVE_BUTTONS
        data = history_form_data(response)
        data[TEXT_FIELD[model]] = "Ändrat via historiken"
        assert client.post(url, data).status_code == 403
    assert db_state() == before
