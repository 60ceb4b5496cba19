"""Writes to the roadmap. Views, the admin and commands call these."""

import uuid
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from django.apps import apps
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from .models import (
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
from .selectors import revision_tree

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


# --- Revision lifecycle ----------------------------------------------------------


def _require(actor: AbstractBaseUser | None, perm: str) -> None:
    if actor is None or not actor.has_perm(perm):
        raise PermissionDenied(_("You do not have permission to do this."))


def _event(
    revision: Revision,
    *,
    kind: str,
    from_status: str,
    actor: AbstractBaseUser | None,
    comment: str = "",
) -> RevisionEvent:
    name = ""
    if actor is not None:
        name = actor.get_full_name() or actor.get_username()
    return RevisionEvent.objects.create(
        revision=revision,
        kind=kind,
        from_status=from_status,
        to_status=revision.status,
        actor=actor,
        actor_name=name,
        comment=comment,
    )


def _locked_for_update(revision: Revision) -> Revision:
    return Revision.objects.select_for_update().get(pk=revision.pk)


def _transition(
    revision: Revision,
    *,
    expected: str,
    to: str,
    kind: str,
    actor: AbstractBaseUser | None,
    comment: str = "",
) -> Revision:
    current = _locked_for_update(revision)
    if current.status != expected:
        raise ValidationError(
            _("The revision is “%(status)s”; this step is not possible now.")
            % {"status": current.get_status_display()},
            code="invalid_transition",
        )
    from_status = current.status
    current.status = to
    _save(current, actor=actor, reason=str(RevisionEvent.Kind(kind).label))
    _event(current, kind=kind, from_status=from_status, actor=actor, comment=comment)
    return current


def revision_submit(*, revision: Revision, actor: AbstractBaseUser, comment: str = "") -> Revision:
    """Utkast → Under granskning (editors)."""
    _require(actor, "roadmap.submit_revision")
    with transaction.atomic():
        return _transition(
            revision,
            expected=Revision.Status.DRAFT,
            to=Revision.Status.IN_REVIEW,
            kind=RevisionEvent.Kind.SUBMITTED,
            actor=actor,
            comment=comment.strip(),
        )


def revision_return(*, revision: Revision, actor: AbstractBaseUser, comment: str) -> Revision:
    """Under granskning → Utkast, with a comment saying what to change (approvers)."""
    _require(actor, "roadmap.approve_revision")
    if not comment.strip():
        raise ValidationError(
            {"comment": _("Say why the revision is returned.")}, code="comment_required"
        )
    with transaction.atomic():
        try:
            with transaction.atomic():
                return _transition(
                    revision,
                    expected=Revision.Status.IN_REVIEW,
                    to=Revision.Status.DRAFT,
                    kind=RevisionEvent.Kind.RETURNED,
                    actor=actor,
                    comment=comment.strip(),
                )
        except IntegrityError:
            raise ValidationError(
                _("There is already an open draft revision. Finish or remove it first."),
                code="draft_exists",
            ) from None


def revision_approve(
    *,
    revision: Revision,
    actor: AbstractBaseUser,
    decision_body: Organisation,
    decision_date: date,
    case_number: str,
    decision_paragraph: str = "",
    comment: str = "",
) -> Revision:
    """Under granskning → Fastställd, recording the political decision. The
    revision in force until now becomes Ersatt (approvers)."""
    _require(actor, "roadmap.approve_revision")
    errors = {}
    if decision_body is None:
        errors["decision_body"] = _("Give the deciding body.")
    if decision_date is None:
        errors["decision_date"] = _("Give the date of the decision.")
    if not (case_number or "").strip():
        errors["case_number"] = _("Give the case number (Dnr).")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        current = _locked_for_update(revision)
        if current.status != Revision.Status.IN_REVIEW:
            raise ValidationError(
                _("The revision is “%(status)s”; this step is not possible now.")
                % {"status": current.get_status_display()},
                code="invalid_transition",
            )
        predecessors = list(
            Revision.objects.select_for_update()
            .filter(status=Revision.Status.APPROVED)
            .exclude(pk=current.pk)
        )
        current.decision_body = decision_body
        current.decision_date = decision_date
        current.case_number = case_number.strip()
        current.decision_paragraph = (decision_paragraph or "").strip()
        current.status = Revision.Status.APPROVED
        _save(current, actor=actor, reason=str(RevisionEvent.Kind.APPROVED.label))
        _event(
            current,
            kind=RevisionEvent.Kind.APPROVED,
            from_status=Revision.Status.IN_REVIEW,
            actor=actor,
            comment=comment.strip(),
        )
        for old in predecessors:
            old.status = Revision.Status.SUPERSEDED
            _save(old, actor=actor, reason=str(RevisionEvent.Kind.SUPERSEDED.label))
            _event(
                old,
                kind=RevisionEvent.Kind.SUPERSEDED,
                from_status=Revision.Status.APPROVED,
                actor=actor,
                comment=_("Replaced by %(revision)s.") % {"revision": current},
            )
        return current


def revision_start(
    *, actor: AbstractBaseUser, year: int | None = None, title: str | None = None
) -> Revision:
    """ "Starta ny revidering": the next draft, as a deep copy of the approved
    revision in force. Every copied item keeps its lineage id; retired items
    are not carried over. One transaction; at most one open draft."""
    _require(actor, "roadmap.start_revision")
    base = Revision.objects.current()
    if base is None:
        raise ValidationError(_("There is no approved revision to start from."))
    year = year or base.year + 1
    if year <= base.year:
        raise ValidationError(
            {
                "year": _("The new revision must be for a later year than %(year)s.")
                % {"year": base.year}
            }
        )
    reason = _("Copied from %(revision)s") % {"revision": base}
    draft_exists = ValidationError(
        _("There is already an open draft revision. Finish or remove it first."),
        code="draft_exists",
    )
    year_taken = ValidationError(
        {"year": _("There is already a revision for %(year)s.") % {"year": year}}
    )
    with transaction.atomic():
        if Revision.objects.filter(status=Revision.Status.DRAFT).exists():
            raise draft_exists
        in_review = Revision.objects.filter(status=Revision.Status.IN_REVIEW).first()
        if in_review is not None:
            raise ValidationError(
                _("%(revision)s is in review. Approve it or return it first.")
                % {"revision": in_review},
                code="review_open",
            )
        if Revision.objects.filter(year=year).exists():
            raise year_taken
        draft = Revision(
            year=year,
            title=title or base.title,
            summary=base.summary,
            status=Revision.Status.DRAFT,
            based_on=base,
        )
        draft._history_user = actor  # type: ignore[attr-defined]
        draft._change_reason = reason  # type: ignore[attr-defined]
        try:
            # The checks above give the message; when two editors start at the
            # same moment, the database's constraints decide.
            with transaction.atomic():
                draft.save()
        except IntegrityError:
            if Revision.objects.filter(year=year).exists():
                raise year_taken from None
            raise draft_exists from None
        _event(draft, kind=RevisionEvent.Kind.CREATED, from_status="", actor=actor, comment=reason)
        _copy_tree(base=base, draft=draft, actor=actor, reason=reason)
    return draft


def _clone(item: models.Model, **overrides) -> models.Model:
    """An unsaved copy of ``item`` for the new draft: same lineage id, same
    content, a fresh version, no change reason, not retired."""
    fields = {
        f.attname: getattr(item, f.attname)
        for f in item._meta.concrete_fields
        if not f.primary_key and f.attname not in ("version", "change_reason", "retired")
    }
    fields.update(overrides)
    return type(item)(**fields)


def _bulk_create(model, objs: list, *, actor, reason: str) -> list:
    """Insert rows and their "+" history records in bulk. Only used to fill a
    brand-new draft inside revision_start: the rows bypass save(), whose
    guards concern existing revisions."""
    if not objs:
        return []
    created = bulk_create_with_history(
        objs, model, batch_size=500, default_user=actor, default_change_reason=reason
    )
    assert all(obj.pk for obj in created), "the database must return primary keys"
    return created


def _bulk_copy_m2m(model, field_name: str, olds: list, news: list) -> None:
    """Copy one many-to-many field from the old items to their copies, with
    the m2m history rows simple-history would have written on save."""
    through = getattr(model, field_name).through
    own_fk = next(f for f in through._meta.fields if f.related_model is model)
    other_fk = next(
        f for f in through._meta.fields if f.is_relation and f.related_model is not model
    )
    rows = [
        through(**{own_fk.attname: new.pk, other_fk.attname: related.pk})
        for old, new in zip(olds, news, strict=True)
        for related in getattr(old, field_name).all()
    ]
    if not rows:
        return
    rows = through.objects.bulk_create(rows, batch_size=500)
    history_model = model.history.model
    history_ids = dict(
        history_model.objects.filter(id__in=[n.pk for n in news], history_type="+").values_list(
            "id", "history_id"
        )
    )
    m2m_history = apps.get_model(model._meta.app_label, f"{history_model.__name__}_{field_name}")
    m2m_history.objects.bulk_create(
        [
            m2m_history(
                id=row.pk,
                history_id=history_ids[getattr(row, own_fk.attname)],
                **{
                    own_fk.attname: getattr(row, own_fk.attname),
                    other_fk.attname: getattr(row, other_fk.attname),
                },
            )
            for row in rows
        ],
        batch_size=500,
    )


def _copy_tree(*, base: Revision, draft: Revision, actor, reason: str) -> None:
    """Copy the active content of ``base`` into ``draft``, level by level, in
    bulk: a fixed number of queries whatever the size of the roadmap."""
    tree = revision_tree(revision=base)
    focus_areas = _bulk_create(
        FocusArea, [_clone(fa, revision_id=draft.pk) for fa in tree], actor=actor, reason=reason
    )
    old_needs, new_needs = [], []
    for old_fa, new_fa in zip(tree, focus_areas, strict=True):
        for need in old_fa.needs.all():
            old_needs.append(need)
            new_needs.append(_clone(need, revision_id=draft.pk, focus_area_id=new_fa.pk))
    new_needs = _bulk_create(Need, new_needs, actor=actor, reason=reason)
    for model, related_name, m2m_fields in (
        (NationalInitiative, "national_initiatives", ()),
        (CityAction, "city_actions", ("responsible_organisations",)),
        (NextStep, "next_steps", ("responsible_organisations", "horizons")),
    ):
        olds, news = [], []
        for old_need, new_need in zip(old_needs, new_needs, strict=True):
            for item in getattr(old_need, related_name).all():
                olds.append(item)
                news.append(_clone(item, revision_id=draft.pk, need_id=new_need.pk))
        news = _bulk_create(model, news, actor=actor, reason=reason)
        for field_name in m2m_fields:
            _bulk_copy_m2m(model, field_name, olds, news)


def roadmap_item_save(*, item: models.Model, actor: AbstractBaseUser | None) -> models.Model:
    """Validate and save one roadmap item (or revision) as ``actor``, recording
    history. The model's guards refuse changes to approved revisions."""
    item.full_clean()
    item._history_user = actor  # type: ignore[attr-defined]
    item.save()
    return item
