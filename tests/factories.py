"""factory_boy factories for the roadmap.

Reference data (organisations, time horizons) is fetched by code when it exists
(e.g. after the ``reference_data`` fixture loaded it) and created otherwise.
Content factories build their parents, so ``NextStepFactory()`` alone gives a
complete, valid tree: revision → focus area → need → next step.
"""

import factory
from factory.django import DjangoModelFactory

from roadmap.models import (
    CityAction,
    FocusArea,
    NationalInitiative,
    Need,
    NextStep,
    Organisation,
    Revision,
    TimeHorizon,
)


class OrganisationFactory(DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"organisation-{n}")
    name = factory.Sequence(lambda n: f"Testnämnd {n}")
    kind = Organisation.Kind.COMMITTEE


class TimeHorizonFactory(DjangoModelFactory):
    class Meta:
        model = TimeHorizon
        django_get_or_create = ("code",)

    code = "short"
    name = factory.LazyAttribute(lambda o: {"short": "Kort sikt"}.get(o.code, o.code.title()))
    definition = "Genomförs inom ett år."
    years_until_due = 1
    position = factory.Sequence(lambda n: 100 + n)


class RevisionFactory(DjangoModelFactory):
    """A revision in review by default: content can be added to it, and
    ``approve()`` below then locks it. ``draft=True`` gives an open draft."""

    class Meta:
        model = Revision

    year = factory.Sequence(lambda n: 2100 + n)
    title = "Färdplan för äldreomsorgens utveckling"
    status = Revision.Status.IN_REVIEW

    class Params:
        draft = factory.Trait(status=Revision.Status.DRAFT)


def approve(revision: Revision) -> Revision:
    """Mark a revision built by the factories as approved, with a decision.

    Test set-up only: the lifecycle services do this for real (and check who
    may), see test_lifecycle.
    """
    kf = OrganisationFactory(code="kf", name="Kommunfullmäktige", kind=Organisation.Kind.COUNCIL)
    revision.status = Revision.Status.APPROVED
    revision.case_number = revision.case_number or f"KS {revision.year}/1"
    revision.decision_body = revision.decision_body or kf
    revision.save()
    return revision


def supersede(revision: Revision) -> Revision:
    """Mark a revision built by the factories as approved and then superseded."""
    if revision.status != Revision.Status.APPROVED:
        approve(revision)
    revision.status = Revision.Status.SUPERSEDED
    revision.save()
    return revision


class FocusAreaFactory(DjangoModelFactory):
    class Meta:
        model = FocusArea

    revision = factory.SubFactory(RevisionFactory)
    position = factory.Sequence(lambda n: n + 1)
    title = factory.Sequence(lambda n: f"Fokusområde {n}")


class NeedFactory(DjangoModelFactory):
    class Meta:
        model = Need

    focus_area = factory.SubFactory(FocusAreaFactory)
    # Need.save() derives the revision from the focus area; set it here as well
    # so that an unsaved (build) instance is consistent too.
    revision = factory.SelfAttribute("focus_area.revision")
    position = factory.Sequence(lambda n: n + 1)
    title = factory.Sequence(lambda n: f"Behov {n}")


class _NeedItemFactory(DjangoModelFactory):
    class Meta:
        abstract = True

    need = factory.SubFactory(NeedFactory)
    revision = factory.SelfAttribute("need.revision")
    position = factory.Sequence(lambda n: n + 1)


class NationalInitiativeFactory(_NeedItemFactory):
    class Meta:
        model = NationalInitiative

    text = factory.Sequence(lambda n: f"Nationell satsning {n}")


class _ResponsibilityFactory(_NeedItemFactory):
    class Meta:
        abstract = True
        skip_postgeneration_save = True

    all_districts = False

    @factory.post_generation
    def responsible_organisations(self, create, extracted, **kwargs):
        if create and extracted:
            self.responsible_organisations.set(extracted)


class CityActionFactory(_ResponsibilityFactory):
    class Meta:
        model = CityAction
        skip_postgeneration_save = True

    text = factory.Sequence(lambda n: f"Åtgärd i staden {n}")


class NextStepFactory(_ResponsibilityFactory):
    """A next step always has at least one time horizon (default: short)."""

    class Meta:
        model = NextStep
        skip_postgeneration_save = True

    text = factory.Sequence(lambda n: f"Nästa steg {n}")

    @factory.post_generation
    def horizons(self, create, extracted, **kwargs):
        if not create:
            return
        self.horizons.set(extracted if extracted else [TimeHorizonFactory(code="short")])
