"""Reads that span the roadmap tree. Prefetching is decided here, once."""

from typing import Any

from django.db.models import Prefetch

from .models import CityAction, FocusArea, NationalInitiative, Need, NextStep, Revision


def revision_current() -> Revision | None:
    return Revision.objects.select_related("decision_body", "based_on").current()


def revision_tree(*, revision: Revision, include_retired: bool = False) -> list[FocusArea]:
    """The revision's focus areas with needs and all their items, in order.
    Retired items are left out unless asked for.

    A fixed number of queries, whatever the size of the roadmap.
    """

    def rows(model):
        qs = model.objects.order_by("position")
        return qs if include_retired else qs.active()

    needs = rows(Need).prefetch_related(
        Prefetch("national_initiatives", queryset=rows(NationalInitiative)),
        Prefetch(
            "city_actions",
            queryset=rows(CityAction).prefetch_related("responsible_organisations"),
        ),
        Prefetch(
            "next_steps",
            queryset=rows(NextStep).prefetch_related("horizons", "responsible_organisations"),
        ),
    )
    return list(
        rows(FocusArea)
        .filter(revision=revision)
        .prefetch_related(Prefetch("needs", queryset=needs))
    )


def _common(item) -> dict[str, Any]:
    return {
        "lineage_id": str(item.lineage_id),
        "position": item.position,
        "data_note": item.data_note,
        "retired": item.retired,
        "change_reason": item.change_reason,
    }


def _responsibility(item: CityAction | NextStep) -> dict[str, Any]:
    return {
        "organisations": [org.code for org in item.responsible_organisations.all()],
        "all_districts": item.all_districts,
    }


def revision_export_data(*, revision: Revision) -> dict[str, Any]:
    """The whole revision as plain data (the JSON export's shape, see README)."""
    focus_areas = []
    for fa in revision_tree(revision=revision, include_retired=True):
        needs = []
        for need in fa.needs.all():
            needs.append(
                {
                    **_common(need),
                    "title": need.title,
                    "national_initiatives": [
                        {
                            **_common(item),
                            "text": item.text,
                        }
                        for item in need.national_initiatives.all()
                    ],
                    "city_actions": [
                        {
                            **_common(item),
                            "text": item.text,
                            "responsible": _responsibility(item),
                        }
                        for item in need.city_actions.all()
                    ],
                    "next_steps": [
                        {
                            **_common(item),
                            "text": item.text,
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
                **_common(fa),
                "title": fa.title,
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
    "retired",
    "change_reason",
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
                            "retired": item["retired"],
                            "change_reason": item["change_reason"],
                            "lineage_id": item["lineage_id"],
                        }
                    )
    return rows


def next_steps_with_due_year(*, revision: Revision) -> list[NextStep]:
    """The revision's active next steps, each with ``due`` set to its due year
    (None for lång sikt and löpande), with need and focus area loaded."""
    steps = list(
        NextStep.objects.active()
        .filter(revision=revision, need__retired=False, need__focus_area__retired=False)
        .select_related("need", "need__focus_area")
        .prefetch_related("horizons", "responsible_organisations")
        .order_by("need__focus_area__position", "need__position", "position")
    )
    for step in steps:
        step.due = step.due_year()
    return steps


def next_steps_overdue(*, revision: Revision, as_of_year: int) -> list[NextStep]:
    """Next steps whose due year has passed by ``as_of_year``: a kort sikt step
    set in 2021 is due by the end of 2022, so it is overdue from 2023 on."""
    return [
        step
        for step in next_steps_with_due_year(revision=revision)
        if step.due is not None and step.due < as_of_year
    ]
