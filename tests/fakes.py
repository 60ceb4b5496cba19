"""A stand-in for WeasyPrint, for tests that need a report's PDF but do not
test its layout: the jobs, the views, the command.

``fake_html_to_pdf`` turns the report's HTML into a small, valid PDF of plain
text lines in a standard font, in a few milliseconds instead of seconds. It
keeps what those tests read from the PDF: the text of the report (pypdf
extracts it), several pages, and on every page after the first a running
header and a page number as its last two lines, as the real report has (see
``tests.helpers.pdf_pages``). The tests of the PDF itself (text order, tags,
page numbers, layout) render with WeasyPrint.
"""

from html.parser import HTMLParser

from followup.reports.render import RenderedReport

LINES_PER_PAGE = 40
_SKIPPED = {"style", "script", "head"}


class _Text(HTMLParser):
    """The text of an HTML document, a line per run of text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag, attrs) -> None:
        if tag in _SKIPPED:
            self._skipping += 1

    def handle_endtag(self, tag) -> None:
        if tag in _SKIPPED and self._skipping:
            self._skipping -= 1

    def handle_data(self, data) -> None:
        text = " ".join(data.split())
        if text and not self._skipping:
            self.lines.append(text)


def _pdf_string(text: str) -> bytes:
    """A PDF literal string in WinAnsiEncoding (å, ä, ö, é …); characters
    outside it become '?'."""
    raw = text.encode("cp1252", errors="replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def _page_stream(lines: list[str]) -> bytes:
    body = [b"BT /F1 9 Tf 11 TL 40 800 Td"]
    for line in lines:
        body.append(_pdf_string(line) + b" Tj T*")
    body.append(b"ET")
    return b"\n".join(body)


def text_pdf(pages: list[list[str]]) -> bytes:
    """A minimal PDF 1.7 with one page per list of lines."""
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"",  # the page tree, filled in below
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    kids = []
    for lines in pages:
        stream = _page_stream(lines)
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        content = len(objects)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % content
        )
        kids.append(b"%d 0 R" % len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), len(kids))

    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def fake_html_to_pdf(html: str) -> RenderedReport:
    parser = _Text()
    parser.feed(html)
    parser.close()
    lines = parser.lines
    chunks = [lines[i : i + LINES_PER_PAGE] for i in range(0, len(lines), LINES_PER_PAGE)] or [[]]
    total = len(chunks)
    pages = [chunks[0]]
    for number, chunk in enumerate(chunks[1:], start=2):
        pages.append([*chunk, "Testrapport", f"Sida {number} av {total}"])
    return RenderedReport(pdf=text_pdf(pages), pages=total)
