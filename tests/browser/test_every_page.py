"""Every page each role can reach, in a real browser at 1280 px and at 320 px:
axe-core finds no WCAG 2.1 A/AA violation at either width, and at 320 px the
document is no wider than the viewport (WCAG 1.4.10 Reflow; a wide table
scrolls inside its own region, which the document's width does not count).

"Every page" comes from the crawl (tests/test_crawl.py): every URL pattern of
the project, its parameters filled by the crawl's fillers, so that a new page
is swept without being listed here. Each role requests every pattern's URLs
(with the good values only: junk gives error pages); what answers a GET with
200 and HTML at the URL asked for is a page of that role's. The admin (for
staff; others get its login page) is sampled: its index, each app, each
changelist and one change form per model, and one page of every other kind
(add, delete, history, a historical version, password) on the first model
where the user may see it. Error pages (400, 403, 404) are swept in the
reader's run.

One test per role and part (the site, the admin's content pages, the rest of
the admin), so that pytest-xdist spreads them and none runs long; each has
one browser, logged in once through the login form. Every failure is listed,
so that one run shows them all."""

import datetime
import itertools
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.utils import timezone

from accounts import roles
from followup.models import ReportJob, Status, StatusReport
from followup.services import (
    ReportInput,
    period_close,
    period_create,
    period_open,
    status_report_reopen,
    status_report_save,
)
from roadmap.models import NextStep, Organisation, Revision
from roadmap.services import revision_start, roadmap_item_save
from tests.browser.conftest import both_widths_failures
from tests.test_crawl import DemoData, _sample_reports, fill, walk

pytestmark = pytest.mark.django_db(transaction=True)

# How many of a parameter's good values are swept (one, unless named here):
# the two years (approved, draft), the two periods (closed, open), two
# reports (an open and a closed period's) and two jobs (queued, done) are
# different states of their pages.
MAX_VALUES = {"pk": 2, "year": 2}

# The admin's pages for every model, and those of which one sample is enough
# (the same template for every model).
ADMIN_EVERY_MODEL = re.compile(r"_(changelist|change)$|^admin:(index|app_list)$")
ADMIN_SAMPLED = re.compile(r"_(add|history|delete)$|^admin:(password_change\w*|login)$")

# No pages: a script, JSON, redirects, the logout (POST only), and files. The
# login form is swept once, before the reader logs in.
NOT_PAGES = {
    "admin:jsi18n",
    "admin:autocomplete",
    "admin:view_on_site",
    "logout",
    "admin:logout",
    "login",
}
FILES = (".csv", ".xlsx", ".json", "/fil/")


def _admin_sample(pattern) -> str | None:
    """None for a page of every model's; the kind of a page of which one
    sample is enough; "" for what is no page to sweep."""
    if ADMIN_EVERY_MODEL.search(pattern.name):
        return None
    if pattern.view_name == "history_form_view":
        return "history_form"
    match = ADMIN_SAMPLED.search(pattern.name)
    return match[0] if match else ""


def _urls(pattern, data) -> list[str]:
    if pattern.view_name == "history_form_view":
        # An object and a version of that object (the crawl pairs any two).
        obj = pattern.model._default_manager.order_by("pk").first()
        version = obj.history.order_by("history_id").first() if obj is not None else None
        return [f"/{pattern.format}" % {"_0": obj.pk, "_1": version.pk}] if version else []
    values = []
    for param in pattern.params:
        good = fill(pattern, param, data)
        if not good:
            return []
        values.append(good[: MAX_VALUES.get(param, 1)])
    return [
        "/" + pattern.format % dict(zip(pattern.params, combo, strict=True))
        for combo in itertools.product(*values)
    ]


# The parts of a staff role's sweep, each a test of its own, so that none runs
# long: the site, the admin's pages of the revisions and their content, the
# rest of the admin.
CONTENT = re.compile(
    r"admin/roadmap/(revision|focusarea|need|nationalinitiative|cityaction|nextstep)/"
)
PARTS = ("site", "admin-content", "admin-other")


# Where a sampled kind of admin page is swept: rows may be deleted only in
# the draft's content; everything else is sampled in the rest of the admin.
SAMPLED_IN = {"_delete": "admin-content"}


def _part(pattern) -> str:
    if not pattern.name.startswith("admin:"):
        return "site"
    return "admin-content" if CONTENT.match(pattern.format) else "admin-other"


def candidate_pages(data, parts: set[str], *, staff: bool) -> list[tuple[str, str | None, str]]:
    """(pattern name, sample kind, URL) of every page to try. The admin is for
    staff: others get its login page only."""
    pages = []
    for pattern in walk():
        if _part(pattern) not in parts or pattern.name in NOT_PAGES:
            continue
        if pattern.view_name == "catch_all_view":
            continue
        kind = None
        if pattern.name.startswith("admin:"):
            kind = _admin_sample(pattern)
            if kind == "" or (not staff and pattern.name != "admin:login"):
                continue
            if kind and SAMPLED_IN.get(kind, "admin-other") != _part(pattern):
                continue  # sampled in the other part of the admin
        pages += [
            (pattern.name, kind, url) for url in _urls(pattern, data) if not url.endswith(FILES)
        ]
    return pages


# --- The data: every state of every page, small ---------------------------------------
# The crawl's demo data (the 2021 roadmap, 6,000 reports) makes the matrix
# 13,000 elements, on which axe alone takes 7 s. The sweep needs every state
# of every page, not the volume: the small roadmap (one of everything), its
# draft with a change, a closed period (submitted, missing and reopened
# reports) and an open one (partly reported), a finished and a queued report
# job. The journeys (test_journeys.py, test_revision_pages.py) check pages of
# the real 2021 roadmap at both widths.


def _report(period, code: str) -> StatusReport:
    return (
        StatusReport.objects.filter(period=period, organisation__code=code).order_by("pk").first()
    )


def _submit(period, codes, reporter) -> None:
    statuses = list(Status.objects.order_by("position"))
    reports = StatusReport.objects.filter(period=period, organisation__code__in=codes)
    for report, status in zip(reports.order_by("pk"), itertools.cycle(statuses)):
        comment = "Enligt plan." if status.requires_comment else ""
        status_report_save(
            report=report,
            data=ReportInput(status=status, comment=comment),
            actor=reporter,
            submit=True,
        )


@pytest.fixture
def sweep_data(small_roadmap, editor, make_user, bromma_reporter, media_root):
    draft = revision_start(actor=editor, year=small_roadmap.year + 1)
    step = NextStep.objects.filter(revision=draft).first()
    step.text += " Utökas till alla stadsdelar."
    step.change_reason = "Ändrat i utkastet."
    roadmap_item_save(item=step, actor=editor)
    # A step added in the draft (the last one): it can be deleted, so the
    # admin's delete confirmation is a page too.
    added = NextStep(need=step.need, position=step.position + 1, text="Ett nytt steg.")
    added.revision_id = draft.pk
    added.change_reason = "Nytt i utkastet."
    roadmap_item_save(item=added, actor=editor)

    today = timezone.localdate()
    codes = list(
        Organisation.objects.filter(kind=Organisation.Kind.DISTRICT).values_list("code", flat=True)
    )
    everyone = make_user("alla", roles.REPORTER, (*codes, "aldrenamnden", "ks"))
    closed = period_open(
        period=period_create(
            year=small_roadmap.year, kind="T1", revision=small_roadmap, actor=editor
        ),
        actor=editor,
    )
    _submit(closed, [c for c in codes if c != "skarholmen"] + ["aldrenamnden", "ks"], everyone)
    closed = period_close(
        period=closed, actor=editor, today=closed.deadline + datetime.timedelta(1)
    )
    status_report_reopen(report=_report(closed, "bromma"), actor=editor, reason="Rättas.")
    current = period_open(
        period=period_create(
            year=small_roadmap.year,
            kind="T2",
            revision=small_roadmap,
            actor=editor,
            opens_on=today - datetime.timedelta(days=3),
            deadline=today + datetime.timedelta(days=10),
        ),
        actor=editor,
    )
    _submit(current, ["farsta", "kungsholmen"], everyone)

    done = ReportJob.objects.create(
        kind=ReportJob.Kind.CITYWIDE,
        parameters={"period": str(closed)},
        title="Stadsövergripande periodrapport",
        requested_by=editor,
    )
    done.file.save("rapport.pdf", ContentFile(b"%PDF-1.7\n%%EOF\n"), save=False)
    ReportJob.objects.filter(pk=done.pk).update(
        state=ReportJob.State.DONE,
        file=done.file.name,
        file_size=15,
        page_count=1,
        input_checksum="c" * 64,
        progress="Klar: 1 sida.",
        started_at=timezone.now(),
        finished_at=timezone.now(),
    )
    queued = ReportJob.objects.create(
        kind=ReportJob.Kind.PERIOD,
        parameters={"period": str(current), "organisation": "bromma"},
        title="Periodrapport Bromma",
        organisation=Organisation.objects.get(code="bromma"),
        requested_by=bromma_reporter,
    )
    return DemoData(
        years=[small_roadmap.year, draft.year],
        periods=[closed.pk, current.pk],
        reports=_sample_reports(),
        jobs=[queued.pk, done.pk],
        users=list(get_user_model().objects.values_list("pk", flat=True)),
        content_type=ContentType.objects.get_for_model(Revision).pk,
        content_object=small_roadmap.pk,
    )


def _is_page(page, url: str, status: int) -> bool:
    """Whether the URL answers a GET with ``status`` and an HTML page, at the
    URL itself: a HEAD request in the browser's session, before the browser
    opens it. (A POST-only view's empty 405 would leave Chromium on its error
    page, and a file would start a download.)"""
    response = page.request.head(url, max_redirects=0)
    return (
        response.status == status
        and response.headers.get("content-type", "").startswith("text/html")
        and "attachment" not in response.headers.get("content-disposition", "")
    )


def sweep(page, base: str, pages, *, status: int = 200) -> tuple[list[str], list[str]]:
    """Open each (name, sample kind, URL) that is a page of the user's and
    check it, one page of each sample kind. Returns the names checked and the
    failures."""
    checked, failures, sampled = [], [], set()
    for name, kind, url in pages:
        if kind in sampled or not _is_page(page, base + url, status):
            continue
        response = page.goto(base + url)
        if page.url != base + url:
            continue  # a GET redirects where a HEAD did not (the admin's login, logged in)
        assert response.status == status, url
        checked.append(name)
        if kind is not None:
            sampled.add(kind)
        failures += both_widths_failures(page, f"{name} {url}")
    return checked, failures


@pytest.mark.parametrize(
    ("role", "parts", "expected"),
    [
        pytest.param(
            "editor",
            {"site"},
            {"work_overview", "roadmap:current", "roadmap:redline", "followup:matrix"},
            id="editor-site",
        ),
        pytest.param(
            "editor",
            {"admin-content"},
            {
                "admin:roadmap_nextstep_changelist",
                "admin:roadmap_nextstep_change",
                "admin:roadmap_nextstep_delete",
            },
            id="editor-admin-content",
        ),
        pytest.param(
            "editor",
            {"admin-other"},
            {"admin:index", "admin:roadmap_organisation_change", "admin:password_change"},
            id="editor-admin-other",
        ),
        pytest.param(
            "approver",
            {"site"},
            {"roadmap:approve", "roadmap:list", "followup:periods"},
            id="approver-site",
        ),
        pytest.param(
            "approver",
            {"admin-content"},
            {"admin:roadmap_revision_changelist", "admin:roadmap_need_change"},
            id="approver-admin-content",
        ),
        pytest.param(
            "approver",
            {"admin-other"},
            {"admin:followup_reportingperiod_changelist", "admin:followup_statusreport_change"},
            id="approver-admin-other",
        ),
        pytest.param(
            "bromma_reporter",
            set(PARTS),
            {"followup:my_reports", "followup:reports", "roadmap:current", "admin:login"},
            id="reporter",
        ),
        pytest.param(
            "reader",
            set(PARTS),
            {"roadmap:current", "followup:matrix", "followup:reports", "followup:report"},
            id="reader",
        ),
    ],
)
def test_every_page_passes_axe_and_reflows(
    role, parts, expected, request, browser_page, login, live_server, sweep_data
):
    user = request.getfixturevalue(role)
    page = browser_page
    base = live_server.url
    failures = []
    if role == "reader":
        # Before logging in: the login page. After: the error pages.
        page.goto(f"{base}/login/")
        failures += both_widths_failures(page, "login /login/")
    login(page, user)
    checked, found = sweep(page, base, candidate_pages(sweep_data, parts, staff=user.is_staff))
    failures += found
    if role == "reader":
        for status, url in [
            (404, "/finns-inte/"),
            (403, "/start/oversikt/"),
            (400, f"/revisioner/{sweep_data.years[0]}/forfallna/?ar=abc"),
        ]:
            names, found = sweep(page, base, [(str(status), None, url)], status=status)
            assert names, f"{url} did not answer {status}"
            failures += found
    print(f"\n{role} {sorted(parts)}: {len(checked)} pages: {sorted(set(checked))}")
    assert expected <= set(checked), f"not swept: {expected - set(checked)}"
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures)
