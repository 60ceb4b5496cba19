"""Guards that keep approved revisions unchanged, whatever path a change takes
(admin, services, shell), and the bookkeeping of when a step's horizon was set."""

from django.db.models.signals import m2m_changed, pre_delete
from django.dispatch import receiver

from .models import (
    LOCKED_STATUSES,
    CityAction,
    FocusArea,
    NationalInitiative,
    Need,
    NextStep,
    Organisation,
    Revision,
    RevisionLockedError,
    TimeHorizon,
    guard_item_deletable,
)

ITEM_MODELS = (FocusArea, Need, NationalInitiative, CityAction, NextStep)
ITEM_M2M = (
    NextStep.horizons.through,
    NextStep.responsible_organisations.through,
    CityAction.responsible_organisations.through,
)


@receiver(pre_delete)
def refuse_deleting_locked_content(sender, instance, **kwargs) -> None:
    # Covers queryset deletes and cascades too, which bypass Model.delete().
    if sender in ITEM_MODELS:
        guard_item_deletable(instance)
    elif sender is Revision and instance.status in LOCKED_STATUSES:
        raise RevisionLockedError()
    elif sender is Organisation:
        # The cascade would delete the organisation's rows in the responsible
        # organisations of approved items, without any m2m_changed signal.
        if _item_revision_locked(NextStep, instance.next_steps.values("pk")) or (
            _item_revision_locked(CityAction, instance.city_actions.values("pk"))
        ):
            raise RevisionLockedError()
    elif sender is TimeHorizon and _item_revision_locked(
        NextStep, instance.next_steps.values("pk")
    ):
        raise RevisionLockedError()


def _item_revision_locked(model, pks) -> bool:
    return model._base_manager.filter(pk__in=pks, revision__status__in=LOCKED_STATUSES).exists()


@receiver(m2m_changed)
def refuse_m2m_changes_on_locked_content(
    sender, instance, action, reverse, model, pk_set, **kwargs
) -> None:
    if sender not in ITEM_M2M or not action.startswith("pre_"):
        return
    if not reverse:
        if _item_revision_locked(type(instance), [instance.pk]):
            raise RevisionLockedError()
        return
    # Reverse side: `instance` is an organisation or horizon, `model` the item model.
    if action == "pre_clear":
        item_fk = next(f for f in sender._meta.fields if f.related_model is model)
        other_fk = next(f for f in sender._meta.fields if f.related_model is type(instance))
        pks = sender.objects.filter(**{other_fk.name: instance}).values_list(
            item_fk.attname, flat=True
        )
    else:
        pks = pk_set or []
    if _item_revision_locked(model, pks):
        raise RevisionLockedError()


@receiver(m2m_changed, sender=NextStep.horizons.through)
def track_horizon_set_year(sender, instance, action, reverse, **kwargs) -> None:
    """A step's horizons count from the revision that set them. When they are
    the same as in the predecessor revision the year carries over; otherwise
    it is this revision's year."""
    if reverse or action not in ("post_add", "post_remove", "post_clear"):
        return
    revision = Revision.objects.only("year", "based_on_id").get(pk=instance.revision_id)
    year = revision.year
    if revision.based_on_id is not None:
        before = (
            NextStep.objects.filter(
                revision_id=revision.based_on_id, lineage_id=instance.lineage_id
            )
            .prefetch_related("horizons")
            .first()
        )
        now = set(instance.horizons.values_list("pk", flat=True))
        if before is not None and {h.pk for h in before.horizons.all()} == now:
            year = before.horizon_set_year
    if instance.horizon_set_year != year:
        instance.horizon_set_year = year
        instance.save(update_fields=["horizon_set_year", "version"])
