"""Helpers shared by the tests."""

from html.parser import HTMLParser

from django import forms

# The fixtures (see conftest.py) of the users who have a role.
ROLE_FIXTURES = ("editor", "approver", "bromma_reporter", "farsta_reporter", "reader")
# Every kind of visitor: the roles, a user without one, and an anonymous visitor.
ALL_WHO = (*ROLE_FIXTURES, "no_role_user", "anonymous")

# A reporter for these ten districts has ten times the rows of one.
TEN_DISTRICTS = (
    "bromma",
    "farsta",
    "kungsholmen",
    "norrmalm",
    "ostermalm",
    "sodermalm",
    "skarpnack",
    "skarholmen",
    "rinkeby-kista",
    "spanga-tensta",
)


def _form_data(form) -> dict:
    """The POST data of an unbound form as rendered: its initial values."""
    data = {}
    for name, field in form.fields.items():
        bound = form[name]
        value = bound.value()
        if isinstance(field, forms.BooleanField):
            if value:
                data[bound.html_name] = "on"
        elif isinstance(field, (forms.MultipleChoiceField, forms.ModelMultipleChoiceField)):
            data[bound.html_name] = [str(v) for v in value or []]
        elif value is None:
            data[bound.html_name] = ""
        else:
            data[bound.html_name] = str(value)
    return data


def history_form_data(response) -> dict:
    """What a browser would post back from the admin's "revert to this
    version" page (a change form without inlines)."""
    data = _form_data(response.context["adminform"].form)
    data["_save"] = "Save"
    return data


def change_form_data(response) -> dict:
    """Everything a browser would post back from an admin change form."""
    data = _form_data(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        data.update(_form_data(formset.management_form))
        for form in formset.forms:
            data.update(_form_data(form))
    data["_save"] = "Save"
    return data


class _TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: dict[str, list[str]] = {}
        self._open: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in ("title", "h1", "h2", "caption"):
            self._open.append(tag)
            self.text.setdefault(tag, []).append("")

    def handle_endtag(self, tag) -> None:
        if self._open and self._open[-1] == tag:
            self._open.pop()

    def handle_data(self, data) -> None:
        for tag in self._open:
            self.text[tag][-1] += data


def parse_html(content: bytes | str) -> _TagCollector:
    """Start tags with their attributes, and the text of titles and headings."""
    parser = _TagCollector()
    parser.feed(content.decode() if isinstance(content, bytes) else content)
    parser.close()
    return parser


# --- PDF reports -------------------------------------------------------------------


def normalise(text: str) -> str:
    """Whitespace folded to single spaces (a PDF breaks lines anywhere)."""
    return " ".join(text.split())


def pdf_pages(pdf: bytes) -> list[str]:
    """The text of each page without its running header and page number
    (the last two lines of every page but the cover), whitespace folded."""
    import io

    from pypdf import PdfReader

    pages = []
    for number, page in enumerate(PdfReader(io.BytesIO(pdf)).pages, start=1):
        lines = page.extract_text().splitlines()
        if number > 1:
            lines = lines[:-2]
        pages.append(normalise("\n".join(lines)))
    return pages


def pdf_text(pdf: bytes) -> str:
    return " ".join(pdf_pages(pdf))


# --- The database gate (fardplan/locks.py) ----------------------------------------------


def installed_triggers() -> set[tuple[str, str]]:
    """(table, trigger name) of the lock triggers in the test database."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'")
        else:
            cursor.execute(
                "SELECT tgrelid::regclass::text, tgname FROM pg_trigger "
                "WHERE NOT tgisinternal AND tgname LIKE 'fardplan_lock_%%'"
            )
        return {(table.strip('"'), name) for table, name in cursor.fetchall()}


def refused_sql(statement: str, params=(), *, marker: str):
    """Run raw SQL that the gate must refuse with ``marker``; the test's
    transaction goes on. Returns the database error."""
    import pytest
    from django.db import IntegrityError, connection, transaction

    with pytest.raises(IntegrityError) as excinfo, transaction.atomic(), connection.cursor() as c:
        c.execute(statement, params)
    assert marker in str(excinfo.value)
    return excinfo.value
