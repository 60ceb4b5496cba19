"""Edits to the content of a revision: rows and their positions."""

from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import models
from django.db.models import F

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


def roadmap_item_save(*, item: models.Model, actor: AbstractBaseUser | None) -> models.Model:
    """Validate and save one roadmap item (or revision) as ``actor``, recording
    history. The model's guards refuse changes to approved revisions."""
    item.full_clean()
    item._history_user = actor  # type: ignore[attr-defined]
    item.save()
    return item
