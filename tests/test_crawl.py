"""The crawl: every demo role requests every URL pattern of the project, with
parameters from the demo data (including other organisations' objects) and
with junk values; no response is a server error (5xx).

Every URL pattern is found by walking the URL resolver (the admin's patterns
included). Each parameter of a pattern is filled by ``FILLERS`` below; a
pattern with a parameter no filler knows fails the test, so a new page cannot
be left out silently. For each URL the crawl sends a GET, an empty POST and,
when the GET shows a form, a POST of that form with every field set to junk
(the admin's changelists also get each of their actions with junk selections).

One test per role, so pytest-xdist spreads them. Demo data: the 2021 roadmap,
the example 2025 draft (``roadmap/demo.py``) and the demo periods with reports
(``followup/demo.py``), plus a reopened report and a PDF report job.
"""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import quote

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.regex_helper import normalize

from followup.demo import demo_followup_build
from followup.models import ReportingPeriod, ReportJob, StatusReport
from followup.services import status_report_reopen
from roadmap.demo import demo_draft_build
from roadmap.models import Organisation, Revision

ROLES = [
    "editor",
    "approver",
    "bromma_reporter",
    "farsta_reporter",
    "reader",
    "no_role_user",
    "anonymous",
]

# Junk for every parameter: not a number, negative, zero, too large for any
# integer column, a NUL byte, a very long string.
JUNK = ["abc", "-1", "0", "9" * 30, "%00", "x" * 600]
JUNK_FORM_VALUE = "abc"


# --- The URL patterns -----------------------------------------------------------------


@dataclass
class Pattern:
    """One URL pattern with its full regex, the names of its parameters and,
    for the admin's model pages, the model."""

    name: str  # namespaced name, or the view's name for unnamed patterns
    callback: Callable
    format: str  # e.g. "admin/roadmap/nextstep/%(object_id)s/change/"
    params: list[str]
    model: type | None = None
    extra: dict = field(default_factory=dict)

    @property
    def view_name(self) -> str:
        return getattr(self.callback, "__name__", "")


def _regex(pattern) -> str:
    text = pattern.regex.pattern
    return text.removeprefix("^").removesuffix(r"\Z").removesuffix("$")


def walk(resolvers=None, prefix: str = "", namespace: str = "", model=None) -> Iterator[Pattern]:
    """Every URL pattern of the project, recursively, with its full regex."""
    for entry in get_resolver().url_patterns if resolvers is None else resolvers:
        regex = prefix + _regex(entry.pattern)
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            # The admin includes each model admin's URLs under <app>/<model>/.
            match = re.fullmatch(r"admin/(\w+)/(\w+)/", regex)
            sub_model = model
            if match and ns == "admin:":
                try:
                    sub_model = apps.get_model(match[1], match[2])
                except LookupError:
                    sub_model = None
            yield from walk(entry.url_patterns, regex, ns, sub_model)
        else:
            assert isinstance(entry, URLPattern)
            possibilities = normalize(regex)
            # The first possibility is the one with every optional part.
            format_string, params = max(possibilities, key=lambda p: len(p[1]))
            name = f"{namespace}{entry.name}" if entry.name else entry.lookup_str
            yield Pattern(name, entry.callback, format_string, list(params), model)


# --- Filling the parameters -------------------------------------------------------------


@dataclass
class DemoData:
    years: list[int]
    periods: list[int]
    reports: list[int]
    jobs: list[int]
    users: list[int]
    content_type: int
    content_object: int


def _object_ids(model) -> list[str]:
    """The model's last object (in the draft, for content), and for reports one
    per organisation and period state (so other organisations' too)."""
    if model is StatusReport:
        return [str(pk) for pk in _sample_reports()]
    return [
        str(pk) for pk in model._default_manager.order_by("-pk").values_list("pk", flat=True)[:1]
    ]


def _sample_reports() -> list[int]:
    pks = []
    for code in ("bromma", "farsta", "kungsholmen"):
        for state in ("open", "closed"):
            pk = (
                StatusReport.objects.filter(organisation__code=code, period__state=state)
                .order_by("-reopened", "pk")
                .values_list("pk", flat=True)
                .first()
            )
            if pk is not None:
                pks.append(pk)
    return pks


def _history_ids(model) -> list[str]:
    obj = model._default_manager.order_by("pk").first()
    if obj is None or not hasattr(model, "history"):
        return []
    return [str(pk) for pk in obj.history.values_list("history_id", flat=True)[:1]]


FOLLOWUP_PERIOD_VIEWS = {
    "followup:matrix",
    "followup:export_csv",
    "followup:export_xlsx",
    "followup:drift",
}
FOLLOWUP_REPORT_VIEWS = {"followup:report", "followup:reopen"}
FOLLOWUP_JOB_VIEWS = {
    "followup:report_job",
    "followup:report_job_status",
    "followup:report_job_file",
}


def fill(pattern: Pattern, param: str, data: DemoData) -> list[str] | None:
    """Good values for one parameter of a pattern; None if unknown."""
    if param == "year" and pattern.name.startswith("roadmap:"):
        return [str(y) for y in data.years]
    if param == "pk" and pattern.name in FOLLOWUP_PERIOD_VIEWS:
        return [str(pk) for pk in data.periods]
    if param == "pk" and pattern.name in FOLLOWUP_REPORT_VIEWS:
        return [str(pk) for pk in data.reports]
    if param == "pk" and pattern.name in FOLLOWUP_JOB_VIEWS:
        return [str(pk) for pk in data.jobs]
    if pattern.name == "admin:app_list" and param == "app_label":
        return ["roadmap", "followup", "auth"]
    if pattern.name == "admin:view_on_site":
        return {
            "content_type_id": [str(data.content_type)],
            "object_id": [str(data.content_object)],
        }.get(param)
    if pattern.view_name == "catch_all_view" and param == "url":
        return ["nothing-here/"]
    if pattern.model is not None:
        if param in ("object_id", "_0", "id"):
            return _object_ids(pattern.model)
        if pattern.view_name == "history_form_view" and param == "_1":
            return _history_ids(pattern.model)
    return None


def urls_for(pattern: Pattern, data: DemoData, unfillable: list[str]) -> list[str]:
    """The URLs to request for a pattern: every good value of each parameter
    (the others at their first good value), then each junk value in turn."""
    if not pattern.params:
        return ["/" + pattern.format]
    good: dict[str, list[str]] = {}
    for param in pattern.params:
        values = fill(pattern, param, data)
        if values is None:
            unfillable.append(f"{pattern.name} ({'/' + pattern.format}): {param}")
            return []
        good[param] = values or ["1"]
    base = {param: values[0] for param, values in good.items()}
    variants = []
    for param in pattern.params:
        for value in good[param][1:] + JUNK:
            variants.append({**base, param: value})
    variants.insert(0, base)
    urls = []
    for values in variants:
        quoted = {
            k: v if v == "%00" else quote(v, safe="") for k, v in values.items()
        }  # "%00" stays as it is: a NUL byte once decoded
        urls.append("/" + pattern.format % quoted)
    return list(dict.fromkeys(urls))


# --- Extra query strings: search and filter inputs -----------------------------------------

QUERY_JUNK = ["q=%00", "q=" + "x" * 600, "o=abc", "p=abc", "e=1", "all=", "_to_field=abc"]
QUERY_FOR = {
    "admin:autocomplete": [
        "app_label=roadmap&model_name=need&field_name=focus_area&term=%00",
        "app_label=roadmap&model_name=nextstep&field_name=need&term=abc&page=abc",
        "app_label=roadmap&model_name=cityaction&field_name=responsible_organisations&term=x",
        "app_label=abc&model_name=abc&field_name=abc",
    ],
    "roadmap:overdue": ["ar=abc", "ar=" + "9" * 30, "ar=%00"],
    "followup:matrix": ["fokusomrade=abc", "fokusomrade=" + "9" * 30, "fokusomrade=%00"],
    "followup:my_reports": ["period=abc", "period=" + "9" * 30, "period=-1", "period=%00"],
    "roadmap:current": ["q=%00"],
}


def _queries(pattern: Pattern) -> list[str]:
    if pattern.name in QUERY_FOR:
        return QUERY_FOR[pattern.name]
    if pattern.name.endswith("_changelist"):
        return QUERY_JUNK
    return []


# --- Requests --------------------------------------------------------------------------

_NAME = re.compile(r'\bname="([^"]+)"')
_ACTIONS = re.compile(r'<select name="action"[^>]*>(.*?)</select>', re.S)
_OPTION = re.compile(r'<option value="([^"]+)"')


def _junk_form(html: str) -> dict[str, str]:
    names = {n for n in _NAME.findall(html) if n != "csrfmiddlewaretoken"}
    return {name: JUNK_FORM_VALUE for name in names}


def _actions(html: str) -> list[str]:
    match = _ACTIONS.search(html)
    return _OPTION.findall(match[1]) if match else []


@dataclass
class Crawl:
    client: Client
    user: object
    failures: list[str] = field(default_factory=list)
    cases: int = 0
    requests: int = 0

    def login(self) -> None:
        if self.user is not None and self.user.is_authenticated:
            self.client.force_login(self.user)

    def request(self, method: str, url: str, data=None) -> object:
        self.requests += 1
        response = getattr(self.client, method)(url, data or {})
        if response.status_code >= 500:
            self.failures.append(f"{method.upper()} {url} {data or ''} → {response.status_code}")
        if "logout" in url:
            self.login()
        return response

    def visit(self, pattern: Pattern, url: str) -> None:
        self.cases += 1
        response = self.request("get", url)
        self.request("post", url)
        if response.status_code != 200 or b'method="post"' not in response.content:
            return
        if pattern.name.endswith(("_delete", "logout")):
            return  # a junk POST there would delete (or log out): covered by the empty POST
        html = response.content.decode()
        self.request("post", url, _junk_form(html))
        for action in _actions(html):
            for selected in ("abc", "-1", "9" * 30, "%00"):
                self.request("post", url, {"action": action, "_selected_action": [selected]})


# --- Demo data ---------------------------------------------------------------------------


@pytest.fixture
def demo_data(roadmap_2021, editor, approver, bromma_reporter, farsta_reporter, statuses):
    """The data of ``make setup``: the demo draft and the demo periods, plus a
    report reopened after its period closed and a PDF report job."""
    demo_draft_build(actor=editor)
    demo_followup_build(actor=editor)
    closed = ReportingPeriod.objects.filter(state="closed").order_by("pk").first()
    report = StatusReport.objects.filter(period=closed, organisation__code="bromma").first()
    status_report_reopen(report=report, actor=editor, reason="Crawl: reopened.")
    job = ReportJob.objects.create(
        kind=ReportJob.Kind.PERIOD,
        parameters={"period": str(closed), "organisation": "bromma"},
        title="Crawl",
        organisation=Organisation.objects.get(code="bromma"),
        requested_by=bromma_reporter,
    )
    farsta_job = ReportJob.objects.create(
        kind=ReportJob.Kind.PERIOD,
        parameters={"period": str(closed), "organisation": "farsta"},
        title="Crawl",
        organisation=Organisation.objects.get(code="farsta"),
        requested_by=farsta_reporter,
    )
    return DemoData(
        years=sorted(Revision.objects.values_list("year", flat=True)),
        # A closed period and the open one.
        periods=[
            ReportingPeriod.objects.filter(state=state).values_list("pk", flat=True).first()
            for state in ("closed", "open")
        ],
        reports=_sample_reports(),
        jobs=[job.pk, farsta_job.pk],
        users=list(get_user_model().objects.values_list("pk", flat=True)),
        content_type=ContentType.objects.get_for_model(Revision).pk,
        content_object=roadmap_2021.pk,
    )


@pytest.fixture
def statuses(db):
    from followup.models import Status

    return {s.code: s for s in Status.objects.all()}


# --- The test ----------------------------------------------------------------------------


# Each role's crawl in parts (the admin's roadmap pages, the rest of the
# admin, the site), so that pytest-xdist can spread them and no single test
# runs long.
PARTS = ("admin-roadmap", "admin-other", "site")


def _part(pattern: Pattern) -> str:
    if not pattern.name.startswith("admin:"):
        return "site"
    return "admin-roadmap" if pattern.format.startswith("admin/roadmap/") else "admin-other"


def test_the_parts_cover_every_pattern():
    assert {_part(pattern) for pattern in walk()} == set(PARTS)


@pytest.mark.parametrize("part", PARTS)
@pytest.mark.parametrize("role", ROLES)
def test_no_url_gives_a_server_error(role, part, request, demo_data, fake_pdf, media_root, capsys):
    user = None if role == "anonymous" else request.getfixturevalue(role)
    # A server error comes back as a response (and is listed), not raised.
    crawl = Crawl(Client(raise_request_exception=False), user)
    crawl.login()
    unfillable: list[str] = []
    for pattern in (p for p in walk() if _part(p) == part):
        urls = urls_for(pattern, demo_data, unfillable)
        for url in urls:
            crawl.visit(pattern, url)
        # Search and filter input: on the pattern's first URL (good values).
        for query in _queries(pattern) if urls else []:
            crawl.visit(pattern, f"{urls[0]}?{query}")
    with capsys.disabled():
        print(
            f"\ncrawl {role}, {part}: {crawl.cases} URL × role cases, {crawl.requests} requests",
            end="",
        )
    assert not unfillable, "URL patterns the crawl cannot fill:\n" + "\n".join(unfillable)
    assert not crawl.failures, "Server errors:\n" + "\n".join(crawl.failures)
