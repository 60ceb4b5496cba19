"""Helpers the roadmap services share: permission checks, saving with
history, lifecycle events and bulk inserts with history."""

from django.apps import apps
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from ..models import Revision, RevisionEvent


def _save(instance: models.Model, *, actor: AbstractBaseUser | None, reason: str) -> None:
    instance.full_clean()
    instance._history_user = actor  # type: ignore[attr-defined]
    instance._change_reason = reason  # type: ignore[attr-defined]
    instance.save()


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


def _bulk_create(model, objs: list, *, actor, reason: str, batch_size: int | None = 500) -> list:
    """Insert rows and their "+" history records in bulk, for a brand-new
    revision (the deep copy of revision_start, an import): the rows bypass
    save(), whose guards concern existing revisions. ``batch_size=None``
    leaves the batching to the database backend."""
    if not objs:
        return []
    created = bulk_create_with_history(
        objs, model, batch_size=batch_size, default_user=actor, default_change_reason=reason
    )
    assert all(obj.pk for obj in created), "the database must return primary keys"
    return created


def _bulk_link(
    model, field_name: str, links: list[tuple[int, int]], *, batch_size: int | None = 500
) -> None:
    """Insert the rows of one many-to-many field of items that _bulk_create
    has just created, given as (item pk, related pk) pairs, with the m2m
    history rows simple-history would have written on save, attached to each
    item's "+" history record."""
    if not links:
        return
    through = getattr(model, field_name).through
    own_fk = next(f for f in through._meta.fields if f.related_model is model)
    other_fk = next(
        f for f in through._meta.fields if f.is_relation and f.related_model is not model
    )
    rows = through.objects.bulk_create(
        [through(**{own_fk.attname: item, other_fk.attname: related}) for item, related in links],
        batch_size=batch_size,
    )
    history_model = model.history.model
    history_ids = dict(
        history_model.objects.filter(
            id__in=sorted({item for item, _related in links}), history_type="+"
        ).values_list("id", "history_id")
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
        batch_size=batch_size,
    )
