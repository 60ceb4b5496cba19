"""Importing a roadmap document (the YAML shape of ``fixtures/``) as an
approved revision."""

import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from ..models import (
    CityAction,
    FocusArea,
    NationalInitiative,
    Need,
    NextStep,
    Organisation,
    Revision,
    RevisionEvent,
    TimeHorizon,
)
from .common import _event, _save

# Lineage ids of imported revisions are derived from the item's place in the
# source document, so that every installation gives the 2021 items the same ids.
LINEAGE_NAMESPACE = uuid.UUID("6f1c1f5e-5a43-4c39-9d0c-6a0f3f8f2021")


def _lineage(year: int, *path: object) -> uuid.UUID:
    return uuid.uuid5(LINEAGE_NAMESPACE, f"{year}:" + "/".join(str(p) for p in path))


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
        # Built in review, then approved: an approved revision accepts no content.
        revision = Revision(
            year=year,
            title=rev["title"],
            summary=rev.get("summary", ""),
            status=Revision.Status.IN_REVIEW,
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
        revision.status = Revision.Status.APPROVED
        revision.decision_body = Organisation.objects.get(code=decision_body)
        revision.case_number = case_number
        revision.decision_note = decision_note
        _save(revision, actor=actor, reason=reason)
        _event(
            revision, kind=RevisionEvent.Kind.APPROVED, from_status="", actor=actor, comment=reason
        )
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
