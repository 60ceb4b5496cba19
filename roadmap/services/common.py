"""Helpers the roadmap services share: permission checks, saving with
history, lifecycle events and bulk inserts with history."""

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
