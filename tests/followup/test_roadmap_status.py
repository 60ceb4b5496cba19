"""The roadmap page shows each action's latest status from the follow-up: the
statuses the organisations reported in the latest period with a submitted
report on the action (by lineage, so across revisions), in words, linking to
the action's row in that period's overview. Only for those who read the
follow-up. The revision's history comes after the content. A fixed number of
queries, whatever the size of the roadmap and the follow-up.
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext

from accounts import roles
from followup.models import ReportingPeriod, Status, StatusReport
from followup.selectors import latest_status_by_lineage
from followup.services import (
    ReportInput,
    period_close,
    period_create,
    period_open,
    status_report_save,
)
from roadmap.models import NextStep, Organisation, Revision, TimeHorizon
from roadmap.services import revision_start
from tests.builders import build_tree
from tests.factories import RevisionFactory, approve, supersede

CURRENT = "/"


def _submit(report: StatusReport, status: Status, actor) -> None:
    status_report_save(
        report=report, data=ReportInput(status=status, comment="Test."), actor=actor, submit=True
    )


def _step_report(period: ReportingPeriod, org: str) -> StatusReport:
    return StatusReport.objects.get(period=period, organisation__code=org, next_step__isnull=False)


def _status_line(content: str, lineage_id) -> str:
    """The status paragraph of the action whose link carries ``lineage_id``."""
    anchor = content.index(f"#action-{lineage_id}")
    start = content.rindex('<p class="action-status', 0, anchor)
    return content[start : content.index("</p>", anchor)]


# --- The selector --------------------------------------------------------------------


def test_latest_status_is_from_the_latest_period_with_a_submitted_report(
    small_period, small_roadmap, statuses, editor, bromma_reporter, farsta_reporter
):
    step = NextStep.objects.get(revision=small_roadmap)
    # 2030-T1: Bromma reported Försenad (the fixture). 2030-T2: Bromma and
    # Farsta report; 2031-T1 is opened, but nobody has submitted anything yet.
    t2 = period_open(
        period=period_create(year=2030, kind="T2", revision=small_roadmap, actor=editor),
        actor=editor,
    )
    _submit(_step_report(t2, "bromma"), statuses["pagar-enligt-plan"], bromma_reporter)
    _submit(_step_report(t2, "farsta"), statuses["pagar-enligt-plan"], farsta_reporter)
    later = period_open(
        period=period_create(year=2031, kind="T1", revision=small_roadmap, actor=editor),
        actor=editor,
    )
    status_report_save(  # a draft is not a status: it counts as missing
        report=_step_report(later, "bromma"),
        data=ReportInput(status=statuses["genomford"]),
        actor=bromma_reporter,
        submit=False,
    )

    latest = latest_status_by_lineage([step.lineage_id])
    found = latest[step.lineage_id]
    assert found.period == t2
    total = StatusReport.objects.filter(period=t2, next_step=step).count()
    assert total == 14  # äldrenämnden and the 13 districts
    assert [(c.status, c.count) for c in found.counts] == [
        (statuses["pagar-enligt-plan"], 2),
        (None, total - 2),
    ]
    assert (found.submitted, found.total) == (2, total)


def test_statuses_come_in_their_order_and_missing_last(
    small_period, small_roadmap, statuses, editor, make_user
):
    step = NextStep.objects.get(revision=small_roadmap)
    for code, status in (("farsta", "genomford"), ("skarholmen", "ej-paborjad")):
        reporter = make_user(f"rapportor-{code}", roles.REPORTER, (code,))
        _submit(_step_report(small_period, code), statuses[status], reporter)
    counts = latest_status_by_lineage([step.lineage_id])[step.lineage_id].counts
    assert [c.status.code if c.status else None for c in counts] == [
        "ej-paborjad",
        "forsenad",
        "genomford",
        None,
    ]


def test_actions_nobody_reported_on_are_left_out(small_period, small_roadmap):
    from roadmap.models import CityAction

    action = CityAction.objects.get(revision=small_roadmap)  # kommunstyrelsen's, not reported
    assert latest_status_by_lineage([action.lineage_id]) == {}
    assert latest_status_by_lineage([]) == {}


# --- The page ------------------------------------------------------------------------


def test_reader_sees_the_status_in_words_and_follows_the_link_to_the_overview(
    small_period, small_roadmap, statuses, reader, client_for
):
    step = NextStep.objects.get(revision=small_roadmap)
    client = client_for(reader)
    content = client.get(CURRENT).content.decode()
    line = _status_line(content, step.lineage_id)
    url = f"{reverse('followup:matrix', args=[small_period.pk])}#action-{step.lineage_id}"
    label = gettext("Latest follow-up, %(period)s") % {"period": small_period.label}
    assert f'<a href="{url}">{escape(label)}</a>' in line
    # Every status by name with its count; missing reports as "Missing".
    total = StatusReport.objects.filter(period=small_period, next_step=step).count()
    assert f"{escape(statuses['forsenad'].name)}: 1</span>" in line
    assert f"{escape(gettext('Missing'))}: {total - 1}</span>" in line
    # The colour is only a border on the symbol, from a style sheet with the nonce.
    assert f"status-swatch--{statuses['forsenad'].pk}" in line
    assert "<style nonce=" in content and "style=" not in line
    # The link leads to the overview, to the action's row, which the reader may see.
    matrix = client.get(reverse("followup:matrix", args=[small_period.pk]))
    assert matrix.status_code == 200
    assert f'id="action-{step.lineage_id}"' in matrix.content.decode()


def test_a_city_action_not_reported_yet_says_so(small_period, small_roadmap, reader, client_for):
    content = client_for(reader).get(CURRENT).content.decode()
    assert content.count('class="action-status"') == 1  # the next step
    assert content.count('class="action-status action-status--none"') == 1  # the city action
    assert escape(gettext("No status reported yet.")) in content


def test_the_draft_shows_the_statuses_of_the_same_actions(
    small_period, small_roadmap, editor, client_for
):
    """A new revision keeps every item's lineage: its copy of the step has the
    status reported on the step of the revision before."""
    draft = revision_start(actor=editor)
    copy = NextStep.objects.get(revision=draft)
    content = client_for(editor).get(reverse("roadmap:detail", args=[draft.year])).content
    line = _status_line(content.decode(), copy.lineage_id)
    assert escape(small_period.label) in line


@pytest.mark.parametrize("who", ["bromma_reporter", "no_follow_up"])
def test_no_status_for_reporters_or_without_follow_up(
    who, small_roadmap, statuses, reader, bromma_reporter, editor, client_for
):
    if who == "bromma_reporter":
        # A reporter cannot open the overview: no statuses, no links to it.
        period = period_create(year=2030, kind="T1", revision=small_roadmap, actor=editor)
        period_open(period=period, actor=editor)
        user = bromma_reporter
    else:
        user = reader  # no period has been opened yet: nothing to say
    content = client_for(user).get(CURRENT).content.decode()
    assert "action-status" not in content
    assert "/uppfoljning/perioder/" not in content


def test_the_history_of_the_revision_comes_after_the_content(
    small_period, small_roadmap, reader, client_for
):
    content = client_for(reader).get(CURRENT).content.decode()
    last_table = content.rindex('<table class="roadmap-table">')
    assert content.index('id="timeline-heading"') > last_table
    # The panel at the top links down to it.
    assert content.index('href="#timeline-heading"') < content.index('id="toc-heading"')


def test_a_closed_period_status_shows_when_the_next_one_has_no_reports_yet(
    small_period, small_roadmap, editor, reader, client_for
):
    ReportingPeriod.objects.filter(pk=small_period.pk).update(
        opens_on=timezone.localdate() - datetime.timedelta(days=30),
        deadline=timezone.localdate() - datetime.timedelta(days=1),
    )
    period_close(period=small_period, actor=editor)
    period_open(
        period=period_create(year=2030, kind="T2", revision=small_roadmap, actor=editor),
        actor=editor,
    )
    step = NextStep.objects.get(revision=small_roadmap)
    line = _status_line(client_for(reader).get(CURRENT).content.decode(), step.lineage_id)
    assert escape(small_period.label) in line


# --- Queries ---------------------------------------------------------------------------


def _revision_with_follow_up(year: int, needs: int, editor, statuses) -> Revision:
    """4 focus areas × ``needs`` needs, each with 3 next steps and a city action
    for äldrenämnden and Bromma; a period on it, opened, with half the reports
    submitted in two statuses."""
    revision = RevisionFactory(year=year)
    build_tree(
        revision,
        focus_areas=4,
        needs=needs,
        initiatives=1,
        city_actions=1,
        next_steps=3,
        horizons=TimeHorizon.objects.filter(code__in=["short"]),
        organisations=Organisation.objects.filter(code__in=["aldrenamnden", "bromma"]),
    )
    period = period_create(year=year, kind="T1", revision=approve(revision), actor=editor)
    period = period_open(period=period, actor=editor)
    reports = StatusReport.objects.filter(period=period)
    now = timezone.now()
    for status, organisation in ((statuses["forsenad"], "bromma"), (statuses["paborjad"], None)):
        chosen = reports.filter(organisation__code=organisation or "aldrenamnden")
        chosen.filter(pk__in=list(chosen.values_list("pk", flat=True)[::2])).update(
            state=StatusReport.State.SUBMITTED, status=status, submitted_at=now
        )
    return Revision.objects.get(pk=revision.pk)


def _count(client, url: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_query_count_does_not_grow_with_the_roadmap_and_the_follow_up(
    reference_data, statuses, editor, reader, client_for, capsys
):
    small = _revision_with_follow_up(2031, 5, editor, statuses)
    supersede(small)
    large = _revision_with_follow_up(2032, 50, editor, statuses)
    assert (
        NextStep.objects.filter(revision=large).count()
        == 10 * NextStep.objects.filter(revision=small).count()
        == 600
    )
    client = client_for(reader)
    client.get(CURRENT)  # warm up: session, content types
    one, small_html = _count(client, reverse("roadmap:detail", args=[2031]))
    ten, large_html = _count(client, reverse("roadmap:detail", args=[2032]))
    with capsys.disabled():
        print(f"\nroadmap page with statuses: 1× = {one} queries, 10× = {ten}")
    assert one == ten <= 18
    # The pages really showed the statuses, for every action with a report.
    for revision, html in ((small, small_html), (large, large_html)):
        reported = StatusReport.objects.filter(
            period__revision=revision, state=StatusReport.State.SUBMITTED
        )
        lineages = set(reported.values_list("lineage_id", flat=True))
        assert len(lineages) > 100 if revision == large else len(lineages) > 10
        assert html.count('class="action-status"') == len(lineages)
