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


class RevisionQuerySet(models.QuerySet["Revision"]):
    def approved(self) -> "RevisionQuerySet":
        return self.filter(status=Revision.Status.APPROVED)

    def current(self) -> "Revision | None":
        """The approved revision in force: the newest approved one."""
        return self.approved().order_by("-year").first()


class Revision(models.Model):
    """One year's complete edition of the roadmap."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        IN_REVIEW = "in_review", _("In review")
        APPROVED = "approved", _("Approved")
        SUPERSEDED = "superseded", _("Superseded")

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("summary"), blank=True)
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
    decision_note = models.TextField(_("note on the decision"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    history = HistoricalRecords()
    objects = RevisionQuerySet.as_manager()

    class Meta:
        verbose_name = _("revision")
        verbose_name_plural = _("revisions")
        ordering = ["-year"]
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
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.year})"

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


# --- Content -----------------------------------------------------------------------


class RoadmapItem(models.Model):
    """Fields every content row shares."""

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
        help_text=_("Remarks on the source text, e.g. text missing in the source document."),
    )

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        self.revision_id = self.parent_revision_id()
        super().save(*args, **kwargs)

    def parent_revision_id(self) -> int:  # pragma: no cover - overridden
        raise NotImplementedError


POSITION_TAKEN = _("This position is already taken. Each row needs its own position.")


def _item_constraints(prefix: str, parent: str, text_field: str) -> list[models.BaseConstraint]:
    return [
        models.UniqueConstraint(
            fields=[parent, "position"],
            name=f"{prefix}_unique_position",
            violation_error_message=POSITION_TAKEN,
        ),
        models.UniqueConstraint(fields=["revision", "lineage_id"], name=f"{prefix}_unique_lineage"),
        models.CheckConstraint(
            condition=Q(**{f"{text_field}__length__gt": 0}), name=f"{prefix}_{text_field}_not_empty"
        ),
    ]


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

    def parent_revision_id(self) -> int:
        return self.revision_id


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
        ]

    def __str__(self) -> str:
        return self.title or str(_("(heading missing in the source)"))

    def clean(self) -> None:
        super().clean()
        if not self.title.strip() and not self.data_note.strip():
            raise ValidationError(
                {"title": _("A need must have a title, or a data note saying why it has none.")}
            )

    def parent_revision_id(self) -> int:
        return FocusArea.objects.values_list("revision_id", flat=True).get(pk=self.focus_area_id)


class NeedItem(RoadmapItem):
    """A row in one of a need's columns."""

    text = models.TextField(_("text"))

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.text if len(self.text) <= 80 else self.text[:79] + "…"

    def parent_revision_id(self) -> int:
        return Need.objects.values_list("revision_id", flat=True).get(pk=self.need_id)


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

    def horizon_label(self) -> str:
        """E.g. "Kort sikt, löpande (ingår i boendeplan)"; uses prefetched horizons."""
        names = [h.name for h in self.horizons.all()]
        label = ", ".join([names[0], *[n[0].lower() + n[1:] for n in names[1:]]] if names else [])
        if self.horizon_note:
            label = f"{label} ({self.horizon_note})" if label else f"({self.horizon_note})"
        return label
