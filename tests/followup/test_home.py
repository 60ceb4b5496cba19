"""Every role's day: the start page after login, the editors' work overview,
and the counts in the navigation. (Here, beside the follow-up's fixtures: the start
page and the counts depend on the open periods as much as on the revisions.)

alice edits, bob approves, cecilia reports for Bromma and david for Farsta,
erik reads and frida has no role."""

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.translation import gettext, ngettext

from accounts import roles
from fardplan.context_processors import navigation_counts
from followup.models import StatusReport
from roadmap.services.revisions import revision_submit
from tests.conftest import PASSWORD

HOME = reverse("home")
OVERVIEW = reverse("work_overview")
MY_REPORTS = reverse("followup:my_reports")
REVISIONS = reverse("roadmap:list")
CURRENT = reverse("roadmap:current")


def log_in(client, user, next_url: str | None = None):
    url = reverse("login") + (f"?next={next_url}" if next_url else "")
    response = client.post(url, {"username": user.get_username(), "password": PASSWORD})
    assert response.status_code == 302, "could not log in"
    return response


def landing(client, user, next_url: str | None = None) -> str:
    """Where the user lands after logging in, following the start page."""
    location = log_in(client, user, next_url)["Location"]
    if location == HOME:
        response = client.get(HOME)
        assert response.status_code == 302
        location = response["Location"]
    return location


@pytest.fixture
def in_review(draft_2022, editor):
    return revision_submit(revision=draft_2022, actor=editor)


# --- The start page -------------------------------------------------------------------


def test_login_goes_to_the_start_page(settings, client, reader):
    assert settings.LOGIN_REDIRECT_URL == "home"
    assert log_in(client, reader)["Location"] == HOME


def test_reporter_starts_on_my_reports(client, bromma_reporter):
    assert landing(client, bromma_reporter) == MY_REPORTS


def test_reader_starts_on_the_roadmap(client, reader):
    assert landing(client, reader) == CURRENT


def test_user_without_a_role_starts_on_the_roadmap(client, no_role_user):
    assert landing(client, no_role_user) == CURRENT


def test_editor_starts_on_the_work_overview(client, editor):
    assert landing(client, editor) == OVERVIEW


def test_approver_with_nothing_waiting_starts_on_the_revisions(client, approver):
    assert landing(client, approver) == REVISIONS


def test_approver_starts_on_the_revision_in_review(client, approver, in_review):
    assert landing(client, approver) == reverse("roadmap:detail", kwargs={"year": 2022})


def test_next_wins_over_the_start_page(client, bromma_reporter):
    assert landing(client, bromma_reporter, next_url=REVISIONS) == REVISIONS


def test_anonymous_start_page_asks_for_login(client):
    response = client.get(HOME)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    ("extra", "waiting", "expected"),
    [
        # Reporter beats everything.
        ((roles.REPORTER, roles.APPROVER, roles.EDITOR), True, MY_REPORTS),
        # An approver with something waiting beats the editor's overview ...
        ((roles.APPROVER, roles.EDITOR), True, "detail"),
        # ... but with nothing waiting, the editor's overview wins.
        ((roles.APPROVER, roles.EDITOR), False, OVERVIEW),
        # The editor beats the reader.
        ((roles.EDITOR, roles.READER), False, OVERVIEW),
    ],
)
def test_several_roles_start_on_the_most_specific_work(
    client, make_user, role_groups, draft_2022, editor, extra, waiting, expected
):
    user = make_user("gustav", None, ("bromma",))
    user.groups.add(*(role_groups[role] for role in extra))
    if waiting:
        revision_submit(revision=draft_2022, actor=editor)
    if expected == "detail":
        expected = reverse("roadmap:detail", kwargs={"year": 2022})
    assert landing(client, user) == expected


# --- The work overview ----------------------------------------------------------------


def test_overview_lists_open_periods_and_open_revisions(
    client_for, editor, open_period, draft_2022, bromma_reporter, statuses
):
    from followup.services import ReportInput, status_report_save

    report = StatusReport.objects.filter(period=open_period, organisation__code="bromma").first()
    status_report_save(
        report=report,
        data=ReportInput(status=statuses["paborjad"], comment="Vi har börjat."),
        actor=bromma_reporter,
        submit=True,
    )
    total = StatusReport.objects.filter(period=open_period).count()
    response = client_for(editor).get(OVERVIEW)
    assert response.status_code == 200
    content = response.content.decode()
    assert content.count("<h1") == 1
    assert reverse("followup:matrix", args=[open_period.pk]) in content
    assert gettext("%(submitted)s of %(total)s") % {"submitted": 1, "total": total} in content
    days = (open_period.deadline - datetime.date.today()).days
    assert ngettext("%(days)s day left", "%(days)s days left", days) % {"days": days} in content
    # The draft, with its status in words.
    assert reverse("roadmap:detail", kwargs={"year": 2022}) in content
    assert gettext("Draft") in content
    # The navigation leads there, marked as the current page.
    assert f'href="{OVERVIEW}" aria-current="page"' in content


def test_overview_without_open_work(client_for, editor):
    content = client_for(editor).get(OVERVIEW).content.decode()
    assert gettext("No reporting period is open.") in content
    assert gettext("No revision is in draft or in review.") in content


@pytest.mark.parametrize("who", ["reader", "bromma_reporter", "no_role_user"])
def test_overview_is_refused_to_others(client_for, request, who):
    user = request.getfixturevalue(who)
    assert client_for(user).get(OVERVIEW).status_code == 403
    # ... and not offered in their navigation.
    assert OVERVIEW not in client_for(user).get(CURRENT).content.decode()


# --- The counts in the navigation -----------------------------------------------------


def _nav(client, url=REVISIONS) -> str:
    content = client.get(url).content.decode()
    return content.split("<nav", 1)[1].split("</nav>", 1)[0]


def test_approver_sees_how_many_revisions_wait(client_for, approver, in_review):
    nav = _nav(client_for(approver))
    waiting = ngettext(
        "(%(counter)s waiting for review)", "(%(counter)s waiting for review)", 1
    ) % {"counter": 1}
    assert waiting in nav
    assert "1 väntar på granskning" in nav  # the Swedish the users read


def test_no_count_when_nothing_waits(client_for, approver, roadmap_2021):
    nav = _nav(client_for(approver))
    assert "nav-count" not in nav


def test_reporter_sees_how_many_reports_are_left(
    client_for, bromma_reporter, open_period, statuses
):
    from followup.services import ReportInput, status_report_save

    report = StatusReport.objects.filter(period=open_period, organisation__code="bromma").first()
    status_report_save(
        report=report,
        data=ReportInput(status=statuses["paborjad"], comment="Vi har börjat."),
        actor=bromma_reporter,
        submit=True,
    )
    left = StatusReport.objects.filter(
        period=open_period, organisation__code="bromma", state="draft"
    ).count()
    assert left == 100
    nav = _nav(client_for(bromma_reporter), MY_REPORTS)
    assert f"({left} kvar att rapportera)" in nav
    # The count is inside the link, so it is part of the link's name.
    link = nav.split(f'href="{MY_REPORTS}"', 1)[1].split("</a>", 1)[0]
    assert "kvar att rapportera" in link


def test_other_roles_get_no_counts(rf, reader, editor, no_role_user, in_review, open_period):
    for user in (reader, editor, no_role_user):
        request = rf.get("/")
        request.user = user
        assert "waiting_for_review" not in navigation_counts(request)["nav_counts"]
        assert "left_to_report" not in navigation_counts(request)["nav_counts"]
    request = rf.get("/")
    request.user = AnonymousUser()
    with CaptureQueriesContext(connection) as queries:
        assert navigation_counts(request) == {}
    assert len(queries) == 0


def _queries_for(user) -> tuple[int, dict]:
    """The queries the counts cost, with a fresh user (no permission cache)."""
    user = type(user).objects.get(pk=user.pk)
    request = RequestFactory().get("/")
    request.user = user
    with CaptureQueriesContext(connection) as queries:
        context = navigation_counts(request)
    return len(queries), context


def test_counts_cost_a_fixed_number_of_queries(
    make_user, role_groups, make_period, editor, draft_2022
):
    user = make_user("gustav", roles.REPORTER, ("bromma",))
    user.groups.add(role_groups[roles.APPROVER])
    today = datetime.date.today()
    dates = {"opens_on": today - datetime.timedelta(days=1), "deadline": today}
    make_period(2022, "T1", **dates)
    few, context = _queries_for(user)
    assert context["nav_counts"] == {"waiting_for_review": 0, "left_to_report": 101}
    # Permissions (user's and groups') and one count per role.
    assert few <= 4

    # More data: another open period, more organisations, a revision in review.
    make_period(2022, "T2", **dates)
    user.organisations.add(*user.organisations.model.objects.filter(code="farsta"))
    revision_submit(revision=draft_2022, actor=editor)
    many, context = _queries_for(user)
    assert context["nav_counts"] == {"waiting_for_review": 1, "left_to_report": 404}
    assert many == few
