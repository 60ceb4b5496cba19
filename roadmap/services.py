"""Writes to the roadmap. Views, the admin and commands call these."""

import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F

from .models import (
    CityAction,
    FocusArea,
    NationalInitiative,
    Need,
    NextStep,
    Organisation,
    Revision,
    TimeHorizon,
)

# Lineage ids of imported revisions are derived from the item's place in the
# source document, so that every installation gives the 2021 items the same ids.
LINEAGE_NAMESPACE = uuid.UUID("6f1c1f5e-5a43-4c39-9d0c-6a0f3f8f2021")

# Rows are moved here while positions are rearranged, to keep positions unique.
_TEMPORARY_POSITION_OFFSET = 1_000_000_000


def positions_make_room(
    *, changed: Sequence[models.Model], deleted: Sequence[models.Model]
) -> None:
    """Move rows whose position is about to change, or that are about to be
    deleted, to temporary positions, so that the rows can then be saved in any
    order (e.g. two rows swapping places) without breaking the unique
    (parent, position) constraint.

    The interim values are written with ``update()`` on purpose: they are an
    implementation detail, and the final ``save()`` of each row records the
    real change in its history.
    """
    for instances in (changed, deleted):
        by_model: dict[type[models.Model], list[Any]] = {}
        for instance in instances:
            by_model.setdefault(type(instance), []).append(instance.pk)
        for model, pks in by_model.items():
            model._default_manager.filter(pk__in=pks).update(
                position=F("id") + _TEMPORARY_POSITION_OFFSET
            )


def _lineage(year: int, *path: object) -> uuid.UUID:
    return uuid.uuid5(LINEAGE_NAMESPACE, f"{year}:" + "/".join(str(p) for p in path))


def _save(instance: models.Model, *, actor: AbstractBaseUser | None, reason: str) -> None:
    instance.full_clean()
    instance._history_user = actor  # type: ignore[attr-defined]
    instance._change_reason = reason  # type: ignore[attr-defined]
    instance.save()


def roadmap_import(
    *,
    data: dict[str, Any],
    responsible: Sequence[str],
    all_districts: bool,
    decision_body: str,
    case_number: str,
    decision_note: str,
    actor: AbstractBaseUser | None = None,
) -> Revision:
    """Create an approved revision from the nested data of a roadmap document
    (the shape of ``fixtures/roadmap_2021.yaml``), in one transaction.

    ``responsible`` (organisation codes) and ``all_districts`` are recorded on
    every city action and next step: the decision assigns the roadmap as a whole.
    """
    rev = data["revision"]
    year = int(rev["year"])
    if Revision.objects.filter(year=year).exists():
        raise ValidationError(f"Det finns redan en revidering för {year}.")
    horizons = {h.code: h for h in TimeHorizon.objects.all()}
    organisations = list(Organisation.objects.filter(code__in=responsible))
    if len(organisations) != len(set(responsible)):
        missing = set(responsible) - {o.code for o in organisations}
        raise ValidationError(f"Okända organisationer: {', '.join(sorted(missing))}")
    reason = f"Import av {rev['title']} {year}"

    with transaction.atomic():
        revision = Revision(
            year=year,
            title=rev["title"],
            summary=rev.get("summary", ""),
            status=Revision.Status.APPROVED,
            decision_body=Organisation.objects.get(code=decision_body),
            case_number=case_number,
            decision_note=decision_note,
        )
        _save(revision, actor=actor, reason=reason)
        for fa_pos, fa_data in enumerate(data["focus_areas"], start=1):
            fa = FocusArea(
                revision=revision,
                position=fa_pos,
                title=fa_data["title"],
                data_note=fa_data.get("data_note", ""),
                lineage_id=_lineage(year, fa_pos),
            )
            _save(fa, actor=actor, reason=reason)
            for need_pos, need_data in enumerate(fa_data["needs"], start=1):
                need = Need(
                    revision=revision,
                    focus_area=fa,
                    position=need_pos,
                    title=need_data.get("title", ""),
                    data_note=need_data.get("data_note", ""),
                    lineage_id=_lineage(year, fa_pos, need_pos),
                )
                _save(need, actor=actor, reason=reason)
                for kind, model in (
                    ("national_initiatives", NationalInitiative),
                    ("city_actions", CityAction),
                    ("next_steps", NextStep),
                ):
                    for pos, item_data in enumerate(need_data.get(kind) or [], start=1):
                        item = model(
                            revision=revision,
                            need=need,
                            position=pos,
                            text=item_data["text"],
                            data_note=item_data.get("data_note", ""),
                            lineage_id=_lineage(year, fa_pos, need_pos, kind, pos),
                        )
                        if model is NextStep:
                            item.horizon_note = item_data.get("horizon_note", "")
                        if model in (CityAction, NextStep):
                            item.all_districts = all_districts
                        _save(item, actor=actor, reason=reason)
                        if model in (CityAction, NextStep):
                            item.responsible_organisations.set(organisations)
                        if model is NextStep:
                            codes = item_data.get("horizons") or []
                            if not codes:
                                raise ValidationError(
                                    f"Nästa steg saknar tidshorisont: {item_data['text']!r}"
                                )
                            unknown = set(codes) - set(horizons)
                            if unknown:
                                raise ValidationError(
                                    f"Okänd tidshorisont: {', '.join(sorted(unknown))}"
                                )
                            item.horizons.set([horizons[c] for c in codes])
    return revision


def roadmap_import_file(*, path: Path, actor: AbstractBaseUser | None = None) -> Revision:
    """Import a roadmap document in the YAML shape of ``fixtures/``.

    The file's ``decision`` block names the deciding body, the case number and
    who is responsible for the roadmap's actions.
    """
    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    decision = data.get("decision") or {}
    return roadmap_import(
        data=data,
        responsible=decision.get("responsible", []),
        all_districts=bool(decision.get("all_districts", False)),
        decision_body=decision["body"],
        case_number=decision["case_number"],
        decision_note=decision.get("note", ""),
        actor=actor,
    )
