"""The PDF reports as a reader gets them: the text extracted from the PDF
(pypdf), in the order a reader meets it, and the PDF's tagging and metadata."""

import io
import socket
from collections import Counter

import pytest
from django.utils import timezone
from pypdf import PdfReader

from followup.demo import demo_followup_build
from followup.models import ReportingPeriod, Status, StatusReport
from followup.reports.charts import distribution_svg
from followup.reports.data import annual_report_data, period_report_data
from followup.reports.render import (
    AssetFetcher,
    BrokenReportError,
    assets_dir,
    html_to_pdf,
    pdf_verify,
    report_pdf_render,
)
from roadmap.models import NextStep, Organisation
from roadmap.selectors import revision_tree
from tests.helpers import normalise, pdf_pages

NOT_REPORTED = "Ej rapporterad"


def _render(data) -> bytes:
    return report_pdf_render(data, generated_at=timezone.now()).pdf


def _expected_consolidated(year: int) -> dict:
    """Worked out here from the reports, independently of the report code:
    per next step (by lineage), each responsible organisation's last submitted
    status in the year; the most common wins, on a tie the earlier status."""
    periods = sorted(
        ReportingPeriod.objects.filter(year=year), key=ReportingPeriod.sort_key, reverse=True
    )
    frame = periods[0]
    statuses = {s.pk: s for s in Status.objects.all()}
    last: dict = {}
    for period in periods:  # newest first: the first submitted report found wins
        for r in StatusReport.objects.filter(period=period, next_step__isnull=False):
            if r.state == "submitted":
                last.setdefault((r.lineage_id, r.organisation_id), r)
    result: dict = {}
    problems: dict = {}
    for r in StatusReport.objects.filter(period=frame, next_step__isnull=False).select_related(
        "organisation"
    ):
        found = last.get((r.lineage_id, r.organisation_id))
        result.setdefault(r.lineage_id, []).append(statuses[found.status_id] if found else None)
        if found and statuses[found.status_id].is_problem:
            problems.setdefault(r.lineage_id, []).append(r.organisation.name)
    consolidated = {}
    for lineage, reported in result.items():
        counts = Counter(s for s in reported if s is not None)
        consolidated[lineage] = (
            min(counts, key=lambda s: (-counts[s], s.position)).name if counts else NOT_REPORTED
        )
    return {"status": consolidated, "problems": problems}


@pytest.fixture
def year_2022(roadmap_2021, statuses, editor):
    """The demo follow-up: 2022 T1, T2 and VB with a full year of reports."""
    demo_followup_build(actor=editor)
    return roadmap_2021


def test_annual_report_has_every_next_step_with_its_status_and_organisations(year_2022):
    data = annual_report_data(year=2022)
    pdf = _render(data)
    pages = pdf_pages(pdf)
    text = " ".join(pages)
    expected = _expected_consolidated(2022)

    # The body starts on the first page that opens with focus area 1, after the
    # summary (whose list of passed horizons names next steps too).
    tree = list(revision_tree(revision=year_2022))
    body_page = next(
        i for i, p in enumerate(pages) if p.startswith(normalise(f"1 {tree[0].title}"))
    )
    assert body_page > 2
    cursor = len(" ".join(pages[:body_page]))
    for fa_number, fa in enumerate(tree, start=1):
        cursor = text.index(normalise(f"{fa_number} {fa.title}"), cursor)
        for need_number, need in enumerate(fa.needs.all(), start=1):
            heading = f"{fa_number}.{need_number} {need.title or '(rubrik saknas i källan)'}"
            cursor = text.index(normalise(heading), cursor)
            steps = list(need.next_steps.all())
            positions = []
            for step in steps:
                cursor = text.index(normalise(step.text), cursor)
                positions.append(cursor)
            for i, step in enumerate(steps):
                end = positions[i + 1] if i + 1 < len(steps) else len(text)
                block = text[positions[i] : end]
                status = block.split("Samlad status:", 1)[1].split("(", 1)[0]
                assert status.strip().endswith(expected["status"][step.lineage_id]), step.text
                assert step.horizon_label() in block
                for org in expected["problems"].get(step.lineage_id, []):
                    assert org in block.split("Kommentarer om förseningar", 1)[1], (org, step)
    assert NextStep.objects.filter(revision=year_2022).count() == 45

    # Every status in the key; the demo's Försenad comments where they belong.
    for status in Status.objects.all():
        assert f"{status.symbol} {status.name}" in text
    assert "Demodata: försenat på grund av bemanningsläget" in text

    # The appendix: one column per district, its header on every page.
    appendix = text.index("Bilaga: stadsdelsnämndernas status", text.index("Teckenförklaring"))
    start_page = next(i for i, p in enumerate(pages) if "Bilaga: stadsdelsnämndernas" in p[:80])
    districts = Organisation.objects.districts().order_by("name")
    header = normalise(
        "Åtgärd " + " ".join(d.name.removesuffix(" stadsdelsnämnd") for d in districts)
    )
    # Long names wrap after their hyphens in the narrow columns.
    assert header in text[appendix:].replace("- ", "-")
    assert len(pages) - start_page >= 2
    for page in pages[start_page:]:
        assert header in page.replace("- ", "-")

    # The cover, the table of contents with page numbers, the running header.
    assert pages[0].startswith("Stockholms stad, äldreförvaltningen Årsuppföljning 2022")
    assert "KS 2021/1462" in pages[0]
    summary_page = next(i for i, p in enumerate(pages) if p.startswith("Sammanfattning")) + 1
    assert f"Sammanfattning {'.' * 3}" in pages[1] or "Sammanfattning" in pages[1]
    toc_line = pages[1].split("Sammanfattning", 1)[1].split("1 Ändamålsenlig", 1)[0]
    assert toc_line.rstrip(". ").split()[-1] == str(summary_page)
    raw_page = PdfReader(io.BytesIO(pdf)).pages[4].extract_text()
    assert "Årsuppföljning 2022" in raw_page and f"Sida 5 av {len(pages)}" in raw_page


def test_period_report_has_every_report_of_the_organisation_and_no_other(year_2022):
    period = ReportingPeriod.objects.get(year=2022, kind="T2")
    bromma = Organisation.objects.get(code="bromma")
    pdf = _render(period_report_data(period=period, organisation=bromma))
    text = " ".join(pdf_pages(pdf))

    reports = list(
        StatusReport.objects.filter(period=period, organisation=bromma).select_related(
            "status", "next_step__need__focus_area", "city_action__need__focus_area"
        )
    )
    assert len(reports) > 50

    def order(report):  # the roadmap's order: need by need, steps before city actions
        need = report.action.need
        kind = 0 if report.next_step_id else 1
        return (need.focus_area.position, need.position, kind, report.action.position)

    cursor = text.index("Teckenförklaring")
    for report in sorted(reports, key=order):
        start = cursor = text.index(normalise(report.action.text), cursor)
        block = text[start : start + len(report.action.text) + 600]
        status = report.status.name if report.is_submitted else NOT_REPORTED
        assert f"Status: {report.status.symbol if report.is_submitted else '?'}" in block
        assert status in block
        if report.comment:
            assert normalise(report.comment) in block
    # Another organisation's reports are not in it.
    for other in Organisation.objects.districts().exclude(pk=bromma.pk):
        assert other.name not in text
    assert "Periodrapport Tertialrapport 2" in text and "Bromma stadsdelsnämnd" in text


def test_citywide_report_lists_every_organisation_under_each_action(small_period):
    pdf = _render(period_report_data(period=small_period, organisation=None))
    text = " ".join(pdf_pages(pdf))
    body = text[text.index("Teckenförklaring") :]
    for report in StatusReport.objects.filter(period=small_period).select_related(
        "organisation", "status"
    ):
        action = body.index(normalise(report.action.text))
        entry = body.index(f"{report.organisation.name}:", action)
        status = report.status.name if report.is_submitted else NOT_REPORTED
        assert (
            body[entry : entry + 120].split(":", 1)[1].strip().split(" ", 1)[1].startswith(status)
        )
    assert "Bemanningen räcker inte." in body


def test_pdf_is_tagged_in_swedish_with_title_author_and_subject(small_period):
    bromma = Organisation.objects.get(code="bromma")
    pdf = _render(period_report_data(period=small_period, organisation=bromma))
    reader = PdfReader(io.BytesIO(pdf))
    root = reader.trailer["/Root"]

    assert bool(root["/MarkInfo"]["/Marked"]) is True
    assert "/StructTreeRoot" in root
    assert root["/Lang"] == "sv"
    assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"]) is True
    assert reader.metadata.title == (
        "Periodrapport Tertialrapport 1 (till och med 30 april) 2030: Bromma stadsdelsnämnd"
    )
    assert reader.metadata.author == "Stockholms stad, Bromma stadsdelsnämnd"
    assert "Bromma stadsdelsnämnd" in reader.metadata.subject
    xmp = reader.xmp_metadata.stream.get_data()
    assert b'pdfuaid:part="1"' in xmp
    width, height = (float(v) for v in reader.pages[1].mediabox.upper_right)
    assert (round(width), round(height)) == (595, 842)  # A4 in points


def test_structure_tree_tags_headings_and_charts_with_alternative_text(small_period):
    pdf = _render(period_report_data(period=small_period, organisation=None))
    reader = PdfReader(io.BytesIO(pdf))
    tags: Counter = Counter()
    alts = []

    def walk(node, depth=0):
        node = node.get_object()
        if isinstance(node, dict):
            if "/S" in node:
                tags[str(node["/S"])] += 1
                if node["/S"] == "/Figure":
                    alts.append(str(node.get("/Alt", "")))
            for kid in node.get("/K", []) if isinstance(node.get("/K"), list) else [node.get("/K")]:
                if kid is not None and hasattr(kid, "get_object"):
                    walk(kid, depth + 1)

    walk(reader.trailer["/Root"]["/StructTreeRoot"])
    assert tags["/H1"] >= 2 and tags["/H2"] >= 1 and tags["/P"] > 5
    assert tags["/Table"] >= 1 and tags["/TH"] >= 2
    assert alts and all("Ej rapporterad" in a or "Försenad" in a for a in alts)


# --- No network, only the report's own files ------------------------------------------


def test_fetcher_allows_only_the_report_assets():
    fetcher = AssetFetcher([assets_dir()])
    css = (assets_dir() / "report.css").as_uri()
    assert fetcher.allows(css)
    assert fetcher.allows("data:image/png;base64,AAAA")
    for url in (
        "http://127.0.0.1/x.png",
        "https://example.org/font.ttf",
        "ftp://example.org/x",
        "file:///etc/passwd",
        assets_dir().as_uri() + "/../../manage.py",
        "file://evil.example.org" + str(assets_dir() / "report.css"),
    ):
        assert not fetcher.allows(url), url
    response = fetcher.fetch(css)
    try:
        assert b"@page" in response.read()
    finally:
        response.close()


def test_rendering_never_contacts_the_network():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.setblocking(False)
    port = server.getsockname()[1]
    html = (
        '<html lang="sv"><head><title>t</title>'
        f'<link rel="stylesheet" href="http://127.0.0.1:{port}/x.css"></head>'
        f'<body><p>Text</p><img src="http://127.0.0.1:{port}/x.png" alt="x"></body></html>'
    )
    try:
        rendered = html_to_pdf(html)
        with pytest.raises(BlockingIOError):
            server.accept()
    finally:
        server.close()
    assert rendered.pdf.startswith(b"%PDF-")


def test_incomplete_pdf_is_refused():
    with pytest.raises(BrokenReportError):
        pdf_verify(b"%PDF-1.7\n1 0 obj")
    with pytest.raises(BrokenReportError):
        pdf_verify(b"<html>error</html>")
    pdf_verify(b"%PDF-1.7\n...\n%%EOF\n")


# --- Charts --------------------------------------------------------------------------


def test_chart_gives_every_status_its_own_pattern_and_says_it_in_words(small_period):
    data = period_report_data(period=small_period, organisation=None)
    from followup.reports.data import Count, _legend

    legend, _by_pk, missing = _legend()
    distribution = [Count(key, i + 1) for i, key in enumerate([*legend, missing])]
    svg = str(distribution_svg(distribution))

    patterns = svg.split("<pattern ")[1:]
    assert len(patterns) == len(legend) + 1
    bodies = [p.split(">", 1)[1].replace(p.split('"')[1], "") for p in patterns]
    overlays = [b.split("/>", 1)[1] for b in bodies]
    assert len(set(overlays)) == len(overlays)  # not told apart by colour alone
    for key in [*legend, missing]:
        assert f"{key.name}: " in svg.split("</title>")[0]
    assert data.totals and str(distribution_svg([])) == ""
