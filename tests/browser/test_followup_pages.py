"""A Bromma reporter fills in and submits in a real browser; the editor sees it
in the matrix. axe-core checks each page."""

import pytest
from django.utils.translation import gettext as _

from followup.models import StatusReport

pytestmark = pytest.mark.django_db(transaction=True)


def test_bromma_reports_and_the_editor_sees_it_in_the_matrix(
    browser_page, login, axe_check, live_server, small_open_period, bromma_reporter, editor
):
    page = browser_page
    login(page, bromma_reporter)
    page.goto(f"{live_server.url}/uppfoljning/mina-rapporter/")
    assert page.locator("h1").count() == 1
    axe_check(page)

    report = StatusReport.objects.get(period=small_open_period, organisation__code="bromma")
    prefix = f"#id_r{report.pk}"
    # Försenad needs a comment: submitting without one keeps the row a draft,
    # its entries saved, and says at the row what it lacks.
    page.locator(f"{prefix}-status").select_option(label="Försenad")
    page.locator(f"{prefix}-planned_next_action").fill("Ny tidplan tas fram.")
    page.get_by_role("button", name=_("Submit")).first.click()
    page.wait_for_load_state()
    assert "Försenad" in page.locator(f"#report-{report.pk}-left").inner_text()
    assert page.locator(f"{prefix}-planned_next_action").input_value() == "Ny tidplan tas fram."
    axe_check(page)
    report.refresh_from_db()
    assert report.state == StatusReport.State.DRAFT and report.status.name == "Försenad"

    page.locator(f"{prefix}-comment").fill("Försenat i väntan på upphandling.")
    page.get_by_role("button", name=_("Submit")).first.click()
    page.wait_for_load_state()
    assert page.locator(".message-success").is_visible()
    report.refresh_from_db()
    assert report.state == StatusReport.State.SUBMITTED
    assert (report.status.name, report.submitted_by) == ("Försenad", bromma_reporter)

    page.context.clear_cookies()
    login(page, editor)
    page.goto(f"{live_server.url}/uppfoljning/perioder/{small_open_period.pk}/")
    matrix = page.locator("table.matrix")
    # Bromma's cell gives the status in text (symbol, abbreviation, name).
    cell = matrix.locator(f"a[href$='/uppfoljning/rapporter/{report.pk}/']")
    assert cell.get_attribute("title") == "Försenad"
    assert "Försenad" in cell.inner_text() or "Försenad" in cell.text_content()
    # Other districts have not reported: marked as missing in text.
    assert matrix.get_by_text(_("Missing")).count() >= 12
    axe_check(page)
