"""Bulk builders for large synthetic roadmaps (the 10× data of the query-count
tests): a few dozen queries for thousands of rows, where the factories would
save, guard and record every row one by one.

The rows are what the factories would make (same texts, history rows with
``bulk_create_with_history``), with the links (horizons, responsible
organisations) inserted into the through tables directly.
"""

from collections.abc import Callable, Sequence

from simple_history.utils import bulk_create_with_history

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

BATCH = 500


def _create(model, rows: list) -> list:
    return bulk_create_with_history(rows, model, batch_size=BATCH) if rows else []


def _link(field, items: Sequence, targets: Sequence) -> None:
    through = field.remote_field.through
    item_fk = field.m2m_field_name() + "_id"
    target_fk = field.m2m_reverse_field_name() + "_id"
    through.objects.bulk_create(
        [
            through(**{item_fk: item.pk, target_fk: target.pk})
            for item in items
            for target in targets
        ],
        batch_size=BATCH,
    )


def build_tree(
    revision: Revision,
    *,
    focus_areas: int,
    needs: int,
    initiatives: int = 0,
    city_actions: int = 0,
    next_steps: int = 0,
    horizons: Sequence[TimeHorizon] = (),
    organisations: Sequence[Organisation] = (),
    city_action_organisations: Sequence[Organisation] | None = None,
    all_districts: Callable[[int], bool] = lambda position: False,
    label: str = "",
) -> dict[type, list]:
    """Fill ``revision`` (a draft or in review) with ``focus_areas`` × ``needs``
    needs, each with the given number of national initiatives, city actions and
    next steps at positions 1…n. Every next step gets ``horizons`` (default:
    short), every city action and next step ``organisations`` (city actions
    ``city_action_organisations`` where given), and every next step
    ``all_districts(position)``.
    Texts are unique: "Nästa steg 3.12.2" is focus area 3, need 12, position 2.
    Returns the created rows by model."""
    horizons = list(horizons) or [TimeHorizon.objects.get(code="short")]
    prefix = f"{label} " if label else ""
    areas = _create(
        FocusArea,
        [
            FocusArea(revision=revision, position=f, title=f"{prefix}Fokusområde {f}")
            for f in range(1, focus_areas + 1)
        ],
    )
    need_rows = _create(
        Need,
        [
            Need(revision=revision, focus_area=area, position=n, title=f"{prefix}Behov {f}.{n}")
            for f, area in enumerate(areas, start=1)
            for n in range(1, needs + 1)
        ],
    )

    def items(model, count: int, text: str, **extra) -> list:
        rows = []
        for index, need in enumerate(need_rows):
            f, n = divmod(index, needs)
            for position in range(1, count + 1):
                row = model(
                    revision=revision,
                    need=need,
                    position=position,
                    text=f"{prefix}{text} {f + 1}.{n + 1}.{position}",
                    **extra,
                )
                if model is NextStep:
                    row.all_districts = all_districts(position)
                rows.append(row)
        return _create(model, rows)

    initiative_rows = items(NationalInitiative, initiatives, "Nationell satsning")
    action_rows = items(CityAction, city_actions, "Åtgärd i staden")
    step_rows = items(NextStep, next_steps, "Nästa steg", horizon_set_year=revision.year)
    _link(NextStep.horizons.field, step_rows, horizons)
    _link(NextStep.responsible_organisations.field, step_rows, organisations)
    _link(
        CityAction.responsible_organisations.field,
        action_rows,
        organisations if city_action_organisations is None else city_action_organisations,
    )
    return {
        FocusArea: areas,
        Need: need_rows,
        NationalInitiative: initiative_rows,
        CityAction: action_rows,
        NextStep: step_rows,
    }
