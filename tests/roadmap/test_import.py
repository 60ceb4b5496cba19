"""Importing a roadmap document: the whole document is checked before anything
is written, bad rows are named in Swedish, and the rows are written in bulk,
at a cost that does not grow with the size of the roadmap."""

import copy
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from roadmap.models import (
    CityAction,
    FocusArea,
    NextStep,
    Organisation,
    Revision,
    RevisionEvent,
    TimeHorizon,
)
from roadmap.services import roadmap_import, roadmap_import_file

FIXTURE = Path(settings.BASE_DIR) / "fixtures" / "roadmap_2021.yaml"
REASON = "Import av Färdplan för äldreomsorgens utveckling 2021"


def _document() -> dict:
    return yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))


def _import(data: dict, *, actor=None) -> Revision:
    decision = data["decision"]
    return roadmap_import(
        data=data,
        responsible=decision["responsible"],
        all_districts=decision["all_districts"],
        decision_body=decision["body"],
        case_number=decision["case_number"],
        decision_note=decision["note"],
        actor=actor,
    )


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "roadmap.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _row_counts() -> dict[str, int]:
    """The number of rows of every roadmap table: the models, their history,
    the many-to-many tables and the history of those."""
    return {
        model._meta.db_table: model._default_manager.count()
        for model in apps.get_app_config("roadmap").get_models(include_auto_created=True)
    }


def _refused(path: Path) -> list[str]:
    with pytest.raises(ValidationError) as exc:
        roadmap_import_file(path=path)
    return exc.value.messages


# --- Cost -------------------------------------------------------------------------


def _ten_times(data: dict, *, year: int) -> dict:
    """The document with its focus areas (and so everything under them)
    repeated ten times, for another year."""
    big = copy.deepcopy(data)
    big["revision"]["year"] = year
    big["focus_areas"] = [copy.deepcopy(fa) for _ in range(10) for fa in data["focus_areas"]]
    return big


def test_import_cost_does_not_grow_with_the_roadmap(reference_data, django_assert_max_num_queries):
    data = _document()
    with django_assert_max_num_queries(60), CaptureQueriesContext(connection) as once:
        small = _import(data)
    with django_assert_max_num_queries(60), CaptureQueriesContext(connection) as ten_times:
        big = _import(_ten_times(data, year=2031))

    assert len(once) == len(ten_times)
    assert NextStep.objects.filter(revision=small).count() == 45
    assert NextStep.objects.filter(revision=big).count() == 450
    assert CityAction.objects.filter(revision=big).count() == 560
    assert FocusArea.objects.filter(revision=big).count() == 40
    # The many-to-many rows and their history came along.
    assert NextStep.horizons.through.objects.filter(nextstep__revision=big).count() == 500
    history = apps.get_model("roadmap", "HistoricalNextStep_horizons")
    assert history.objects.filter(nextstep__revision=big).count() == 500


# --- What an import leaves -----------------------------------------------------------


def test_each_row_has_one_creation_record_with_its_final_state(reference_data, editor):
    revision = roadmap_import_file(path=FIXTURE, actor=editor)

    steps = NextStep.objects.filter(revision=revision).prefetch_related(
        "horizons", "responsible_organisations"
    )
    for step in steps:
        (record,) = step.history.all()
        assert (record.history_type, record.history_user, record.history_change_reason) == (
            "+",
            editor,
            REASON,
        )
        assert record.horizon_set_year == step.horizon_set_year == 2021
        assert sorted(r.timehorizon_id for r in record.horizons.all()) == sorted(
            h.pk for h in step.horizons.all()
        )
        assert sorted(r.organisation.code for r in record.responsible_organisations.all()) == [
            "aldrenamnden",
            "ks",
        ]
    action = CityAction.objects.filter(revision=revision).first()
    (record,) = action.history.all()
    assert sorted(r.organisation.code for r in record.responsible_organisations.all()) == [
        "aldrenamnden",
        "ks",
    ]


def test_import_approves_the_revision_with_one_event(reference_data, editor):
    revision = roadmap_import_file(path=FIXTURE, actor=editor)
    revision.refresh_from_db()
    assert revision.status == Revision.Status.APPROVED
    assert (revision.decision_body.code, revision.case_number) == ("kf", "KS 2021/1462")
    assert revision.decision_note.startswith("Kommunstyrelsens förslag")
    assert list(revision.history.order_by("history_id").values_list("history_type", "status")) == [
        ("+", Revision.Status.IN_REVIEW),
        ("~", Revision.Status.APPROVED),
    ]
    (event,) = RevisionEvent.objects.filter(revision=revision)
    assert (event.kind, event.from_status, event.to_status, event.actor, event.comment) == (
        RevisionEvent.Kind.APPROVED,
        "",
        Revision.Status.APPROVED,
        editor,
        REASON,
    )


# --- Refused documents ----------------------------------------------------------------


@pytest.fixture
def document_2022(roadmap_2021) -> dict:
    """The 2021 document as next year's, on top of the loaded 2021 roadmap,
    so that "nothing changed" is checked against a database with content."""
    data = _document()
    data["revision"]["year"] = 2022
    return data


def test_unknown_horizon_is_refused_naming_the_row(document_2022, tmp_path):
    document_2022["focus_areas"][1]["needs"][2]["next_steps"][0]["horizons"] = ["short", "xyz"]
    before = _row_counts()

    messages = _refused(_write(tmp_path, document_2022))

    assert messages == ["Fokusområde 2, behov 3, nästa steg 1: okänd tidshorisont ”xyz”."]
    assert _row_counts() == before


def test_next_step_without_horizon_is_refused(document_2022, tmp_path):
    del document_2022["focus_areas"][3]["needs"][4]["next_steps"][1]["horizons"]
    before = _row_counts()

    messages = _refused(_write(tmp_path, document_2022))

    assert messages == ["Fokusområde 4, behov 5, nästa steg 2: tidshorisont saknas."]
    assert _row_counts() == before


@pytest.mark.parametrize(
    ("kind", "place"),
    [
        ("national_initiatives", "nationell insats 1"),
        ("city_actions", "insats i staden 2"),
        ("next_steps", "nästa steg 3"),
    ],
)
def test_empty_text_is_refused_naming_the_row(document_2022, tmp_path, kind, place):
    position = int(place.split()[-1])
    document_2022["focus_areas"][0]["needs"][0][kind][position - 1]["text"] = "   "
    before = _row_counts()

    messages = _refused(_write(tmp_path, document_2022))

    assert messages == [f"Fokusområde 1, behov 1, {place}: texten är tom."]
    assert _row_counts() == before


def test_unknown_organisation_is_refused(document_2022, tmp_path):
    document_2022["decision"]["responsible"].append("okand-namnd")
    before = _row_counts()

    messages = _refused(_write(tmp_path, document_2022))

    assert messages == ["Beslutet: okänd ansvarig organisation ”okand-namnd”."]
    assert _row_counts() == before


def test_every_bad_row_gets_its_own_message(document_2022, tmp_path):
    document_2022["revision"]["year"] = 2021
    document_2022["decision"]["body"] = "riksdagen"
    document_2022["focus_areas"][2]["title"] = ""
    document_2022["focus_areas"][0]["needs"][1]["city_actions"][0]["text"] = ""
    document_2022["focus_areas"][3]["needs"][0]["next_steps"][0]["horizons"] = ["snart"]
    before = _row_counts()

    messages = _refused(_write(tmp_path, document_2022))

    assert messages == [
        "Det finns redan en revidering för 2021.",
        "Beslutet: okänt beslutande organ ”riksdagen”.",
        "Fokusområde 1, behov 2, insats i staden 1: texten är tom.",
        "Fokusområde 3: rubriken är tom.",
        "Fokusområde 4, behov 1, nästa steg 1: okänd tidshorisont ”snart”.",
    ]
    assert _row_counts() == before


def test_too_long_values_are_refused_with_a_message_not_a_database_error(document_2022, tmp_path):
    document_2022["focus_areas"][0]["title"] = "x" * 301
    document_2022["focus_areas"][0]["needs"][0]["next_steps"][0]["horizon_note"] = "y" * 201
    document_2022["decision"]["case_number"] = "Dnr " * 20
    before = _row_counts()

    messages = _refused(_write(tmp_path, document_2022))

    assert len(messages) == 3
    assert messages[0].startswith("Revideringen: diarienummer (Dnr): ")
    assert messages[1].startswith("Fokusområde 1: rubrik: ")
    assert messages[2].startswith(
        "Fokusområde 1, behov 1, nästa steg 1: anmärkning om tidshorisont: "
    )
    assert all("som mest" in m for m in messages), messages
    assert _row_counts() == before


def test_need_without_title_or_data_note_is_refused(document_2022, tmp_path):
    need = document_2022["focus_areas"][1]["needs"][0]
    need["title"], need["data_note"] = "", ""
    before = _row_counts()

    messages = _refused(_write(tmp_path, document_2022))

    assert len(messages) == 1
    assert messages[0].startswith("Fokusområde 2, behov 1: rubrik: ")
    assert _row_counts() == before


def test_a_file_that_is_not_a_roadmap_is_refused(reference_data, tmp_path):
    path = tmp_path / "roadmap.yaml"
    path.write_text("- bara\n- en lista\n", encoding="utf-8")
    assert _refused(path) == ["Filen är inget färdplansdokument."]
    path.write_text("revision: [oavslutad\n", encoding="utf-8")
    assert _refused(path)[0].startswith("Filen går inte att läsa som YAML: ")
    assert Revision.objects.count() == 0


# --- The command ----------------------------------------------------------------------


def test_load_roadmap_shows_the_messages_of_a_bad_file(document_2022, tmp_path):
    document_2022["focus_areas"][1]["needs"][2]["next_steps"][0]["horizons"] = ["xyz"]
    document_2022["focus_areas"][0]["needs"][0]["city_actions"][1]["text"] = ""
    path = _write(tmp_path, document_2022)
    before = _row_counts()

    with pytest.raises(CommandError) as exc:
        call_command("load_roadmap", str(path), stdout=StringIO())

    assert str(exc.value).splitlines() == [
        "Fokusområde 1, behov 1, insats i staden 2: texten är tom.",
        "Fokusområde 2, behov 3, nästa steg 1: okänd tidshorisont ”xyz”.",
    ]
    assert _row_counts() == before


@pytest.mark.django_db
def test_load_roadmap_loads_the_reference_data_first_and_runs_once():
    call_command("load_roadmap", stdout=StringIO())
    assert Revision.objects.get().year == 2021
    counts = _row_counts()

    out = StringIO()
    call_command("load_roadmap", stdout=out)

    assert "already loaded" in out.getvalue()
    assert _row_counts() == counts


@pytest.mark.django_db
def test_load_roadmap_on_an_empty_database_costs_at_most_60_queries(
    django_assert_max_num_queries,
):
    """The whole command, as a new installation runs it: the reference data
    (time horizons and organisations, absent here) and the 2021 roadmap."""
    Organisation.objects.all().delete()
    TimeHorizon.objects.all().delete()

    with django_assert_max_num_queries(60):
        call_command("load_roadmap", stdout=StringIO())

    assert Organisation.objects.filter(code="bromma").exists()
    assert TimeHorizon.objects.count() == 4
    assert NextStep.objects.filter(revision__year=2021).count() == 45
