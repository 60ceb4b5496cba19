"""Reads that span the roadmap tree. Prefetching is decided here, once."""

from typing import Any

from django.db.models import Prefetch

from .models import CityAction, FocusArea, NationalInitiative, Need, NextStep, Revision


def revision_current() -> Revision | None:
    return Revision.objects.select_related("decision_body").current()


def revision_tree(*, revision: Revision) -> list[FocusArea]:
    """The revision's focus areas with needs and all their items, in order.

    A fixed number of queries, whatever the size of the roadmap.
    """
    needs = Need.objects.order_by("position").prefetch_related(
        Prefetch(
            "national_initiatives",
            queryset=NationalInitiative.objects.order_by("position"),
        ),
        Prefetch(
            "city_actions",
            queryset=CityAction.objects.order_by("position").prefetch_related(
                "responsible_organisations"
            ),
        ),
        Prefetch(
            "next_steps",
            queryset=NextStep.objects.order_by("position").prefetch_related(
                "horizons", "responsible_organisations"
            ),
        ),
    )
    return list(
        FocusArea.objects.filter(revision=revision)
        .order_by("position")
        .prefetch_related(Prefetch("needs", queryset=needs))
    )


def _responsibility(item: CityAction | NextStep) -> dict[str, Any]:
    return {
        "organisations": [org.code for org in item.responsible_organisations.all()],
        "all_districts": item.all_districts,
    }


def revision_export_data(*, revision: Revision) -> dict[str, Any]:
    """The whole revision as plain data (the JSON export's shape, see README)."""
    focus_areas = []
    for fa in revision_tree(revision=revision):
        needs = []
        for need in fa.needs.all():
            needs.append(
                {
                    "lineage_id": str(need.lineage_id),
                    "position": need.position,
                    "title": need.title,
                    "data_note": need.data_note,
                    "national_initiatives": [
                        {
                            "lineage_id": str(item.lineage_id),
                            "position": item.position,
                            "text": item.text,
                            "data_note": item.data_note,
                        }
                        for item in need.national_initiatives.all()
                    ],
                    "city_actions": [
                        {
                            "lineage_id": str(item.lineage_id),
                            "position": item.position,
                            "text": item.text,
                            "data_note": item.data_note,
                            "responsible": _responsibility(item),
                        }
                        for item in need.city_actions.all()
                    ],
                    "next_steps": [
                        {
                            "lineage_id": str(item.lineage_id),
                            "position": item.position,
                            "text": item.text,
                            "data_note": item.data_note,
                            "horizons": [h.code for h in item.horizons.all()],
                            "horizon_note": item.horizon_note,
                            "responsible": _responsibility(item),
                        }
                        for item in need.next_steps.all()
                    ],
                }
            )
        focus_areas.append(
            {
                "lineage_id": str(fa.lineage_id),
                "position": fa.position,
                "title": fa.title,
                "data_note": fa.data_note,
                "needs": needs,
            }
        )
    return {
        "revision": {
            "year": revision.year,
            "title": revision.title,
            "status": revision.status,
            "decision": {
                "body": revision.decision_body.code if revision.decision_body else None,
                "date": revision.decision_date.isoformat() if revision.decision_date else None,
                "case_number": revision.case_number,
                "paragraph": revision.decision_paragraph,
                "note": revision.decision_note,
            },
        },
        "focus_areas": focus_areas,
    }


EXPORT_CSV_COLUMNS = [
    "kind",
    "focus_area_position",
    "focus_area",
    "need_position",
    "need",
    "position",
    "text",
    "horizons",
    "horizon_note",
    "responsible_organisations",
    "all_districts",
    "data_note",
    "lineage_id",
]


def revision_export_rows(*, revision: Revision) -> list[dict[str, Any]]:
    """One flat row per national initiative, city action and next step."""
    data = revision_export_data(revision=revision)
    rows = []
    for fa in data["focus_areas"]:
        for need in fa["needs"]:
            for kind, key in (
                ("national_initiative", "national_initiatives"),
                ("city_action", "city_actions"),
                ("next_step", "next_steps"),
            ):
                for item in need[key]:
                    responsible = item.get("responsible", {})
                    rows.append(
                        {
                            "kind": kind,
                            "focus_area_position": fa["position"],
                            "focus_area": fa["title"],
                            "need_position": need["position"],
                            "need": need["title"],
                            "position": item["position"],
                            "text": item["text"],
                            "horizons": ";".join(item.get("horizons", [])),
                            "horizon_note": item.get("horizon_note", ""),
                            "responsible_organisations": ";".join(
                                responsible.get("organisations", [])
                            ),
                            "all_districts": responsible.get("all_districts", ""),
                            "data_note": item["data_note"],
                            "lineage_id": item["lineage_id"],
                        }
                    )
    return rows
