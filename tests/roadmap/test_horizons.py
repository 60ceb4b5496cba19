"""The year a step's time horizons were set, the due year that follows from it,
and the overdue steps."""

import datetime
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.urls import reverse

from roadmap.models import NextStep, Organisation, TimeHorizon
from roadmap.selectors import next_steps_overdue
from roadmap.services import revision_approve, revision_start, revision_submit
from tests.factories import NextStepFactory, RevisionFactory
from tests.helpers import change_form_data

FIXTURE = Path(settings.BASE_DIR) / "fixtures" / "roadmap_2021.yaml"


def _horizons(*codes: str) -> list[TimeHorizon]:
    return [TimeHorizon.objects.get(code=code) for code in codes]


def _codes(step: NextStep) -> list[str]:
    return sorted(step.horizons.values_list("code", flat=True))


def _draft_step(draft, lineage_id) -> NextStep:
    return NextStep.objects.get(revision=draft, lineage_id=lineage_id)


# --- horizon_set_year -----------------------------------------------------------------


def test_imported_steps_have_their_horizons_set_in_2021(roadmap_2021):
    years = set(
        NextStep.objects.filter(revision=roadmap_2021).values_list("horizon_set_year", flat=True)
    )
    assert years == {2021}


def test_a_copy_keeps_the_year(roadmap_2021, draft_2022):
    copies = NextStep.objects.filter(revision=draft_2022)
    assert copies.count() == 45
    assert set(copies.values_list("horizon_set_year", flat=True)) == {2021}


def test_retiming_in_the_draft_sets_the_drafts_year_and_back_gives_the_old_one(
    roadmap_2021, draft_2022
):
    original = NextStep.objects.filter(revision=roadmap_2021, horizons__code="medium").first()
    old_codes = _codes(original)
    step = _draft_step(draft_2022, original.lineage_id)

    step.horizons.set(_horizons("short"))
    step.refresh_from_db()
    assert step.horizon_set_year == 2022

    # A change of anything else leaves the year alone.
    step.text = "Ny formulering"
    step.save()
    step.refresh_from_db()
    assert step.horizon_set_year == 2022

    # Back to the horizons it had: they count from 2021 again.
    step.horizons.set(_horizons(*old_codes))
    step.refresh_from_db()
    assert step.horizon_set_year == 2021
    # Adding an ongoing horizon beside it is a re-timing too.
    step.horizons.add(*_horizons("ongoing"))
    step.refresh_from_db()
    assert step.horizon_set_year == 2022
    # The approved 2021 step is untouched.
    original.refresh_from_db()
    assert (original.horizon_set_year, _codes(original)) == (2021, old_codes)


def test_retiming_through_the_admin_sets_the_drafts_year(draft_2022, editor, client_for):
    step = NextStep.objects.filter(revision=draft_2022, horizons__code="medium").first()
    client = client_for(editor)
    url = reverse("admin:roadmap_nextstep_change", args=[step.pk])
    data = change_form_data(client.get(url))
    data["horizons"] = [str(h.pk) for h in _horizons("long")]
    assert client.post(url, data).status_code == 302
    step.refresh_from_db()
    assert (_codes(step), step.horizon_set_year) == (["long"], 2022)


def test_a_new_step_in_the_draft_has_the_drafts_year(draft_2022):
    need = draft_2022.focus_areas.get(position=1).needs.get(position=1)
    step = NextStepFactory(need=need, position=99, horizons=_horizons("medium"))
    step.refresh_from_db()
    assert step.horizon_set_year == 2022


def test_the_year_carries_over_from_the_revision_that_set_it(
    roadmap_2021, draft_2022, editor, approver
):
    retimed, untouched = NextStep.objects.filter(revision=draft_2022).order_by("pk")[:2]
    retimed.horizons.set(_horizons("long"))
    revision_submit(revision=draft_2022, actor=editor)
    revision_approve(
        revision=draft_2022,
        actor=approver,
        decision_body=Organisation.objects.get(code="kf"),
        decision_date=datetime.date(2022, 11, 30),
        case_number="KS 2022/1",
    )
    draft_2023 = revision_start(actor=editor, year=2023)
    assert _draft_step(draft_2023, retimed.lineage_id).horizon_set_year == 2022
    assert _draft_step(draft_2023, untouched.lineage_id).horizon_set_year == 2021


# --- due_year -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("codes", "years_after"),
    [
        (["short"], 1),
        (["medium"], 3),
        (["long"], None),
        (["ongoing"], None),
        (["short", "ongoing"], 1),
        (["medium", "ongoing"], 3),
        (["short", "medium"], 1),
        (["long", "ongoing"], None),
    ],
    ids=lambda v: "+".join(v) if isinstance(v, list) else str(v),
)
def test_due_year(reference_data, codes, years_after):
    step = NextStepFactory(need__focus_area__revision=RevisionFactory(year=2030))
    step.horizons.set(_horizons(*codes))
    step.refresh_from_db()
    assert step.horizon_set_year == 2030
    assert step.due_year() == (None if years_after is None else 2030 + years_after)


def test_due_year_counts_from_the_year_the_horizon_was_set(roadmap_2021, draft_2022):
    """A short step copied unchanged into 2022 was due in 2022, not 2023."""
    step = NextStep.objects.filter(revision=draft_2022, horizons__code="short").first()
    assert step.due_year() == 2022
    step.horizons.set(_horizons("medium"))
    step.refresh_from_db()
    assert step.due_year() == 2025


def test_no_year_no_due_year(reference_data):
    step = NextStepFactory()
    NextStep.objects.filter(pk=step.pk).update(horizon_set_year=None)
    step.refresh_from_db()
    assert step.due_year() is None


# --- Overdue steps --------------------------------------------------------------------

# Years after the year set until due, as the 2021 decision defines the horizons.
YEARS_UNTIL_DUE = {"short": 1, "medium": 3, "long": None, "ongoing": None}


def _expected_overdue(as_of_year: int) -> list[str]:
    """The texts of the 2021 steps overdue in ``as_of_year``, worked out from
    the source document itself."""
    data = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))
    texts = []
    for focus_area in data["focus_areas"]:
        for need in focus_area["needs"]:
            for step in need.get("next_steps") or []:
                offsets = [YEARS_UNTIL_DUE[c] for c in step["horizons"]]
                offsets = [o for o in offsets if o is not None]
                if offsets and 2021 + min(offsets) < as_of_year:
                    texts.append(step["text"])
    return texts


@pytest.mark.parametrize(
    ("as_of_year", "count"),
    # 2023: the 22 steps with kort sikt (18 alone, 4 with löpande);
    # 2025: also the 7 with medellång sikt (6 alone, 1 with löpande).
    [(2021, 0), (2022, 0), (2023, 22), (2024, 22), (2025, 29), (2040, 29)],
)
def test_overdue_steps_of_the_2021_roadmap(roadmap_2021, as_of_year, count):
    expected = _expected_overdue(as_of_year)
    assert len(expected) == count
    overdue = next_steps_overdue(revision=roadmap_2021, as_of_year=as_of_year)
    assert [step.text for step in overdue] == expected
    assert all(step.due < as_of_year for step in overdue)


def test_overdue_in_the_draft_follows_retiming_and_retirement(draft_2022):
    overdue = next_steps_overdue(revision=draft_2022, as_of_year=2023)
    assert len(overdue) == 22
    retimed = next(s for s in overdue if [h.code for h in s.horizons.all()] == ["short"])
    retired = next(s for s in overdue if s.pk != retimed.pk)
    # Re-timed to kort sikt again in 2022: due 2023, so not overdue in 2023.
    retimed.horizons.set(_horizons("medium"))
    retimed.horizons.set(_horizons("short"))
    assert NextStep.objects.get(pk=retimed.pk).horizon_set_year == 2021
    retimed.horizons.set(_horizons("short", "ongoing"))
    assert NextStep.objects.get(pk=retimed.pk).horizon_set_year == 2022
    retired.retired = True
    retired.change_reason = "Genomfört."
    retired.save()

    overdue_pks = {s.pk for s in next_steps_overdue(revision=draft_2022, as_of_year=2023)}
    assert len(overdue_pks) == 20
    assert retimed.pk not in overdue_pks
    assert retired.pk not in overdue_pks
    later = {s.pk for s in next_steps_overdue(revision=draft_2022, as_of_year=2024)}
    assert retimed.pk in later
