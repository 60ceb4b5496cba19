"""Importing a roadmap document (the YAML shape of ``fixtures/``) as an
approved revision.

The whole document is checked first, without writing anything, so that one
error message per bad row can be given. Only then is it written, in bulk, in
one transaction: a fixed number of queries whatever the size of the roadmap.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext as _

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
from .common import _bulk_create, _bulk_link, _event

# Lineage ids of imported revisions are derived from the item's place in the
# source document, so that every installation gives the 2021 items the same ids.
LINEAGE_NAMESPACE = uuid.UUID("6f1c1f5e-5a43-4c39-9d0c-6a0f3f8f2021")

# The columns of a need: the document's key and the model, in document order.
ITEM_KINDS: tuple[tuple[str, type[models.Model]], ...] = (
    ("national_initiatives", NationalInitiative),
    ("city_actions", CityAction),
    ("next_steps", NextStep),
)


def _lineage(year: int, *path: object) -> uuid.UUID:
    return uuid.uuid5(LINEAGE_NAMESPACE, f"{year}:" + "/".join(str(p) for p in path))


@dataclass
class _ImportPlan:
    """A checked document: unsaved rows, parents assigned, ready to insert."""

    revision: Revision
    reason: str
    decision_body: Organisation
    case_number: str
    decision_note: str
    responsible: list[Organisation]
    focus_areas: list[FocusArea] = field(default_factory=list)
    needs: list[Need] = field(default_factory=list)
    items: dict[type[models.Model], list[Any]] = field(
        default_factory=lambda: {model: [] for _kind, model in ITEM_KINDS}
    )
    # The horizons (pks) of each next step, in the order of items[NextStep].
    horizons: list[list[int]] = field(default_factory=list)


def _item_place(kind: str, number: int) -> str:
    if kind == "national_initiatives":
        return _("national initiative %(number)s") % {"number": number}
    if kind == "city_actions":
        return _("city action %(number)s") % {"number": number}
    return _("next step %(number)s") % {"number": number}


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _rows(value: object, where: str, key: str, errors: list[str]) -> list[Any]:
    """The list under ``key``; a missing list is an empty one."""
    if value is None:
        return []
    if not isinstance(value, list):
        errors.append(
            _("%(where)s: the list “%(key)s” cannot be read.") % {"where": where, "key": key}
        )
        return []
    return value


def _check(
    instance: models.Model, where: str, errors: list[str], *, skip: Sequence[str] = ()
) -> None:
    """Run the model's field validation (lengths, required fields, ranges)
    and its clean(), in memory: relations are left out, as they would cost
    queries and are set by the import itself."""
    exclude = [f.name for f in instance._meta.fields if f.is_relation] + list(skip)
    for validate in (lambda: instance.clean_fields(exclude=exclude), instance.clean):
        try:
            validate()
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                for message in messages:
                    if name == NON_FIELD_ERRORS:
                        errors.append(f"{where}: {message}")
                    else:
                        errors.append(
                            _("%(where)s: %(field)s: %(message)s")
                            % {
                                "where": where,
                                "field": instance._meta.get_field(name).verbose_name,
                                "message": message,
                            }
                        )


def _import_plan(
    *,
    data: dict[str, Any],
    responsible: Sequence[str],
    all_districts: bool,
    decision_body: str,
    case_number: str,
    decision_note: str,
) -> _ImportPlan:
    """Check the whole document and build its rows in memory. Raises one
    ValidationError with a message for every problem found, each naming the
    row. Three queries: the year, the time horizons, the organisations."""
    errors: list[str] = []
    rev = data.get("revision")
    if not isinstance(rev, dict):
        rev = {}
    year: int | None
    try:
        year = int(rev.get("year"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        year = None
        errors.append(_("The revision: the year is missing or is not a year."))
    if year is not None and Revision.objects.filter(year=year).exists():
        errors.append(_("There is already a revision for %(year)s.") % {"year": year})
    horizons = dict(TimeHorizon.objects.values_list("code", "pk"))
    responsible = list(dict.fromkeys(responsible))
    organisations = {
        o.code: o for o in Organisation.objects.filter(code__in=[*responsible, decision_body])
    }

    decision = _("The decision")
    for code in responsible:
        if code not in organisations:
            errors.append(
                _("%(where)s: unknown responsible organisation “%(code)s”.")
                % {"where": decision, "code": code}
            )
    if not decision_body:
        errors.append(_("%(where)s: the deciding body is missing.") % {"where": decision})
    elif decision_body not in organisations:
        errors.append(
            _("%(where)s: unknown deciding body “%(code)s”.")
            % {"where": decision, "code": decision_body}
        )
    case_number = (case_number or "").strip()
    if not case_number:
        errors.append(_("%(where)s: the case number (Dnr) is missing.") % {"where": decision})

    title = _text(rev.get("title"))
    revision = Revision(
        year=year,
        title=title,
        summary=_text(rev.get("summary")),
        status=Revision.Status.IN_REVIEW,
    )
    # The decision is recorded when the revision is approved, at the end of
    # the import; its fields are checked now, on a copy (the rules for an
    # approved revision are checked above, with messages of their own).
    with_decision = Revision(
        year=year,
        title=title,
        summary=revision.summary,
        status=Revision.Status.IN_REVIEW,
        case_number=case_number,
        decision_note=_text(decision_note),
    )
    _check(with_decision, _("The revision"), errors, skip=() if year is not None else ("year",))
    plan = _ImportPlan(
        revision=revision,
        reason=f"Import av {title} {year}",
        decision_body=organisations.get(decision_body),  # type: ignore[arg-type]
        case_number=case_number,
        decision_note=_text(decision_note),
        responsible=[organisations[c] for c in responsible if c in organisations],
    )
    lineage_year = year or 0

    focus_area_rows = _rows(data.get("focus_areas"), _("The document"), "focus_areas", errors)
    if not focus_area_rows:
        errors.append(_("The document has no focus areas."))
    for fa_pos, fa_data in enumerate(focus_area_rows, start=1):
        fa_where = _("Focus area %(number)s") % {"number": fa_pos}
        if not isinstance(fa_data, dict):
            errors.append(_("%(where)s: the row cannot be read.") % {"where": fa_where})
            continue
        fa = FocusArea(
            revision=revision,
            position=fa_pos,
            title=_text(fa_data.get("title")),
            data_note=_text(fa_data.get("data_note")),
            lineage_id=_lineage(lineage_year, fa_pos),
        )
        skip: tuple[str, ...] = ()
        if not fa.title.strip():
            errors.append(_("%(where)s: the title is empty.") % {"where": fa_where})
            skip = ("title",)
        _check(fa, fa_where, errors, skip=skip)
        plan.focus_areas.append(fa)

        for need_pos, need_data in enumerate(
            _rows(fa_data.get("needs"), fa_where, "needs", errors), start=1
        ):
            need_where = ", ".join([fa_where, _("need %(number)s") % {"number": need_pos}])
            if not isinstance(need_data, dict):
                errors.append(_("%(where)s: the row cannot be read.") % {"where": need_where})
                continue
            need = Need(
                revision=revision,
                focus_area=fa,
                position=need_pos,
                title=_text(need_data.get("title")),
                data_note=_text(need_data.get("data_note")),
                lineage_id=_lineage(lineage_year, fa_pos, need_pos),
            )
            _check(need, need_where, errors)
            plan.needs.append(need)

            for kind, model in ITEM_KINDS:
                for pos, item_data in enumerate(
                    _rows(need_data.get(kind), need_where, kind, errors), start=1
                ):
                    where = ", ".join([need_where, _item_place(kind, pos)])
                    if not isinstance(item_data, dict):
                        errors.append(_("%(where)s: the row cannot be read.") % {"where": where})
                        continue
                    item = model(
                        revision=revision,
                        need=need,
                        position=pos,
                        text=_text(item_data.get("text")),
                        data_note=_text(item_data.get("data_note")),
                        lineage_id=_lineage(lineage_year, fa_pos, need_pos, kind, pos),
                    )
                    if model in (CityAction, NextStep):
                        item.all_districts = all_districts
                    if model is NextStep:
                        item.horizon_note = _text(item_data.get("horizon_note"))
                        # What track_horizon_set_year gives a step of a revision
                        # that is based on no other: the revision's year.
                        item.horizon_set_year = year
                        plan.horizons.append(_horizons(item_data, horizons, where, errors))
                    skip = ()
                    if not item.text.strip():
                        errors.append(_("%(where)s: the text is empty.") % {"where": where})
                        skip = ("text",)
                    _check(item, where, errors, skip=skip)
                    plan.items[model].append(item)

    if errors:
        raise ValidationError(errors)
    return plan


def _horizons(
    item_data: dict[str, Any], horizons: dict[str, int], where: str, errors: list[str]
) -> list[int]:
    """The pks of a next step's time horizons, in the order given."""
    codes = item_data.get("horizons") or []
    if isinstance(codes, str):
        codes = [codes]
    if not isinstance(codes, list):
        errors.append(
            _("%(where)s: the list “%(key)s” cannot be read.") % {"where": where, "key": "horizons"}
        )
        return []
    codes = list(dict.fromkeys(_text(c) for c in codes))
    if not codes:
        errors.append(_("%(where)s: no time horizon is given.") % {"where": where})
    for code in codes:
        if code not in horizons:
            errors.append(
                _("%(where)s: unknown time horizon “%(code)s”.") % {"where": where, "code": code}
            )
    return [horizons[c] for c in codes if c in horizons]


def _import_write(plan: _ImportPlan, *, actor: AbstractBaseUser | None) -> Revision:
    """Insert the checked rows level by level, with their history: a fixed
    number of queries. Call inside a transaction."""
    reason = plan.reason
    # Built in review, then approved: an approved revision accepts no content.
    revision = plan.revision
    revision._history_user = actor  # type: ignore[attr-defined]
    revision._change_reason = reason  # type: ignore[attr-defined]
    try:
        # The check of the year gives the message; when two imports of the
        # same year run at the same moment, the database's constraint decides.
        with transaction.atomic():
            revision.save()
    except IntegrityError:
        if Revision.objects.filter(year=revision.year).exists():
            raise ValidationError(
                _("There is already a revision for %(year)s.") % {"year": revision.year}
            ) from None
        raise

    # The children were given their (then unsaved) parents; bulk_create fills
    # in the parents' ids. batch_size=None: one statement per table.
    _bulk_create(FocusArea, plan.focus_areas, actor=actor, reason=reason, batch_size=None)
    _bulk_create(Need, plan.needs, actor=actor, reason=reason, batch_size=None)
    for _kind, model in ITEM_KINDS:
        _bulk_create(model, plan.items[model], actor=actor, reason=reason, batch_size=None)
    responsible = [o.pk for o in plan.responsible]
    for model in (CityAction, NextStep):
        _bulk_link(
            model,
            "responsible_organisations",
            [(item.pk, org) for item in plan.items[model] for org in responsible],
            batch_size=None,
        )
    _bulk_link(
        NextStep,
        "horizons",
        [
            (step.pk, horizon)
            for step, horizons in zip(plan.items[NextStep], plan.horizons, strict=True)
            for horizon in horizons
        ],
        batch_size=None,
    )

    revision.status = Revision.Status.APPROVED
    revision.decision_body = plan.decision_body
    revision.case_number = plan.case_number
    revision.decision_note = plan.decision_note
    revision._history_user = actor  # type: ignore[attr-defined]
    revision._change_reason = reason  # type: ignore[attr-defined]
    revision.save()
    _event(revision, kind=RevisionEvent.Kind.APPROVED, from_status="", actor=actor, comment=reason)
    return revision


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

    The whole document is checked first: if anything is wrong, one
    ValidationError carries a message for every bad row and nothing is
    written. The rows are then inserted in bulk, with one "+" history record
    each (by ``actor``, with the import as the reason) that holds the row's
    final state, its many-to-many fields included.
    """
    plan = _import_plan(
        data=data,
        responsible=responsible,
        all_districts=all_districts,
        decision_body=decision_body,
        case_number=case_number,
        decision_note=decision_note,
    )
    with transaction.atomic():
        return _import_write(plan, actor=actor)


def roadmap_import_file(*, path: Path, actor: AbstractBaseUser | None = None) -> Revision:
    """Import a roadmap document in the YAML shape of ``fixtures/``.

    The file's ``decision`` block names the deciding body, the case number and
    who is responsible for the roadmap's actions.
    """
    with path.open(encoding="utf-8") as fh:
        try:
            data = yaml.safe_load(fh)
        except yaml.YAMLError as exc:
            raise ValidationError(
                _("The file cannot be read as YAML: %(error)s") % {"error": exc}
            ) from None
    if not isinstance(data, dict):
        raise ValidationError(_("The file is not a roadmap document."))
    decision = data.get("decision")
    if not isinstance(decision, dict):
        decision = {}
    responsible = decision.get("responsible") or []
    if isinstance(responsible, str):
        responsible = [responsible]
    return roadmap_import(
        data=data,
        responsible=[_text(code) for code in responsible],
        all_districts=bool(decision.get("all_districts", False)),
        decision_body=_text(decision.get("body")),
        case_number=_text(decision.get("case_number")),
        decision_note=_text(decision.get("note")),
        actor=actor,
    )
