"""From a report's data to PDF bytes: a pure function, with WeasyPrint.

The HTML comes from ``templates/followup/pdf/``; the style sheet and the fonts
from ``settings.PDF_ASSETS_DIR`` on the filesystem. The URL fetcher refuses
everything else (no network, no other files), so a report never depends on
what a server elsewhere answers. The PDF is tagged (PDF/UA-1), in Swedish,
with title, author and subject in its metadata.
"""

import datetime
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetchingError

from ..models import ReportJob
from .data import ActionEntry, AnnualReport, PeriodReport, ReportData, StatusKey

TEMPLATES = {
    ReportJob.Kind.ANNUAL: "followup/pdf/annual.html",
    ReportJob.Kind.PERIOD: "followup/pdf/period.html",
    ReportJob.Kind.CITYWIDE: "followup/pdf/period.html",
}

PDF_VARIANT = "pdf/ua-1"


class BrokenReportError(ValueError):
    """The renderer returned something that is not a complete PDF."""


class AssetFetcher(URLFetcher):
    """Fetches ``data:`` URLs and files under the given folders; nothing else."""

    def __init__(self, roots: list[Path]) -> None:
        super().__init__(timeout=5, allowed_protocols={"file", "data"}, allow_redirects=False)
        self.roots = [Path(root).resolve() for root in roots]

    def allows(self, url: str) -> bool:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme == "data":
            return True
        if parsed.scheme != "file" or parsed.netloc not in ("", "localhost"):
            return False
        path = Path(urllib.request.url2pathname(parsed.path)).resolve()
        return any(path == root or root in path.parents for root in self.roots)

    def fetch(self, url, headers=None):
        if not self.allows(url):
            raise URLFetchingError(f"Refused to fetch {url}: reports load only their own assets.")
        return super().fetch(url, headers)


def assets_dir() -> Path:
    return Path(settings.PDF_ASSETS_DIR).resolve()


# --- The appendix: each district's status per action -------------------------------


@dataclass
class AppendixRow:
    entry: ActionEntry
    cells: list[StatusKey | None]  # per district; None: not responsible


@dataclass
class AppendixGroup:
    number: str
    title: str
    rows: list[AppendixRow]


def appendix_groups(report: AnnualReport) -> list[AppendixGroup]:
    """The actions that districts report on, need by need, with one cell per
    district in the order of ``report.districts``."""
    groups = []
    for fa in report.focus_areas:
        for need in fa.needs:
            rows = []
            for entry in need.actions:
                by_district = {r.organisation: r.status for r in entry.reports if r.is_district}
                if by_district:
                    rows.append(
                        AppendixRow(entry, [by_district.get(name) for name in report.districts])
                    )
            if rows:
                groups.append(AppendixGroup(need.number, need.title, rows))
    return groups


def district_label(name: str) -> str:
    """ "Bromma stadsdelsnämnd" → "Bromma" for the appendix's column headings."""
    return name.removesuffix(" stadsdelsnämnd")


# --- Rendering -----------------------------------------------------------------------


def report_html(data: ReportData, *, generated_at: datetime.datetime) -> str:
    """The report as HTML (Swedish), ready for WeasyPrint."""
    context = {
        "report": data,
        "header": data.header,
        "generated_at": timezone.localtime(generated_at),
    }
    if isinstance(data, AnnualReport):
        context["appendix"] = appendix_groups(data)
        context["district_labels"] = [district_label(n) for n in data.districts]
    elif isinstance(data, PeriodReport):
        context["citywide"] = not data.organisation
    with translation.override(settings.LANGUAGE_CODE):
        return render_to_string(TEMPLATES[data.header.kind], context)


@dataclass
class RenderedReport:
    pdf: bytes
    pages: int


def html_to_pdf(html: str) -> RenderedReport:
    """WeasyPrint: A4, tagged PDF/UA-1, assets from the filesystem only."""
    root = assets_dir()
    document = HTML(
        string=html,
        base_url=root.as_uri() + "/",
        url_fetcher=AssetFetcher([root]),
    ).render()
    pdf = document.write_pdf(pdf_variant=PDF_VARIANT)
    return RenderedReport(pdf=pdf, pages=len(document.pages))


def pdf_verify(pdf: bytes) -> None:
    """Refuse anything but a whole PDF: header, and an end-of-file marker."""
    if not pdf.startswith(b"%PDF-") or b"%%EOF" not in pdf[-1024:]:
        raise BrokenReportError("The renderer did not return a complete PDF.")


def report_pdf_render(data: ReportData, *, generated_at: datetime.datetime) -> RenderedReport:
    """The report's data → PDF bytes. Pure: the same data, the same report."""
    rendered = html_to_pdf(report_html(data, generated_at=generated_at))
    pdf_verify(rendered.pdf)
    return rendered
