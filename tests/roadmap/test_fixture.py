"""The 2021 roadmap as loaded from fixtures/roadmap_2021.yaml, checked against
the source document (seed 000) and the decision (seed 001)."""

import html
import re
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from roadmap.models import (
    CityAction,
    FocusArea,
    NationalInitiative,
    Need,
    NextStep,
    Organisation,
    Revision,
)

SEEDS = Path(settings.BASE_DIR).parent / "shared" / "seeds"
SOURCE = SEEDS / "000_539a12c46f04964b.txt"
FIXTURE = Path(settings.BASE_DIR) / "fixtures" / "roadmap_2021.yaml"

FOCUS_AREAS = [
    "Ändamålsenlig organisation och styrning",
    "Personal med rätt kompetens och bra arbetsförhållanden",
    "Säkerställa grunduppdraget",
    "En kvalitativ och värdig omsorg med ett gott bemötande",
]

# need number: (national initiatives, city actions, next steps), as in the source.
COUNTS = {
    "1.1": (3, 9, 3),
    "1.2": (1, 2, 3),
    "1.3": (0, 2, 1),
    "1.4": (1, 1, 1),
    "1.5": (0, 2, 1),
    "1.6": (0, 4, 1),
    "2.1": (0, 0, 4),
    "2.2": (4, 4, 3),
    "2.3": (1, 1, 3),
    "2.4": (1, 2, 2),
    "3.1": (1, 1, 2),
    "3.2": (1, 1, 4),
    "3.3": (0, 1, 2),
    "3.4": (0, 4, 1),
    "3.5": (0, 2, 1),
    "4.1": (3, 3, 4),
    "4.2": (1, 7, 3),
    "4.3": (1, 4, 1),
    "4.4": (1, 2, 3),
    "4.5": (2, 4, 2),
}

# The Tidshorisont column of the source, one entry per next step, in order.
# S: kort sikt, M: medellång sikt, L: lång sikt, ON: löpande (ongoing).
S, M, L, ON = "short", "medium", "long", "ongoing"
HORIZONS = {
    "1.1": [[M], [S], [ON]],
    "1.2": [[S], [S], [S]],
    "1.3": [[S]],
    "1.4": [[M, ON]],
    "1.5": [[ON]],
    "1.6": [[S]],
    "2.1": [[ON], [S], [M], [ON]],
    "2.2": [[S], [ON], [ON]],
    "2.3": [[ON], [ON], [S]],
    "2.4": [[ON], [S]],
    "3.1": [[S], [S]],
    "3.2": [[S], [M], [S], [L]],
    "3.3": [[ON], [S]],
    "3.4": [[ON]],
    "3.5": [[M]],
    "4.1": [[ON], [M], [M], [ON]],
    "4.2": [[S], [S, ON], [S, ON]],
    "4.3": [[S]],
    "4.4": [[ON], [ON], [S]],
    "4.5": [[S, ON], [S, ON]],
}


def _needs_by_number(revision: Revision) -> dict[str, Need]:
    needs = Need.objects.filter(revision=revision).select_related("focus_area")
    return {f"{n.focus_area.position}.{n.position}": n for n in needs}


def _all_items(revision: Revision):
    for model in (NationalInitiative, CityAction, NextStep):
        yield from model.objects.filter(revision=revision)


def test_revision_is_approved_with_the_2021_decision(roadmap_2021):
    assert roadmap_2021.year == 2021
    assert roadmap_2021.title == "Färdplan för äldreomsorgens utveckling"
    assert roadmap_2021.status == Revision.Status.APPROVED
    assert roadmap_2021.case_number == "KS 2021/1462"
    assert roadmap_2021.decision_body.code == "kf"
    # The sources give no date for kommunfullmäktige's decision: none is invented.
    assert roadmap_2021.decision_date is None
    assert Revision.objects.current() == roadmap_2021


def test_has_the_four_focus_areas_in_order(roadmap_2021):
    titles = list(
        FocusArea.objects.filter(revision=roadmap_2021)
        .order_by("position")
        .values_list("title", flat=True)
    )
    assert titles == FOCUS_AREAS


def test_focus_areas_have_6_4_5_5_needs(roadmap_2021):
    counts = [
        fa.needs.count()
        for fa in FocusArea.objects.filter(revision=roadmap_2021).order_by("position")
    ]
    assert counts == [6, 4, 5, 5]


def test_every_need_has_the_item_counts_of_the_source(roadmap_2021):
    needs = _needs_by_number(roadmap_2021)
    actual = {
        number: (
            need.national_initiatives.count(),
            need.city_actions.count(),
            need.next_steps.count(),
        )
        for number, need in needs.items()
    }
    assert actual == COUNTS


def test_totals_match_the_source(roadmap_2021):
    assert NationalInitiative.objects.filter(revision=roadmap_2021).count() == 21
    assert CityAction.objects.filter(revision=roadmap_2021).count() == 56
    assert NextStep.objects.filter(revision=roadmap_2021).count() == 45


def test_next_steps_have_the_time_horizons_of_the_source_in_order(roadmap_2021):
    needs = _needs_by_number(roadmap_2021)
    actual = {
        number: [
            list(step.horizons.order_by("position").values_list("code", flat=True))
            for step in need.next_steps.order_by("position")
        ]
        for number, need in needs.items()
    }
    assert actual == HORIZONS


def test_boendeplan_step_is_ongoing_with_its_note(roadmap_2021):
    step = _needs_by_number(roadmap_2021)["3.4"].next_steps.get()
    assert [h.code for h in step.horizons.all()] == ["ongoing"]
    assert step.horizon_note == "ingår i boendeplan"
    assert step.horizon_label() == "Löpande (ingår i boendeplan)"
    # No other step has a horizon note.
    assert NextStep.objects.filter(revision=roadmap_2021).exclude(horizon_note="").count() == 1


def test_horizon_label_joins_several_horizons(roadmap_2021):
    step = _needs_by_number(roadmap_2021)["1.4"].next_steps.get()
    assert step.horizon_label() == "Medellång sikt, löpande"


def test_need_2_1_has_no_title_and_says_why(roadmap_2021):
    need = _needs_by_number(roadmap_2021)["2.1"]
    assert need.title == ""
    assert need.data_note.strip()
    assert "saknas" in need.data_note
    # Every other need has its title.
    assert not Need.objects.filter(revision=roadmap_2021, title="").exclude(pk=need.pk).exists()


def test_texts_cut_by_page_breaks_are_joined(roadmap_2021):
    needs = _needs_by_number(roadmap_2021)
    step = needs["1.6"].next_steps.get()
    assert step.text.startswith("En stadsgemensam översyn")
    assert step.text.endswith("antalet medarbetare per chef.")
    assert "mandat och befogenheter" in step.text
    national = needs["1.1"].national_initiatives.get(position=3)
    assert national.text.endswith(
        "inom hälso- och sjukvård samt socialtjänstens verksamhetsområden äldreomsorg "
        "och funktionsnedsättning."
    )
    assert (
        needs["1.3"]
        .city_actions.get(position=1)
        .text.endswith("kan organiseras inom stadens äldreregionområden")
    )
    assert needs["2.4"].next_steps.get(position=2).text == (
        "Utreda införande av egenanställd bemanningspersonal som har tillsvidareanställning"
    )


def test_source_typos_are_kept(roadmap_2021):
    step = _needs_by_number(roadmap_2021)["1.1"].next_steps.get(position=3)
    assert "infräas" in step.text
    assert NextStep.objects.filter(revision=roadmap_2021, text__contains="infrias").count() == 1


def test_no_text_has_bullets_markup_or_stray_whitespace(roadmap_2021):
    for item in _all_items(roadmap_2021):
        assert item.text == item.text.strip()
        assert "•" not in item.text
        assert "<" not in item.text
        assert "  " not in item.text
        assert "\n" not in item.text


def _clean_source() -> str:
    text = SOURCE.read_text(encoding="utf-8")
    text = re.sub(r"<[^>]*>", " ", text)
    text = html.unescape(text).replace("• ", " ")
    return re.sub(r"\s+", " ", text)


def _occurs_verbatim(text: str, source: str) -> bool:
    """The text occurs as it is, or as two fragments (cut by a page break)
    that each occur as they are and were joined with one space."""
    if text in source:
        return True
    words = text.split(" ")
    return any(
        " ".join(words[:i]) in source and " ".join(words[i:]) in source
        for i in range(1, len(words))
    )


def test_every_text_occurs_verbatim_in_the_source(roadmap_2021):
    if not SOURCE.exists():
        pytest.skip(f"source document not found: {SOURCE}")
    source = _clean_source()
    texts = [fa.title for fa in FocusArea.objects.filter(revision=roadmap_2021)]
    texts += [n.title for n in Need.objects.filter(revision=roadmap_2021) if n.title]
    texts += [item.text for item in _all_items(roadmap_2021)]
    assert len(texts) == 4 + 19 + 21 + 56 + 45
    missing = [t for t in texts if not _occurs_verbatim(t, source)]
    assert missing == []


def test_fidelity_check_rejects_altered_text():
    """The check above can fail: an edited word or a typo 'fixed' is caught."""
    if not SOURCE.exists():
        pytest.skip(f"source document not found: {SOURCE}")
    source = _clean_source()
    assert _occurs_verbatim("Införa mobil röntgen", source)
    assert not _occurs_verbatim("Införa mobil magnetkamera", source)
    assert not _occurs_verbatim(
        "Regelbundet följa upp och analysera om intentionerna i såväl lagstiftning som "
        "regional överenskommelse infrias kring utskrivningsklara patienter från slutenvård",
        source,
    )


def test_responsibility_is_the_decisions_and_nothing_else(roadmap_2021):
    """Decision point 6 assigns the actions to äldrenämnden, the district
    committees and kommunstyrelsen together."""
    expected = {"aldrenamnden", "ks"}
    items = [
        *CityAction.objects.filter(revision=roadmap_2021).prefetch_related(
            "responsible_organisations"
        ),
        *NextStep.objects.filter(revision=roadmap_2021).prefetch_related(
            "responsible_organisations"
        ),
    ]
    assert len(items) == 56 + 45
    for item in items:
        assert {o.code for o in item.responsible_organisations.all()} == expected, item
        assert item.all_districts is True, item
    # No district is named one by one.
    assert not Organisation.objects.districts().filter(city_actions__isnull=False).exists()
    assert not Organisation.objects.districts().filter(next_steps__isnull=False).exists()


SIGNATURE_NAMES = ("Magdalena Bosson", "Alexandra Göransson")


def test_fixture_contains_no_personal_names_or_email_addresses():
    text = FIXTURE.read_text(encoding="utf-8")
    for name in SIGNATURE_NAMES:
        assert name not in text
        for part in name.split():
            assert part not in text
    assert "@" not in text


def test_signature_names_are_really_in_seed_001():
    """Keeps the test above honest: these are the names that must not leak."""
    seed = SEEDS / "001_d512657c9e78f462.txt"
    if not seed.exists():
        pytest.skip(f"source document not found: {seed}")
    text = seed.read_text(encoding="utf-8")
    for name in SIGNATURE_NAMES:
        assert name in text


def test_load_roadmap_twice_creates_no_duplicates(roadmap_2021):
    models = (Revision, FocusArea, Need, NationalInitiative, CityAction, NextStep, Organisation)
    before = {m: m.objects.count() for m in models}
    horizons_before = NextStep.horizons.through.objects.count()
    history_before = NextStep.history.count()
    out = StringIO()
    call_command("load_roadmap", stdout=out)
    assert {m: m.objects.count() for m in models} == before
    assert NextStep.horizons.through.objects.count() == horizons_before
    assert NextStep.history.count() == history_before
    assert "already loaded" in out.getvalue()


def test_lineage_ids_are_the_same_on_every_installation(roadmap_2021):
    """Lineage ids of the import derive from the place in the document."""
    import uuid

    from roadmap.services import LINEAGE_NAMESPACE

    fa = FocusArea.objects.get(revision=roadmap_2021, position=1)
    assert fa.lineage_id == uuid.uuid5(LINEAGE_NAMESPACE, "2021:1")
    step = _needs_by_number(roadmap_2021)["1.6"].next_steps.get()
    assert step.lineage_id == uuid.uuid5(LINEAGE_NAMESPACE, "2021:1/6/next_steps/1")
