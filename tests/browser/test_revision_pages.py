"""The revision workflow in a real browser, checked with axe-core at 1280 px
and at 320 px: the approver's day (a draft waits for review, goes back with a
comment, the editor sees it, resubmits, the approver approves it with a
corrected title)."""

import datetime

import pytest
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from roadmap.demo import demo_draft_build
from roadmap.models import Revision

pytestmark = pytest.mark.django_db(transaction=True)

DRAFT_TITLE = "UTKAST: Färdplan för äldreomsorgens utveckling"
ADOPTED_TITLE = "Färdplan för äldreomsorgens utveckling"
RETURN_COMMENT = "Ta bort ordet UTKAST ur titeln och skicka igen."


def _waiting(count: int) -> str:
    return ngettext(
        "(%(counter)s waiting for review)", "(%(counter)s waiting for review)", count
    ) % {"counter": count}


def test_approver_returns_a_draft_and_approves_it_with_a_corrected_title(
    browser_page, login, both_widths_check, live_server, small_roadmap, editor, approver
):
    page = browser_page
    base = live_server.url
    year = small_roadmap.year + 1
    draft_url = f"{base}/revisioner/{year}/"

    # The editor starts the draft and submits it.
    login(page, editor)
    assert page.url == base + reverse("work_overview")  # the editor's start page
    page.goto(f"{base}/revisioner/")
    page.get_by_label(_("Year")).fill(str(year))
    page.get_by_label(_("Title")).fill(DRAFT_TITLE)
    page.get_by_role("button", name=_("Start new revision")).click()
    page.wait_for_url(draft_url)
    page.get_by_role("button", name=_("Submit for review")).click()
    page.wait_for_load_state()
    assert page.get_by_text(_("In review")).first.is_visible()

    # The approver lands on what waits for review; the navigation counts it.
    page.context.clear_cookies()
    login(page, approver)
    assert page.url == draft_url
    assert page.locator(".nav-count").inner_text() == _waiting(1)
    both_widths_check(page)
    page.get_by_label(_("What should be changed?")).fill(RETURN_COMMENT)
    page.get_by_role("button", name=_("Return to draft")).click()
    page.wait_for_url(draft_url)
    assert page.get_by_text(_("Draft"), exact=True).first.is_visible()
    assert page.locator(".nav-count").count() == 0  # nothing waits any more

    # The editor finds the draft on the start page, and the comment on it.
    page.context.clear_cookies()
    login(page, editor)
    page.get_by_role("link", name=str(Revision.objects.get(year=year))).click()
    page.wait_for_url(draft_url)
    note = page.locator("#returned-note")
    assert RETURN_COMMENT in note.inner_text()
    assert approver.get_username() in note.inner_text()
    both_widths_check(page)
    page.get_by_role("button", name=_("Submit for review")).click()
    page.wait_for_load_state()
    assert page.locator("#returned-note").count() == 0  # in review: no longer shown

    # The approver corrects the title at approval.
    page.context.clear_cookies()
    login(page, approver)
    assert page.url == draft_url
    page.get_by_role("link", name=_("Approve the revision")).click()
    page.wait_for_url(f"{base}/revisioner/{year}/faststall/")
    title = page.get_by_label(_("Title"), exact=True)
    assert title.input_value() == DRAFT_TITLE
    both_widths_check(page)
    title.fill(ADOPTED_TITLE)
    page.get_by_label(_("Deciding body")).select_option(label="Kommunfullmäktige")
    page.get_by_label(_("Decision date")).fill(datetime.date.today().isoformat())
    page.get_by_label(_("Case number (Dnr)")).fill(f"KS {year}/100")
    page.get_by_role("button", name=_("Approve the revision")).click()
    page.wait_for_url(draft_url)
    assert page.get_by_text(_("Approved")).first.is_visible()
    assert page.locator("h1").inner_text().startswith(ADOPTED_TITLE)
    both_widths_check(page)
    revision = Revision.objects.get(year=year)
    assert (revision.status, revision.title) == (Revision.Status.APPROVED, ADOPTED_TITLE)
    assert [e.kind for e in revision.events.all()] == [
        "created",
        "submitted",
        "returned",
        "submitted",
        "approved",
    ]
    small_roadmap.refresh_from_db()
    assert small_roadmap.status == Revision.Status.SUPERSEDED


def test_redline_page_is_accessible(
    browser_page, login, both_widths_check, live_server, roadmap_2021, editor
):
    draft = demo_draft_build(actor=editor)
    page = browser_page
    login(page, editor)
    page.goto(f"{live_server.url}/revisioner/{draft.year}/jamforelse/")
    assert page.get_by_text("Införa mobil röntgen").first.is_visible()
    both_widths_check(page)
