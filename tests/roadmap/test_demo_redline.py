"""The redline of the example 2025 draft (seed_demo) against the 2021 roadmap.

The expected output below was checked by hand against the changes that
roadmap/demo.py makes, one by one: two steps added under digitalisation, one
text extended, one step retired, one re-timed and one moved.
"""

import csv
import io

import pytest
from django.utils.translation import gettext

from roadmap.demo import demo_draft_build

FA1 = "Ändamålsenlig organisation och styrning"
FA4 = "En kvalitativ och värdig omsorg med ett gott bemötande"
DIGITAL = "Digitalisering och välfärdsteknik"
DEMO = "Demodata (exempel). "

TRYGGHETSLARM = (
    "Framtidssäkra trygghetslarm: Alla trygghetslarm måste från slutet av år 2025 "
    "klara av 4G nätet då 2G nätet stänger ner."
)
NYCKELFRI = (
    "Nyckelfri hemtjänst: Processen för återlämning och återbruk av tekniska komponenter "
    "behöver ses över och effektiviseras för att kunna säkerställa en ekonomisk och "
    "hållbar verksamhet."
)
SAMMANHALLEN = "Sammanhållen digitaliseringsutveckling med gemensamma lösningar"
MAT = "Förbättra samverkan med regionen när det gäller mat och måltider"


def expected_rows() -> list[dict[str, str]]:
    moved = gettext("from: %(old)s to: %(new)s") % {
        "old": "God och nära vård",
        "new": "Förebyggande insatser",
    }
    return [
        {
            "kind": "removed",
            "item_type": "next_step",
            "focus_area": FA1,
            "need": "Ändamålsenlig hälso- och sjukvårdsorganisation",
            "old_text": "Se över behov av antal MAR i staden",
            "new_text": "",
            "details": "",
            "reason": DEMO + "Steget utgår: översynen är genomförd.",
        },
        {
            "kind": "retimed",
            "item_type": "next_step",
            "focus_area": FA4,
            "need": "God och nära vård",
            "old_text": "Införa mobil röntgen",
            "new_text": "Införa mobil röntgen",
            "details": "Medellång sikt → Lång sikt",
            "reason": DEMO + "Införandet kräver en överenskommelse med Region Stockholm "
            "och flyttas till lång sikt.",
        },
        {
            "kind": "moved",
            "item_type": "next_step",
            "focus_area": FA4,
            "need": "Förebyggande insatser",
            "old_text": MAT,
            "new_text": MAT,
            "details": moved,
            "reason": DEMO + "Samlas med behovets övriga steg om mat och måltider.",
        },
        {
            "kind": "changed",
            "item_type": "next_step",
            "focus_area": FA4,
            "need": DIGITAL,
            "old_text": SAMMANHALLEN,
            "new_text": SAMMANHALLEN
            + " enligt den stadsövergripande digitaliseringsplanen för äldreomsorgen",
            "details": "",
            "reason": DEMO + "Nämnden har tagit fram en stadsövergripande "
            "digitaliseringsplan för äldreomsorgen (budgetunderlag 2025).",
        },
        {
            "kind": "added",
            "item_type": "next_step",
            "focus_area": FA4,
            "need": DIGITAL,
            "old_text": "",
            "new_text": TRYGGHETSLARM,
            "details": "",
            "reason": DEMO + "Äldrenämndens budgetunderlag 2025: utbytet av trygghetslarm "
            "behöver genomföras under år 2025.",
        },
        {
            "kind": "added",
            "item_type": "next_step",
            "focus_area": FA4,
            "need": DIGITAL,
            "old_text": "",
            "new_text": NYCKELFRI,
            "details": "",
            "reason": DEMO + "Äldrenämndens budgetunderlag 2025: breddinförandet av "
            "nyckelfri hemtjänst har avslutats och tjänsten ska förvaltas.",
        },
    ]


@pytest.fixture
def demo_draft(roadmap_2021, editor):
    return demo_draft_build(actor=editor)


def test_demo_redline_csv_is_the_hand_checked_output(demo_draft, editor, client_for):
    response = client_for(editor).get(f"/revisioner/{demo_draft.year}/jamforelse.csv")

    assert response.status_code == 200
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert [{k: v for k, v in row.items() if k != "lineage_id"} for row in rows] == (
        expected_rows()
    )
    # The lineage id is the 2021 item's for everything but the added steps.
    assert all(len(row["lineage_id"]) == 36 for row in rows)


def test_demo_redline_page_shows_every_change_with_its_reason(demo_draft, editor, client_for):
    response = client_for(editor).get(f"/revisioner/{demo_draft.year}/jamforelse/")

    assert response.status_code == 200
    html = response.content.decode()
    for row in expected_rows():
        if row["kind"] != "changed":  # a changed text is shown as a word diff
            assert (row["new_text"] or row["old_text"]) in html
        assert row["reason"] in html
    for label in ("Added", "Removed", "Changed", "Moved", "Re-timed"):
        assert gettext(label) in html
    # The word diff marks the inserted words as inserted, in text as well.
    inserted = (
        f'<ins><span class="visually-hidden">{gettext("Inserted text:")} </span>'
        "enligt den stadsövergripande digitaliseringsplanen för äldreomsorgen"
    )
    assert f"{SAMMANHALLEN} {inserted}" in html


def test_demo_redline_summary(demo_draft):
    from roadmap.redline import revision_compare

    summary = {str(kind): count for kind, count in revision_compare(new=demo_draft).summary.items()}
    assert summary == {
        "added": 2,
        "removed": 1,
        "changed": 1,
        "moved": 1,
        "retimed": 1,
        "responsibility": 0,
    }
