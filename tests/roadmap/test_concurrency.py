"""Two people editing the same item: the second is told what the first changed,
keeps their own input in the form, and nothing is overwritten."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connections
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext

from accounts import roles
from roadmap.models import ConcurrentEditError, Need, NextStep, Revision, TimeHorizon
from roadmap.services import revision_start
from tests.helpers import change_form_data

# The start of the conflict message (VersionedModelForm), as the Swedish admin shows it.
with translation.override("sv"):
    CONFLICT = gettext(
        "Someone else saved changes to this item after you opened it. "
        "Your changes were not saved; they are still in the form."
    )


@pytest.fixture
def second_editor(make_user):
    return make_user("maja", roles.EDITOR, ("aldrenamnden",))


@pytest.fixture
def step(draft_2022) -> NextStep:
    """Next step 1.1.1 of the 2022 draft (medellång sikt)."""
    return NextStep.objects.get(
        revision=draft_2022, need__focus_area__position=1, need__position=1, position=1
    )


def _errors(response) -> list[str]:
    return [str(e) for e in response.context["adminform"].form.non_field_errors()]


def test_second_editor_of_a_next_step_gets_a_conflict_message(
    step, editor, second_editor, client_for
):
    url = reverse("admin:roadmap_nextstep_change", args=[step.pk])
    alice, maja = client_for(editor), client_for(second_editor)
    alice_data = change_form_data(alice.get(url))
    maja_data = change_form_data(maja.get(url))
    assert alice_data["expected_version"] == maja_data["expected_version"] == str(step.version)

    alice_text = "Införa digital SIP under 2022 tillsammans med Region Stockholm"
    alice_data["text"] = alice_text
    assert alice.post(url, alice_data).status_code == 302

    maja_note = "Maja: ingår i handlingsplanen för digitalisering"
    maja_data["horizon_note"] = maja_note
    maja_data["text"] = "Majas formulering av steget"
    response = maja.post(url, maja_data)

    assert response.status_code == 200
    errors = _errors(response)
    assert len(errors) == 1
    assert errors[0].startswith(CONFLICT)
    # What Alice changed, with her new value.
    assert alice_text in errors[0]
    assert escape(alice_text) in response.content.decode()
    # Alice's change is kept; nothing of Maja's is written.
    step.refresh_from_db()
    assert (step.text, step.horizon_note) == (alice_text, "")
    # Maja's input is still in the form.
    form = response.context["adminform"].form
    assert form["text"].value() == "Majas formulering av steget"
    assert form["horizon_note"].value() == maja_note
    assert escape(maja_note) in response.content.decode()


def test_conflict_message_lists_changed_horizons(step, editor, second_editor, client_for):
    url = reverse("admin:roadmap_nextstep_change", args=[step.pk])
    alice, maja = client_for(editor), client_for(second_editor)
    alice_data = change_form_data(alice.get(url))
    maja_data = change_form_data(maja.get(url))
    long_term = TimeHorizon.objects.get(code="long")
    alice_data["horizons"] = [str(long_term.pk)]
    assert alice.post(url, alice_data).status_code == 302

    maja_data["text"] = "Majas formulering"
    response = maja.post(url, maja_data)
    assert response.status_code == 200
    (error,) = _errors(response)
    assert error.startswith(CONFLICT)
    assert long_term.name in error
    assert list(step.horizons.all()) == [long_term]
    step.refresh_from_db()
    assert step.text != "Majas formulering"


def test_the_same_editor_saving_twice_in_a_row_is_no_conflict(step, editor, client_for):
    url = reverse("admin:roadmap_nextstep_change", args=[step.pk])
    client = client_for(editor)
    data = change_form_data(client.get(url))
    data["text"] = "Första versionen"
    assert client.post(url, data).status_code == 302
    data = change_form_data(client.get(url))
    data["text"] = "Andra versionen"
    assert client.post(url, data).status_code == 302
    step.refresh_from_db()
    assert step.text == "Andra versionen"


def test_second_editor_of_an_inline_next_step_gets_a_conflict_message(
    step, editor, second_editor, client_for
):
    need = step.need
    url = reverse("admin:roadmap_need_change", args=[need.pk])
    alice, maja = client_for(editor), client_for(second_editor)
    alice_data = change_form_data(alice.get(url))
    maja_data = change_form_data(maja.get(url))
    assert alice_data["next_steps-0-id"] == str(step.pk)

    alice_text = "Införa digital SIP: Alices formulering"
    alice_data["next_steps-0-text"] = alice_text
    assert alice.post(url, alice_data).status_code == 302

    maja_text = "Införa digital SIP: Majas formulering"
    maja_title = "Nära samverkan med regionen (Maja)"
    maja_data["next_steps-0-text"] = maja_text
    maja_data["title"] = maja_title
    response = maja.post(url, maja_data)

    assert response.status_code == 200
    formset = {
        inline.formset.prefix: inline.formset
        for inline in response.context["inline_admin_formsets"]
    }["next_steps"]
    (error,) = [str(e) for e in formset.forms[0].non_field_errors()]
    assert error.startswith(CONFLICT)
    assert alice_text in error
    assert escape(alice_text) in response.content.decode()
    # Alice's change is kept, nothing of Maja's post is written (not even the
    # need's own title, which nobody else had changed).
    step.refresh_from_db()
    need.refresh_from_db()
    assert step.text == alice_text
    assert need.title != maja_title
    # Maja's input is still in the form.
    assert formset.forms[0]["text"].value() == maja_text
    assert response.context["adminform"].form["title"].value() == maja_title


def test_second_save_of_the_same_loaded_version_raises(step):
    first = NextStep.objects.get(pk=step.pk)
    second = NextStep.objects.get(pk=step.pk)
    loaded = first.version
    first.expected_version = second.expected_version = loaded

    first.text = "Den första"
    first.save()
    assert first.version == loaded + 1

    second.text = "Den andra"
    with pytest.raises(ConcurrentEditError):
        second.save()
    step.refresh_from_db()
    assert (step.text, step.version) == ("Den första", loaded + 1)


def test_saves_without_an_expected_version_still_count_up(step):
    """Code that does not ask for compare-and-set (services, imports) saves as
    before, and the version still moves on, so forms open at the time see it."""
    first = NextStep.objects.get(pk=step.pk)
    second = NextStep.objects.get(pk=step.pk)
    first.save()
    second.save()
    step.refresh_from_db()
    assert step.version == first.version + 1 == second.version


def test_concurrent_edit_error_is_a_validation_error():
    assert issubclass(ConcurrentEditError, ValidationError)


# --- Two editors start a new revision at the same moment ---------------------------------


def _start_at_once(users_and_years) -> dict[str, object]:
    """Each user calls revision_start in its own thread, all released at the
    same moment; what each call returned or raised, by user name."""
    barrier = threading.Barrier(len(users_and_years))
    results: dict[str, object] = {}

    def start(user, year):
        try:
            barrier.wait(timeout=10)
            results[user.username] = revision_start(actor=user, year=year)
        except Exception as exc:  # noqa: BLE001 - recorded for the assertions
            results[user.username] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=start, args=args) for args in users_and_years]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    return results


def _sv(message: str) -> str:
    with translation.override("sv"):
        return gettext(message)


DRAFT_EXISTS = "There is already an open draft revision. Finish or remove it first."


# SQLite serialises writers, so the two starts could not race there.
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_starts_give_one_draft(roadmap_2021, editor, second_editor):
    # Different years, so that the one-draft rule is the only thing in the way.
    results = _start_at_once([(editor, 2022), (second_editor, 2023)])

    drafts = list(Revision.objects.filter(status=Revision.Status.DRAFT))
    assert len(drafts) == 1
    started = [r for r in results.values() if isinstance(r, Revision)]
    refused = [r for r in results.values() if not isinstance(r, Revision)]
    assert [r.pk for r in started] == [drafts[0].pk]
    assert len(refused) == 1
    assert isinstance(refused[0], ValidationError), repr(refused[0])
    assert refused[0].messages == [_sv(DRAFT_EXISTS)]
    # The draft is complete: every item of 2021 was copied once.
    assert NextStep.objects.filter(revision=drafts[0]).count() == 45
    assert (
        Need.objects.filter(revision=drafts[0]).count()
        == Need.objects.filter(revision=roadmap_2021).count()
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_starts_of_the_same_year_give_one_draft(
    roadmap_2021, editor, second_editor
):
    results = _start_at_once([(editor, 2022), (second_editor, 2022)])

    assert Revision.objects.filter(status=Revision.Status.DRAFT, year=2022).count() == 1
    assert Revision.objects.count() == 2
    refused = [r for r in results.values() if not isinstance(r, Revision)]
    assert len(refused) == 1
    assert isinstance(refused[0], ValidationError), repr(refused[0])
    # Either rule may be the one that stops it; both say why.
    assert refused[0].messages in (
        [_sv(DRAFT_EXISTS)],
        [_sv("There is already a revision for %(year)s.") % {"year": 2022}],
    )
