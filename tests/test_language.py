"""The Swedish user interface follows docs/sprakguide.md: the rules a machine
can check, on the catalogue (locale/sv/LC_MESSAGES/django.po), the compiled
catalogue (django.mo) and the templates."""

import ast
import datetime
import gettext as gettext_module
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.template import Context, Template
from django.test import override_settings
from django.utils import timezone
from django.utils.formats import date_format

ROOT = Path(settings.BASE_DIR)
PO = ROOT / "locale" / "sv" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
GUIDE = ROOT / "docs" / "sprakguide.md"
TEMPLATES = ROOT / "templates"
# The directories makemessages reads (as `make messages` does).
SOURCES = ("accounts", "fardplan", "followup", "roadmap", "templates", "tests")


# --- The catalogue ------------------------------------------------------------------------


@dataclass
class Entry:
    line: int
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False


PO_KEYWORD = re.compile(r'(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])?\s+(".*")$')


def parse_po(path: Path) -> list[Entry]:
    """The entries of a .po file (the header excluded)."""
    entries: list[Entry] = []
    entry: Entry | None = None
    key: tuple[str, int] | None = None
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw
        obsolete = line.startswith("#~")
        if obsolete:
            line = line[2:].lstrip()
        if not line.strip():
            entry, key = None, None
            continue
        if entry is None:
            entry = Entry(line=number)
            entries.append(entry)
        entry.obsolete = entry.obsolete or obsolete
        if line.startswith("#,"):
            entry.flags.update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif match := PO_KEYWORD.match(line):
            keyword, index, literal = match.groups()
            key = (keyword, int(index or 0))
            _append(entry, key, ast.literal_eval(literal), start=True)
        elif line.startswith('"') and key is not None:
            _append(entry, key, ast.literal_eval(line), start=False)
        else:
            raise AssertionError(f"{path}:{number}: cannot read {line!r}")
    return entries


def _append(entry: Entry, key: tuple[str, int], text: str, *, start: bool) -> None:
    keyword, index = key
    if keyword == "msgstr":
        entry.msgstr[index] = (entry.msgstr.get(index, "") if not start else "") + text
    else:
        setattr(entry, keyword, ("" if start else getattr(entry, keyword) or "") + text)


def live(entries: list[Entry]) -> list[Entry]:
    return [e for e in entries if not e.obsolete and e.msgid]


def where(entry: Entry) -> str:
    return f"django.po line {entry.line}: {entry.msgid[:70]!r}"


def compiled_msgstrs() -> dict[str, str]:
    """Every translation in the compiled catalogue, by where it comes from."""
    with MO.open("rb") as file:
        catalogue = gettext_module.GNUTranslations(file)._catalog
    texts = {}
    for key, text in catalogue.items():
        msgid = key[0] if isinstance(key, tuple) else key
        if msgid:  # not the header
            texts[f"django.mo {key!r}"[:100]] = text
    return texts


PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]|%%|\{\w*\}")
TAG = re.compile(r"<[^>]*>")


def prose(text: str) -> str:
    """The words of a translation: without format placeholders (whose names are
    English) and HTML tags (whose attributes use straight quotes)."""
    return TAG.sub(" ", PLACEHOLDER.sub(" ", text))


def test_every_entry_is_translated_and_none_is_fuzzy():
    entries = live(parse_po(PO))
    assert len(entries) > 500
    untranslated = [where(e) for e in entries if not all(e.msgstr.values())]
    fuzzy = [where(e) for e in entries if "fuzzy" in e.flags]
    assert untranslated == []
    assert fuzzy == []
    # Plural entries have both Swedish forms.
    assert [where(e) for e in entries if e.msgid_plural and len(e.msgstr) != 2] == []


def test_the_catalogue_covers_every_text_in_the_sources(tmp_path, monkeypatch):
    """makemessages, run on a copy of the catalogue, finds no msgid that the
    committed catalogue lacks: every gettext call and translate tag has its
    Swedish."""
    if not shutil.which("xgettext"):
        pytest.skip("makemessages needs GNU gettext (apt-get install gettext)")
    committed = PO.read_bytes()
    shutil.copytree(ROOT / "locale", tmp_path / "locale")
    for name in SOURCES:
        (tmp_path / name).symlink_to(ROOT / name)
    monkeypatch.chdir(tmp_path)
    with override_settings(LOCALE_PATHS=[tmp_path / "locale"]):
        call_command("makemessages", locale=["sv"], symlinks=True, verbosity=0)
    assert PO.read_bytes() == committed  # the copy was updated, not the catalogue
    made = live(parse_po(tmp_path / "locale" / "sv" / "LC_MESSAGES" / "django.po"))
    assert len(made) > 500
    missing = [e.msgid for e in made if not all(e.msgstr.values()) or "fuzzy" in e.flags]
    assert missing == [], "texts without Swedish: run `make messages` and translate them"


def test_the_compiled_catalogue_is_up_to_date():
    with MO.open("rb") as file:
        catalogue = gettext_module.GNUTranslations(file)._catalog
    stale = []
    for entry in live(parse_po(PO)):
        msgid = entry.msgid if entry.msgctxt is None else f"{entry.msgctxt}\x04{entry.msgid}"
        if entry.msgid_plural is None:
            compiled = {0: catalogue.get(msgid)}
        else:
            compiled = {n: catalogue.get((msgid, n)) for n in entry.msgstr}
        if compiled != entry.msgstr:
            stale.append(where(entry))
    assert stale == [], "run `manage.py compilemessages`"


# --- Typography and words -------------------------------------------------------------------


WRONG_QUOTES = re.compile("[\"“„«»'‘‚]")


def test_swedish_quotation_marks():
    """”…” (U+201D on both sides), never "…", “…”, „…“, «…» or '…'."""
    texts = compiled_msgstrs()
    assert texts
    wrong = {k: t for k, t in texts.items() if WRONG_QUOTES.search(prose(t))}
    assert wrong == {}
    unpaired = {k: t for k, t in texts.items() if prose(t).count("”") % 2}
    assert unpaired == {}


def test_prose_helper_keeps_text_and_drops_placeholders_and_tags():
    text = prose('Välj <a href="#x">”%(label)s”</a> (%(percent)s %%)')
    assert "Välj" in text and text.count("”") == 2
    assert not re.search(r"label|href|percent|%", text)
    assert WRONG_QUOTES.search(prose('Skriv "yes"'))
    assert WRONG_QUOTES.search(prose("Skriv “yes”"))
    assert not WRONG_QUOTES.search(prose("Skriv ”yes”"))


LADDA_NER = re.compile(r"\bladda(?:r|s|de|t)?\s+ner\b", re.IGNORECASE)


def test_ladda_ned_not_ladda_ner():
    texts = compiled_msgstrs()
    assert [k for k, t in texts.items() if LADDA_NER.search(t)] == []
    templates = [p for p in TEMPLATES.rglob("*.html") if LADDA_NER.search(p.read_text())]
    assert templates == []
    assert LADDA_NER.search("Ladda ner PDF") and not LADDA_NER.search("Ladda ned PDF")


def rejected_terms() -> dict[str, str]:
    """The glossary's rejected forms, each with the term to use instead."""
    text = GUIDE.read_text(encoding="utf-8")
    section = text.split("## Glossary", 1)[1]
    rejected: dict[str, str] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 4 or cells[0] in ("concept (code)", "---"):
            continue
        for form in re.findall(r"`([^`]+)`", cells[2]):
            rejected[form] = cells[1]
    return rejected


def test_the_glossary_rejected_terms_are_not_used():
    rejected = rejected_terms()
    # The table is read: "rapporteringsperiod" and at least 40 forms are rejected.
    assert rejected["rapporteringsperiod"].startswith("rapportperiod")
    assert len(rejected) >= 40
    pattern = re.compile(
        r"(?<!\w)(" + "|".join(re.escape(f) for f in rejected) + r")(?!\w)", re.IGNORECASE
    )
    used = {
        where: match.group(1)
        for where, text in compiled_msgstrs().items()
        if (match := pattern.search(prose(text)))
    }
    assert used == {}, "use the glossary's term instead (docs/sprakguide.md)"
    assert pattern.search("Öppna ytterligare en Rapporteringsperiod?")
    assert not pattern.search("Öppna ytterligare en rapportperiod?")


FILE_FORMAT_IN_LOWER_CASE = re.compile(r"(?<!\w)(pdf|csv|xlsx)(?!\w)")


def test_file_formats_are_written_in_capitals():
    texts = compiled_msgstrs()
    assert [k for k, t in texts.items() if FILE_FORMAT_IN_LOWER_CASE.search(prose(t))] == []
    assert FILE_FORMAT_IN_LOWER_CASE.search("Ladda ned pdf-filen")
    assert not FILE_FORMAT_IN_LOWER_CASE.search("Ladda ned PDF-filen")


# --- Templates -------------------------------------------------------------------------------


def template_files() -> list[Path]:
    files = sorted(TEMPLATES.rglob("*.html"))
    assert len(files) > 50
    return files


def visible_text(source: str) -> str:
    """What a template shows besides its translated texts: without comments,
    template tags and variables, translate blocks, scripts, styles and tags."""
    for pattern in (
        r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}",
        r"{#.*?#}",
        r"{%\s*block bodyclass\s*%}.*?{%\s*endblock\s*%}",
        r"{%\s*blocktrans(?:late)?\b.*?{%\s*endblocktrans(?:late)?\s*%}",
        r"<(script|style)\b.*?</\1>",
        r"{%.*?%}|{{.*?}}",
        r"<!--.*?-->",
        r"<[^>]*>",
        r"&#?\w+;",
    ):
        source = re.sub(pattern, " ", source, flags=re.DOTALL)
    return source


WORD = re.compile(r"[^\W\d_]{2,}")
ATTRIBUTE_TEXT = re.compile(r'\b(?:aria-label|title|alt|placeholder)="([^"]*)"')


def test_templates_show_no_text_outside_gettext():
    """Words a user reads (text and the attributes read aloud) come from the
    catalogue, so that this guide's checks see them."""
    untranslated = {}
    for path in template_files():
        source = path.read_text(encoding="utf-8")
        words = WORD.findall(visible_text(source))
        for value in ATTRIBUTE_TEXT.findall(source):
            words += WORD.findall(re.sub(r"{%.*?%}|{{.*?}}", " ", value))
        if words:
            untranslated[str(path.relative_to(TEMPLATES))] = words[:5]
    assert untranslated == {}
    assert WORD.findall(visible_text("<p>Hello {{ name }}</p>")) == ["Hello"]
    assert WORD.findall(visible_text('<p>{% translate "Hello" %} {{ name }}</p>')) == []


DATE_FILTER = re.compile(r"\|date:(['\"])(.*?)\1")
# Machine-readable formats: only as the value of these attributes.
ISO_FORMATS = {"Y-m-d", "c", "U", "Y-m-d H:i", "Y-m-d\\TH:i"}
MACHINE_ATTRIBUTE = re.compile(r'\b(?:datetime|content|value)="{{[^}]*$')
# Formats for people: "10 maj 2022" and "10 maj 2022 kl. 14.30".
TEXT_FORMATS = {"DATE_FORMAT", "DATETIME_FORMAT", "j F Y", "YEAR_MONTH_FORMAT"}
# Owned by the rewrite of "Mina rapporter" running in parallel (not edited
# here): they still write "10 maj 2022, 14:30" and "10 maj 2022 14:30". Remove
# each once it uses DATETIME_FORMAT.


def test_templates_show_dates_as_swedish_text_and_iso_only_to_machines():
    wrong = []
    seen = 0
    for path in template_files():
        source = path.read_text(encoding="utf-8")
        name = str(path.relative_to(TEMPLATES))
        for match in DATE_FILTER.finditer(source):
            seen += 1
            fmt = match.group(2)
            before = source[source.rfind("\n", 0, match.start()) + 1 : match.start()]
            if fmt in ISO_FORMATS and MACHINE_ATTRIBUTE.search(before):
                continue
            if fmt in TEXT_FORMATS:
                continue
            wrong.append(f"{name}: date:{fmt!r}")
    assert seen > 20
    assert wrong == [], "dates for people: DATE_FORMAT or DATETIME_FORMAT (docs/sprakguide.md)"


# --- Dates and times -------------------------------------------------------------------------


def test_dates_and_times_read_as_swedish_text():
    moment = timezone.make_aware(datetime.datetime(2022, 5, 10, 14, 30))
    assert date_format(moment.date()) == "10 maj 2022"
    assert date_format(timezone.localtime(moment), "DATETIME_FORMAT") == "10 maj 2022 kl. 14.30"
    rendered = Template(
        '{{ m|date:"DATETIME_FORMAT" }} · {{ m|date:"DATE_FORMAT" }} · {{ m|date:"c" }}'
    ).render(Context({"m": timezone.localtime(moment)}))
    assert rendered == "10 maj 2022 kl. 14.30 · 10 maj 2022 · 2022-05-10T14:30:00+02:00"
