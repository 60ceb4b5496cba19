"""export_roadmap: one revision with every item, as JSON or CSV."""

import csv
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from roadmap.selectors import EXPORT_CSV_COLUMNS


def _export(tmp_path, fmt: str, year: int = 2021):
    output = tmp_path / f"roadmap.{fmt}"
    call_command(
        "export_roadmap", "--revision", str(year), "--format", fmt, "--output", str(output)
    )
    return output.read_text(encoding="utf-8")


@pytest.fixture
def exported(roadmap_2021, tmp_path) -> dict:
    return json.loads(_export(tmp_path, "json"))


def _items(data, key):
    return [item for fa in data["focus_areas"] for need in fa["needs"] for item in need[key]]


def test_json_has_the_whole_roadmap(exported):
    assert len(exported["focus_areas"]) == 4
    assert [len(fa["needs"]) for fa in exported["focus_areas"]] == [6, 4, 5, 5]
    assert sum(len(fa["needs"]) for fa in exported["focus_areas"]) == 20
    assert len(_items(exported, "next_steps")) == 45
    assert len(_items(exported, "national_initiatives")) == 21
    assert len(_items(exported, "city_actions")) == 56


def test_json_has_the_revision_and_its_decision(exported):
    revision = exported["revision"]
    assert revision["year"] == 2021
    assert revision["status"] == "approved"
    assert revision["decision"]["body"] == "kf"
    assert revision["decision"]["case_number"] == "KS 2021/1462"
    assert revision["decision"]["date"] is None


def test_json_next_steps_have_horizons_and_responsibility(exported):
    for step in _items(exported, "next_steps"):
        assert isinstance(step["horizons"], list)
        assert step["horizons"], step["text"]
        assert set(step["horizons"]) <= {"short", "medium", "long", "ongoing"}
        assert sorted(step["responsible"]["organisations"]) == ["aldrenamnden", "ks"]
        assert step["responsible"]["all_districts"] is True
    for action in _items(exported, "city_actions"):
        assert sorted(action["responsible"]["organisations"]) == ["aldrenamnden", "ks"]
        assert action["responsible"]["all_districts"] is True


def test_json_keeps_order_texts_and_notes(exported):
    first = exported["focus_areas"][0]
    assert first["title"] == "Ändamålsenlig organisation och styrning"
    assert first["needs"][0]["next_steps"][0]["horizons"] == ["medium"]
    assert [s["horizons"] for s in exported["focus_areas"][3]["needs"][4]["next_steps"]] == [
        ["short", "ongoing"],
        ["short", "ongoing"],
    ]
    boende = exported["focus_areas"][2]["needs"][3]["next_steps"][0]
    assert (boende["horizons"], boende["horizon_note"]) == (["ongoing"], "ingår i boendeplan")
    need_2_1 = exported["focus_areas"][1]["needs"][0]
    assert need_2_1["title"] == ""
    assert need_2_1["data_note"]
    # Positions are 1, 2, 3… in every list.
    for fa in exported["focus_areas"]:
        assert [n["position"] for n in fa["needs"]] == list(range(1, len(fa["needs"]) + 1))
    # Every lineage id is unique within the revision.
    ids = [fa["lineage_id"] for fa in exported["focus_areas"]]
    ids += [n["lineage_id"] for fa in exported["focus_areas"] for n in fa["needs"]]
    for key in ("national_initiatives", "city_actions", "next_steps"):
        ids += [i["lineage_id"] for i in _items(exported, key)]
    assert len(ids) == len(set(ids)) == 4 + 20 + 21 + 56 + 45


def test_csv_has_a_header_and_one_row_per_item(roadmap_2021, tmp_path):
    text = _export(tmp_path, "csv")
    rows = list(csv.reader(StringIO(text)))
    assert rows[0] == EXPORT_CSV_COLUMNS
    data = rows[1:]
    assert len(data) == 21 + 56 + 45
    kinds = [row[0] for row in data]
    assert kinds.count("national_initiative") == 21
    assert kinds.count("city_action") == 56
    assert kinds.count("next_step") == 45


def test_csv_rows_carry_horizons_and_responsibility(roadmap_2021, tmp_path):
    rows = list(csv.DictReader(StringIO(_export(tmp_path, "csv"))))
    steps = [r for r in rows if r["kind"] == "next_step"]
    assert all(r["horizons"] for r in steps)
    assert {r["responsible_organisations"] for r in steps} in (
        {"aldrenamnden;ks"},
        {"ks;aldrenamnden"},
    )
    assert {r["all_districts"] for r in steps} == {"True"}
    long_step = next(r for r in steps if r["text"].startswith("En stadsgemensam översyn"))
    assert long_step["text"].endswith("antalet medarbetare per chef.")
    assert (long_step["focus_area_position"], long_step["need_position"]) == ("1", "6")
    national = [r for r in rows if r["kind"] == "national_initiative"]
    assert {r["horizons"] for r in national} == {""}


def test_export_to_standard_output(roadmap_2021):
    out = StringIO()
    call_command("export_roadmap", "--revision", "2021", stdout=out)
    data = json.loads(out.getvalue())
    assert len(data["focus_areas"]) == 4


def test_csv_export_to_standard_output(roadmap_2021):
    out = StringIO()
    call_command("export_roadmap", "--revision", "2021", "--format", "csv", stdout=out)
    rows = list(csv.DictReader(StringIO(out.getvalue())))
    assert len(rows) == 21 + 56 + 45


def test_unknown_revision_year_is_an_error(roadmap_2021, tmp_path):
    output = tmp_path / "none.json"
    with pytest.raises(CommandError):
        call_command("export_roadmap", "--revision", "1999", "--output", str(output))
    assert not output.exists()


def test_unknown_format_is_an_error(roadmap_2021):
    with pytest.raises(CommandError):
        call_command("export_roadmap", "--revision", "2021", "--format", "xml")
