"""Demo data for the revision workflow: an example draft for 2025.

Built from the adopted 2021 roadmap with a handful of changes drawn from
äldrenämnden's budget input for 2025 (seed 003). Every change is labelled as
demo data, and so is the revision's title. Never used in production.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from .models import Need, NextStep, Organisation, Revision, TimeHorizon
from .services import revision_start, roadmap_item_save

DEMO_YEAR = 2025
DEMO_TITLE = (
    "EXEMPEL (demodata): utkast till revidering 2025 av Färdplan för äldreomsorgens utveckling"
)
DEMO = "Demodata (exempel)"

DIGITALISATION = "Digitalisering och välfärdsteknik"


def _step(revision: Revision, text: str) -> NextStep:
    return NextStep.objects.get(revision=revision, text=text)


def _need(revision: Revision, title: str) -> Need:
    return Need.objects.get(revision=revision, title=title)


def demo_draft_build(*, actor: AbstractBaseUser) -> Revision | None:
    """Create the example 2025 draft unless a 2025 revision or an open draft
    exists, or the 2021 roadmap is not loaded. Returns the draft or None."""
    if Revision.objects.filter(year=DEMO_YEAR).exists():
        return None
    if Revision.objects.filter(status__in=["draft", "in_review"]).exists():
        return None
    if Revision.objects.current() is None:
        return None
    horizons = {h.code: h for h in TimeHorizon.objects.all()}
    aldrenamnden = Organisation.objects.get(code="aldrenamnden")

    with transaction.atomic():
        draft = revision_start(actor=actor, year=DEMO_YEAR, title=DEMO_TITLE)
        digital = _need(draft, DIGITALISATION)
        last = digital.next_steps.order_by("-position").first()
        next_position = (last.position if last else 0) + 1

        # New steps under digitalisation (budget input 2025, "4. Digitalisering").
        for text, reason, all_districts in (
            (
                "Framtidssäkra trygghetslarm: Alla trygghetslarm måste från slutet av år 2025 "
                "klara av 4G nätet då 2G nätet stänger ner.",
                f"{DEMO}. Äldrenämndens budgetunderlag 2025: utbytet av trygghetslarm "
                "behöver genomföras under år 2025.",
                False,
            ),
            (
                "Nyckelfri hemtjänst: Processen för återlämning och återbruk av tekniska "
                "komponenter behöver ses över och effektiviseras för att kunna säkerställa "
                "en ekonomisk och hållbar verksamhet.",
                f"{DEMO}. Äldrenämndens budgetunderlag 2025: breddinförandet av nyckelfri "
                "hemtjänst har avslutats och tjänsten ska förvaltas.",
                True,
            ),
        ):
            step = NextStep(
                need=digital,
                position=next_position,
                text=text,
                change_reason=reason,
                all_districts=all_districts,
            )
            next_position += 1
            step.revision_id = draft.pk
            roadmap_item_save(item=step, actor=actor)
            step.horizons.set([horizons["short"]])
            step.responsible_organisations.set([aldrenamnden])

        # A changed text (word-level diff in the redline).
        step = _step(draft, "Sammanhållen digitaliseringsutveckling med gemensamma lösningar")
        step.text = (
            "Sammanhållen digitaliseringsutveckling med gemensamma lösningar enligt den "
            "stadsövergripande digitaliseringsplanen för äldreomsorgen"
        )
        step.change_reason = (
            f"{DEMO}. Nämnden har tagit fram en stadsövergripande digitaliseringsplan "
            "för äldreomsorgen (budgetunderlag 2025)."
        )
        roadmap_item_save(item=step, actor=actor)

        # A retired step.
        step = _step(draft, "Se över behov av antal MAR i staden")
        step.retired = True
        step.change_reason = f"{DEMO}. Steget utgår: översynen är genomförd."
        roadmap_item_save(item=step, actor=actor)

        # A re-timed step.
        step = _step(draft, "Införa mobil röntgen")
        step.change_reason = (
            f"{DEMO}. Införandet kräver en överenskommelse med Region Stockholm och "
            "flyttas till lång sikt."
        )
        roadmap_item_save(item=step, actor=actor)
        step.horizons.set([horizons["long"]])

        # A moved step: to the need that holds the other steps on meals.
        step = _step(draft, "Förbättra samverkan med regionen när det gäller mat och måltider")
        target = _need(draft, "Förebyggande insatser")
        last = target.next_steps.order_by("-position").first()
        step.need = target
        step.position = (last.position if last else 0) + 1
        step.change_reason = f"{DEMO}. Samlas med behovets övriga steg om mat och måltider."
        roadmap_item_save(item=step, actor=actor)
    return draft
