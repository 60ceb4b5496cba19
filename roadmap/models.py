"""The roadmap: revisions and their content.

A ``Revision`` is one year's complete edition. Its content is a tree:
focus areas → needs → national initiatives, city actions and next steps.
Every content row carries its ``revision`` (derived from its parent on save, so
the database can guard per-revision invariants) and a ``lineage_id`` that the
copy of the row in a later revision keeps.
"""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from fardplan import limits
from fardplan.limits import limited_text, max_length_constraint
from fardplan.locks import lock_errors_readable

models.CharField.register_lookup(Length)
models.TextField.register_lookup(Length)


# --- Reference data -----------------------------------------------------------------


class TimeHorizonManager(models.Manager["TimeHorizon"]):
    def get_by_natural_key(self, code: str) -> "TimeHorizon":
        return self.get(code=code)


class TimeHorizon(models.Model):
    """Tidshorisont, with the definitions of the 2021 decision (seed 001)."""

    code = models.SlugField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=50, unique=True)
    definition = models.CharField(_("definition"), max_length=200)
    years_until_due = models.PositiveSmallIntegerField(
        _("years until due"),
        null=True,
        blank=True,
        help_text=_("Years after the revision year by which the step is due. Empty: no due year."),
    )
    is_ongoing = models.BooleanField(_("ongoing"), default=False)
    position = models.PositiveSmallIntegerField(_("position"), unique=True)

    objects = TimeHorizonManager()

    class Meta:
        verbose_name = _("time horizon")
        verbose_name_plural = _("time horizons")
        ordering = ["position"]

    def __str__(self) -> str:
        return self.name

    def natural_key(self) -> tuple[str]:
        return (self.code,)


class OrganisationQuerySet(models.QuerySet["Organisation"]):
    def districts(self) -> "OrganisationQuerySet":
        return self.filter(kind=Organisation.Kind.DISTRICT)

    def deciding_bodies(self) -> "OrganisationQuerySet":
        """The bodies that may adopt a revision of the roadmap:
        kommunfullmäktige, kommunstyrelsen and the committee for elderly care."""
        return self.filter(
            Q(kind__in=[Organisation.Kind.COUNCIL, Organisation.Kind.EXECUTIVE])
            | Q(kind=Organisation.Kind.COMMITTEE, code__in=DECIDING_COMMITTEES)
        )


# The committees (by code) that may adopt the roadmap besides the council and
# the executive board: äldrenämnden, which is responsible for elderly care.
DECIDING_COMMITTEES = ("aldrenamnden",)


class OrganisationManager(models.Manager.from_queryset(OrganisationQuerySet)):  # type: ignore[misc]
    def get_by_natural_key(self, code: str) -> "Organisation":
        return self.get(code=code)


class Organisation(models.Model):
    """A committee (nämnd) with its administration, or an outside body."""

    class Kind(models.TextChoices):
        COUNCIL = "council", _("City council")
        EXECUTIVE = "executive", _("City executive board")
        COMMITTEE = "committee", _("Specialist committee")
        DISTRICT = "district", _("District committee")
        COMPANY = "company", _("City-owned company")
        EXTERNAL = "external", _("Outside body")

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200, unique=True)
    short_name = models.CharField(_("short name"), max_length=50, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("members"),
        related_name="organisations",
        blank=True,
    )

    objects = OrganisationManager()

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["kind", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(name__length__gt=0), name="organisation_name_not_empty"
            ),
            models.CheckConstraint(
                condition=Q(
                    kind__in=[
                        "council",
                        "executive",
                        "committee",
                        "district",
                        "company",
                        "external",
                    ]
                ),
                name="organisation_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def natural_key(self) -> tuple[str]:
        return (self.code,)


# --- Revisions ---------------------------------------------------------------------


LOCKED_STATUSES = ("approved", "superseded")


class RevisionLockedError(ValidationError):
    """A change to an approved or superseded revision, or to its content."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(
            message
            or _(
                "The revision is approved and can no longer be changed. "
                "Corrections go into the next draft."
            ),
            code="revision_locked",
        )


class ConcurrentEditError(ValidationError):
    """Someone else saved the row after this user loaded it."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(
            message
            or _(
                "Someone else saved changes to this item after you opened it. "
                "Your changes were not saved."
            ),
            code="concurrent_edit",
        )


class VersionedModel(models.Model):
    """Optimistic locking: ``version`` grows by one on every save.

    A form that sets ``expected_version`` before ``save()`` makes the save a
    compare-and-set: if the row's version in the database is no longer the one
    the user loaded, nothing is written and ``ConcurrentEditError`` is raised.
    """

    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    class Meta:
        abstract = True

    def _bump_version(self) -> None:
        expected = getattr(self, "expected_version", None)
        if self.pk is None or self._state.adding:
            return
        if expected is None:
            self.version = (
                type(self)._base_manager.filter(pk=self.pk).values_list("version", flat=True).get()
                + 1
            )
            return
        # Compare-and-set: only the writer that still sees `expected` wins.
        won = (
            type(self)
            ._base_manager.filter(pk=self.pk, version=expected)
            .update(version=expected + 1)
        )
        if not won:
            raise ConcurrentEditError()
        self.version = expected + 1
        self.expected_version = self.version


class RevisionQuerySet(models.QuerySet["Revision"]):
    def approved(self) -> "RevisionQuerySet":
        return self.filter(status=Revision.Status.APPROVED)

    def current(self) -> "Revision | None":
        """The approved revision in force: the newest approved one."""
        return self.approved().order_by("-year").first()


class Revision(VersionedModel):
    """One year's complete edition of the roadmap.

    Draft → in review → approved → superseded. Approved and superseded
    revisions, and everything in them, never change again.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        IN_REVIEW = "in_review", _("In review")
        APPROVED = "approved", _("Approved")
        SUPERSEDED = "superseded", _("Superseded")

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("summary"), blank=True, **limited_text(limits.REVISION_SUMMARY))
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    based_on = models.ForeignKey(
        "self",
        verbose_name=_("based on"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="successors",
    )
    decision_body = models.ForeignKey(
        Organisation,
        verbose_name=_("deciding body"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="decided_revisions",
    )
    decision_date = models.DateField(_("decision date"), null=True, blank=True)
    case_number = models.CharField(
        _("case number (Dnr)"), max_length=50, blank=True, help_text=_("E.g. KS 2021/1462")
    )
    decision_paragraph = models.CharField(_("protocol paragraph"), max_length=50, blank=True)
    decision_note = models.TextField(
        _("note on the decision"), blank=True, **limited_text(limits.DECISION_NOTE)
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    history = HistoricalRecords()
    objects = RevisionQuerySet.as_manager()

    class Meta:
        verbose_name = _("revision")
        verbose_name_plural = _("revisions")
        ordering = ["-year"]
        permissions = [
            ("start_revision", _("Can start a new revision")),
            ("submit_revision", _("Can submit a revision for review")),
            ("approve_revision", _("Can return and approve revisions")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["draft", "in_review", "approved", "superseded"]),
                name="revision_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(title__length__gt=0), name="revision_title_not_empty"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "in_review"])
                | (Q(case_number__length__gt=0) & Q(decision_body__isnull=False)),
                name="revision_approved_has_decision",
            ),
            models.UniqueConstraint(
                fields=["status"],
                condition=Q(status="draft"),
                name="revision_single_draft",
                violation_error_message=_(
                    "There is already an open draft revision. Finish or remove it first."
                ),
            ),
            max_length_constraint("revision", "summary", limits.REVISION_SUMMARY),
            max_length_constraint("revision", "decision_note", limits.DECISION_NOTE),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.year})"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not self._state.adding:
            self._guard_locked()
        self._bump_version()
        with lock_errors_readable():
            super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if (
            self.pk is not None
            and Revision.objects.filter(pk=self.pk, status__in=LOCKED_STATUSES).exists()
        ):
            raise RevisionLockedError()
        with lock_errors_readable():
            return super().delete(*args, **kwargs)

    # Fields that may change on a locked revision: approved → superseded only.
    _LOCK_EXEMPT = {"status", "updated_at", "version"}

    def _guard_locked(self) -> None:
        stored = Revision._base_manager.filter(pk=self.pk).first()
        if stored is None or stored.status not in LOCKED_STATUSES:
            return
        superseding = (
            stored.status == self.Status.APPROVED and self.status == self.Status.SUPERSEDED
        )
        unchanged_status = stored.status == self.status
        changed_fields = [
            f.attname
            for f in self._meta.concrete_fields
            if f.attname not in self._LOCK_EXEMPT
            and getattr(stored, f.attname) != getattr(self, f.attname)
        ]
        if changed_fields or not (superseding or unchanged_status):
            raise RevisionLockedError()

    @property
    def is_locked(self) -> bool:
        return self.status in LOCKED_STATUSES

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    def clean(self) -> None:
        super().clean()
        if self.status in (self.Status.APPROVED, self.Status.SUPERSEDED):
            errors = {}
            if not self.case_number.strip():
                errors["case_number"] = _("An approved revision needs the case number (Dnr).")
            if self.decision_body_id is None:
                errors["decision_body"] = _("An approved revision needs the deciding body.")
            if errors:
                raise ValidationError(errors)


class RevisionEvent(models.Model):
    """One step in a revision's life: who moved it where, when, and why."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        SUBMITTED = "submitted", _("Submitted for review")
        RETURNED = "returned", _("Returned to draft")
        APPROVED = "approved", _("Approved")
        SUPERSEDED = "superseded", _("Superseded")

    revision = models.ForeignKey(
        Revision, verbose_name=_("revision"), on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(_("event"), max_length=20, choices=Kind.choices)
    from_status = models.CharField(
        _("from status"), max_length=20, choices=Revision.Status.choices, blank=True
    )
    to_status = models.CharField(_("to status"), max_length=20, choices=Revision.Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_name = models.CharField(_("by (name)"), max_length=200, blank=True)
    comment = models.TextField(_("comment"), blank=True, **limited_text(limits.EVENT_COMMENT))
    created_at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        verbose_name = _("revision event")
        verbose_name_plural = _("revision events")
        ordering = ["revision", "created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="returned") | Q(comment__length__gt=0),
                name="revisionevent_return_has_comment",
            ),
            max_length_constraint("revisionevent", "comment", limits.EVENT_COMMENT),
        ]

    def __str__(self) -> str:
        return f"{self.revision}: {self.get_kind_display()}"


# --- Content -----------------------------------------------------------------------


class RoadmapItemQuerySet(models.QuerySet):
    def active(self) -> "RoadmapItemQuerySet":
        """Items that are part of the plan: not retired."""
        return self.filter(retired=False)


class RoadmapItem(VersionedModel):
    """Fields every content row shares, and the guard that keeps approved
    revisions unchanged."""

    revision = models.ForeignKey(
        Revision,
        verbose_name=_("revision"),
        on_delete=models.CASCADE,
        related_name="+",
        editable=False,
    )
    lineage_id = models.UUIDField(
        _("lineage id"),
        default=uuid.uuid4,
        editable=False,
        db_index=True,
        help_text=_("Identifies the item across revisions."),
    )
    position = models.PositiveIntegerField(_("position"))
    data_note = models.TextField(
        _("data note"),
        blank=True,
        **limited_text(limits.DATA_NOTE),
        help_text=_("Remarks on the source text, e.g. text missing in the source document."),
    )
    change_reason = models.TextField(
        _("reason for change"),
        blank=True,
        **limited_text(limits.CHANGE_REASON),
        help_text=_(
            "Why the item was added, changed, moved, re-timed or retired in this revision."
        ),
    )
    retired = models.BooleanField(
        _("retired"),
        default=False,
        help_text=_("Retired in this revision: kept for the record, no longer part of the plan."),
    )

    objects = RoadmapItemQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        revision_id, status = self.parent_revision()
        if status in LOCKED_STATUSES:
            raise RevisionLockedError()
        if self.pk is not None and not self._state.adding:
            stored_revision_id, stored_status = (
                type(self)
                ._base_manager.filter(pk=self.pk)
                .values_list("revision_id", "revision__status")
                .get()
            )
            if stored_status in LOCKED_STATUSES:
                raise RevisionLockedError()
            if stored_revision_id != revision_id:
                raise ValidationError(_("An item cannot be moved to another revision."))
        self.revision_id = revision_id
        self._bump_version()
        # The model's checks above give the message first; the database's
        # triggers (roadmap/locks.py) refuse whatever slips past them.
        with lock_errors_readable():
            super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        guard_item_deletable(self)
        with lock_errors_readable():
            return super().delete(*args, **kwargs)

    def parent_revision(self) -> tuple[int, str]:  # pragma: no cover - overridden
        """(revision id, revision status) of the parent this row hangs under."""
        raise NotImplementedError

    def clean(self) -> None:
        super().clean()
        if self.retired and not self.change_reason.strip():
            raise ValidationError({"change_reason": _("Give a reason when an item is retired.")})


def guard_item_deletable(item: "RoadmapItem") -> None:
    if Revision._base_manager.filter(pk=item.revision_id, status__in=LOCKED_STATUSES).exists():
        raise RevisionLockedError()


POSITION_TAKEN = _("This position is already taken. Each row needs its own position.")


def _item_constraints(prefix: str, parent: str, text_field: str) -> list[models.BaseConstraint]:
    constraints: list[models.BaseConstraint] = [
        models.UniqueConstraint(
            fields=[parent, "position"],
            name=f"{prefix}_unique_position",
            violation_error_message=POSITION_TAKEN,
        ),
        models.UniqueConstraint(fields=["revision", "lineage_id"], name=f"{prefix}_unique_lineage"),
        models.CheckConstraint(
            condition=Q(**{f"{text_field}__length__gt": 0}), name=f"{prefix}_{text_field}_not_empty"
        ),
        _retired_has_reason(prefix),
        *_item_text_limits(prefix),
    ]
    if text_field == "text":
        constraints.append(max_length_constraint(prefix, "text", limits.ITEM_TEXT))
    return constraints


def _item_text_limits(prefix: str) -> list[models.CheckConstraint]:
    """The length limits of the text fields every content row has."""
    return [
        max_length_constraint(prefix, "data_note", limits.DATA_NOTE),
        max_length_constraint(prefix, "change_reason", limits.CHANGE_REASON),
    ]


def _retired_has_reason(prefix: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(retired=False) | Q(change_reason__length__gt=0),
        name=f"{prefix}_retired_has_reason",
        violation_error_message=_("Give a reason when an item is retired."),
    )


class FocusArea(RoadmapItem):
    """Huvudrubrik / fokusområde."""

    revision = models.ForeignKey(
        Revision,
        verbose_name=_("revision"),
        on_delete=models.CASCADE,
        related_name="focus_areas",
    )
    title = models.CharField(_("title"), max_length=300)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("focus area")
        verbose_name_plural = _("focus areas")
        ordering = ["revision", "position"]
        constraints = _item_constraints("focusarea", "revision", "title")

    def __str__(self) -> str:
        return self.title

    def parent_revision(self) -> tuple[int, str]:
        return Revision._base_manager.filter(pk=self.revision_id).values_list("pk", "status").get()


class Need(RoadmapItem):
    """Behov. The title may only be empty when a data note says why."""

    focus_area = models.ForeignKey(
        FocusArea, verbose_name=_("focus area"), on_delete=models.CASCADE, related_name="needs"
    )
    title = models.CharField(_("title"), max_length=500, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("need")
        verbose_name_plural = _("needs")
        ordering = ["focus_area__position", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["focus_area", "position"],
                name="need_unique_position",
                violation_error_message=POSITION_TAKEN,
            ),
            models.UniqueConstraint(fields=["revision", "lineage_id"], name="need_unique_lineage"),
            models.CheckConstraint(
                condition=Q(title__length__gt=0) | Q(data_note__length__gt=0),
                name="need_title_or_data_note",
            ),
            _retired_has_reason("need"),
            *_item_text_limits("need"),
        ]

    def __str__(self) -> str:
        return self.title or str(_("(heading missing in the source)"))

    def clean(self) -> None:
        super().clean()
        if not self.title.strip() and not self.data_note.strip():
            raise ValidationError(
                {"title": _("A need must have a title, or a data note saying why it has none.")}
            )

    def parent_revision(self) -> tuple[int, str]:
        return (
            FocusArea._base_manager.filter(pk=self.focus_area_id)
            .values_list("revision_id", "revision__status")
            .get()
        )


class NeedItem(RoadmapItem):
    """A row in one of a need's columns."""

    text = models.TextField(_("text"), **limited_text(limits.ITEM_TEXT))

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.text if len(self.text) <= 80 else self.text[:79] + "…"

    def parent_revision(self) -> tuple[int, str]:
        return (
            Need._base_manager.filter(pk=self.need_id)
            .values_list("revision_id", "revision__status")
            .get()
        )


class ResponsibilityMixin(models.Model):
    """Who is responsible: named organisations and/or all district committees."""

    all_districts = models.BooleanField(
        _("all district committees"),
        default=False,
        help_text=_("All the district committees are responsible."),
    )

    class Meta:
        abstract = True

    def responsible_names(self) -> list[str]:
        """Names for display; uses prefetched organisations when present."""
        names = [org.name for org in self.responsible_organisations.all()]
        if self.all_districts:
            names.append(str(_("all district committees")))
        return names


class NationalInitiative(NeedItem):
    """Vad görs nationellt?"""

    need = models.ForeignKey(
        Need,
        verbose_name=_("need"),
        on_delete=models.CASCADE,
        related_name="national_initiatives",
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("national initiative")
        verbose_name_plural = _("national initiatives")
        ordering = ["need", "position"]
        constraints = _item_constraints("nationalinitiative", "need", "text")


class CityAction(ResponsibilityMixin, NeedItem):
    """Vad görs i staden?"""

    need = models.ForeignKey(
        Need, verbose_name=_("need"), on_delete=models.CASCADE, related_name="city_actions"
    )
    responsible_organisations = models.ManyToManyField(
        Organisation,
        verbose_name=_("responsible organisations"),
        related_name="city_actions",
        blank=True,
    )

    history = HistoricalRecords(m2m_fields=[responsible_organisations])

    class Meta:
        verbose_name = _("city action")
        verbose_name_plural = _("city actions")
        ordering = ["need", "position"]
        constraints = _item_constraints("cityaction", "need", "text")


class NextStep(ResponsibilityMixin, NeedItem):
    """Vad mer behöver göras? One or more time horizons, an optional note."""

    need = models.ForeignKey(
        Need, verbose_name=_("need"), on_delete=models.CASCADE, related_name="next_steps"
    )
    horizons = models.ManyToManyField(
        TimeHorizon, verbose_name=_("time horizons"), related_name="next_steps"
    )
    horizon_note = models.CharField(
        _("horizon note"),
        max_length=200,
        blank=True,
        help_text=_("E.g. “ingår i boendeplan”."),
    )
    horizon_set_year = models.PositiveSmallIntegerField(
        _("horizon set in"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("Year of the revision in which the current time horizons were set."),
    )
    responsible_organisations = models.ManyToManyField(
        Organisation,
        verbose_name=_("responsible organisations"),
        related_name="next_steps",
        blank=True,
    )

    history = HistoricalRecords(m2m_fields=[horizons, responsible_organisations])

    class Meta:
        verbose_name = _("next step")
        verbose_name_plural = _("next steps")
        ordering = ["need", "position"]
        constraints = _item_constraints("nextstep", "need", "text")

    def due_year(self) -> int | None:
        """The year by which the step is due: the year its horizons were set,
        plus the shortest finite horizon (kort: +1, medellång: +3). Lång sikt
        and löpande alone give no due year. Uses prefetched horizons."""
        if self.horizon_set_year is None:
            return None
        offsets = [h.years_until_due for h in self.horizons.all() if h.years_until_due is not None]
        return self.horizon_set_year + min(offsets) if offsets else None

    def horizon_label(self) -> str:
        """E.g. "Kort sikt, löpande (ingår i boendeplan)"; uses prefetched horizons."""
        names = [h.name for h in self.horizons.all()]
        label = ", ".join([names[0], *[n[0].lower() + n[1:] for n in names[1:]]] if names else [])
        if self.horizon_note:
            label = f"{label} ({self.horizon_note})" if label else f"({self.horizon_note})"
        return label
