"""The revision lifecycle: start (deep copy of the revision in force),
submit, return and approve."""

from datetime import date

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext as _

from fardplan import limits
from fardplan.limits import text_error

from ..models import (
    CityAction,
    FocusArea,
    NationalInitiative,
    Need,
    NextStep,
    Organisation,
    Revision,
    RevisionEvent,
)
from ..selectors import revision_tree
from .common import _bulk_create, _bulk_link, _event, _require, _save

# The years a revision can be for (StartRevisionForm offers the same).
YEAR_RANGE = (2000, 2999)


def _check_comment(comment: str) -> None:
    """A lifecycle step's comment fits its column (RevisionEvent.comment)."""
    if message := text_error(comment.strip(), limits.EVENT_COMMENT):
        raise ValidationError({"comment": message}, code="too_long")


def _field_limit(name: str) -> int:
    return Revision._meta.get_field(name).max_length


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
    _check_comment(comment)
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
    _check_comment(comment)
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
    title: str | None = None,
) -> Revision:
    """Under granskning → Fastställd, recording the political decision. The
    revision in force until now becomes Ersatt (approvers). A ``title`` that
    is not empty corrects the revision's title, saved before it is locked."""
    _require(actor, "roadmap.approve_revision")
    errors = {}
    if decision_body is None:
        errors["decision_body"] = _("Give the deciding body.")
    if decision_date is None:
        errors["decision_date"] = _("Give the date of the decision.")
    if not (case_number or "").strip():
        errors["case_number"] = _("Give the case number (Dnr).")
    for name, value in (
        ("case_number", case_number or ""),
        ("decision_paragraph", decision_paragraph or ""),
    ):
        if message := text_error(value.strip(), _field_limit(name)):
            errors[name] = message
    if message := text_error((comment or "").strip(), limits.EVENT_COMMENT):
        errors["comment"] = message
    title = (title or "").strip()
    if message := text_error(title, _field_limit("title")):
        errors["title"] = message
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
        if title:
            current.title = title
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
    if not YEAR_RANGE[0] <= year <= YEAR_RANGE[1]:
        raise ValidationError(
            {
                "year": _("Give a year from %(first)s to %(last)s.")
                % {"first": YEAR_RANGE[0], "last": YEAR_RANGE[1]}
            }
        )
    if title and (message := text_error(title, _field_limit("title"))):
        raise ValidationError({"title": message})
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


def _bulk_copy_m2m(model, field_name: str, olds: list, news: list) -> None:
    """Copy one many-to-many field from the old items to their copies, with
    the m2m history rows simple-history would have written on save."""
    links = [
        (new.pk, related.pk)
        for old, new in zip(olds, news, strict=True)
        for related in getattr(old, field_name).all()
    ]
    _bulk_link(model, field_name, links, batch_size=500)


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
