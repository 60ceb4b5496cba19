"""The revision lifecycle pages: the list of revisions, starting, submitting,
returning and approving a revision, its timeline and its overdue next steps.

Who may do what (see accounts.roles and roadmap/permissions.py): alice the
editor starts and submits, bob the approver returns and approves; the reporters
(cecilia for Bromma, david for Farsta) and erik the reader only read approved
revisions. Drafts and revisions in review do not exist for them (404). Every
refusal leaves the database as it was.
"""

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import connection
from django.template import engines
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from roadmap.models import (
    FocusArea,
    NextStep,
    Organisation,
    Revision,
    RevisionEvent,
    TimeHorizon,
)
from roadmap.services import revision_start
from tests.builders import build_tree
from tests.factories import (
    FocusAreaFactory,
    NeedFactory,
    NextStepFactory,
    RevisionFactory,
    approve,
)
from tests.helpers import ROLE_FIXTURES, parse_html

EDITOR, APPROVER, BROMMA, FARSTA, READER = ROLE_FIXTURES
REPORTERS_AND_READER = (BROMMA, FARSTA, READER)


# --- Data --------------------------------------------------------------------------


@pytest.fixture
def kf(reference_data) -> Organisation:
    return Organisation.objects.get(code="kf")


def _horizons(*codes: str) -> list[TimeHorizon]:
    return list(TimeHorizon.objects.filter(code__in=codes))


@pytest.fixture
def approved(reference_data) -> Revision:
    """The approved 2023 revision: one need with a short-term step (due by the
    end of 2024) and an ongoing one (never due)."""
    revision = RevisionFactory(year=2023, title="Färdplan 2023")
    focus_area = FocusAreaFactory(revision=revision, position=1, title="Säkra grunduppdraget")
    need = NeedFactory(focus_area=focus_area, position=1, title="Fler undersköterskor")
    NextStepFactory(
        need=need,
        position=1,
        text="Ta fram en kompetensplan",
        horizons=_horizons("short"),
        responsible_organisations=list(Organisation.objects.filter(code="aldrenamnden")),
    )
    NextStepFactory(
        need=need, position=2, text="Följ upp bemanningen", horizons=_horizons("ongoing")
    )
    return approve(revision)


@pytest.fixture
def draft(approved) -> Revision:
    revision = RevisionFactory(year=2024, draft=True, title="Färdplan 2024", based_on=approved)
    FocusAreaFactory(revision=revision, title="Ett fokusområde under arbete")
    return revision


@pytest.fixture
def in_review(approved) -> Revision:
    revision = RevisionFactory(year=2024, title="Färdplan 2024", based_on=approved)
    FocusAreaFactory(revision=revision, title="Ett fokusområde under granskning")
    return revision


def _snapshot() -> tuple:
    """Everything a lifecycle request could change."""
    return (
        list(
            Revision.objects.order_by("year").values_list(
                "year", "status", "version", "case_number", "decision_date", "based_on_id"
            )
        ),
        list(RevisionEvent.objects.order_by("pk").values_list("pk", "kind", "comment")),
        FocusArea.objects.count(),
        NextStep.objects.count(),
    )


def _url(name: str, revision: Revision) -> str:
    if name in ("list", "start"):
        return reverse(f"roadmap:{name}")
    return reverse(f"roadmap:{name}", args=[revision.year])


def _post_data(name: str, revision: Revision) -> dict:
    """Valid input for each page: only the state and the user decide the outcome."""
    if name == "start":
        return {"year": revision.year + 2, "title": "Färdplan, ny revidering"}
    if name == "submit":
        return {"comment": "Klar för granskning."}
    if name == "return":
        return {"comment": "Behov 2.1 saknar rubrik."}
    if name == "approve":
        return {
            "decision_body": Organisation.objects.get(code="kf").pk,
            "decision_date": "2024-06-12",
            "case_number": "KS 2024/321",
            "decision_paragraph": "§ 12",
            "comment": "",
        }
    return {}


def _error_codes(form) -> list[str]:
    return [error.code for errors in form.errors.as_data().values() for error in errors]


# --- The status-code matrix ----------------------------------------------------------
# (page, state of the revision it is about) → {role: (GET status, POST status)}.
# POST sends valid input; "start" posts a year after the approved revision.

ALL_READ = {who: (200, 405) for who in ROLE_FIXTURES}
UNPUBLISHED_READ = {
    EDITOR: (200, 405),
    APPROVER: (200, 405),
    **{who: (404, 405) for who in REPORTERS_AND_READER},
}


def _row(editor, approver, others) -> dict[str, tuple[int, int]]:
    return {EDITOR: editor, APPROVER: approver, **{who: others for who in REPORTERS_AND_READER}}


MATRIX: dict[tuple[str, str], dict[str, tuple[int, int]]] = {
    ("list", "approved"): ALL_READ,
    ("list", "draft"): ALL_READ,
    # Start: the editor starts from the approved revision; refused while
    # another revision is open. Nobody else may start one.
    ("start", "approved"): _row((405, 302), (405, 403), (405, 403)),
    ("start", "draft"): _row((405, 400), (405, 403), (405, 403)),
    ("start", "in_review"): _row((405, 400), (405, 403), (405, 403)),
    ("detail", "approved"): ALL_READ,
    ("detail", "draft"): UNPUBLISHED_READ,
    ("detail", "in_review"): UNPUBLISHED_READ,
    ("submit", "draft"): _row((405, 302), (405, 403), (405, 404)),
    ("submit", "in_review"): _row((405, 400), (405, 403), (405, 404)),
    ("submit", "approved"): _row((405, 400), (405, 403), (405, 403)),
    ("return", "in_review"): _row((405, 403), (405, 302), (405, 404)),
    ("return", "draft"): _row((405, 403), (405, 400), (405, 404)),
    ("return", "approved"): _row((405, 403), (405, 400), (405, 403)),
    ("approve", "in_review"): _row((403, 403), (200, 302), (404, 404)),
    ("approve", "draft"): _row((403, 403), (200, 400), (404, 404)),
    ("approve", "approved"): _row((403, 403), (200, 400), (403, 403)),
    ("overdue", "approved"): ALL_READ,
    ("overdue", "draft"): UNPUBLISHED_READ,
    ("overdue", "in_review"): UNPUBLISHED_READ,
}

CASES = [
    pytest.param(name, state, who, get, post, id=f"{name}-{state}-{who}")
    for (name, state), row in MATRIX.items()
    for who, (get, post) in row.items()
]


@pytest.mark.parametrize(("name", "state", "who", "get_status", "post_status"), CASES)
def test_status_matrix(name, state, who, get_status, post_status, request, client_for):
    revision = request.getfixturevalue(state)
    client = client_for(request.getfixturevalue(who))
    url = _url(name, revision)
    before = _snapshot()

    assert client.get(url).status_code == get_status
    assert _snapshot() == before, "a GET changes nothing"

    response = client.post(url, _post_data(name, revision))
    assert response.status_code == post_status
    if post_status == 302:
        assert _snapshot() != before
        year = revision.year + 2 if name == "start" else revision.year
        assert response["Location"] == reverse("roadmap:detail", args=[year])
    else:
        assert _snapshot() == before, "a refused POST changes nothing"
    if post_status == 400:
        assert response.context["error_forms"], "a 400 says why"


PAGES = sorted({(name, state) for name, state in MATRIX})


@pytest.mark.parametrize(("name", "state"), PAGES)
def test_anonymous_visitor_is_sent_to_login(name, state, request, client):
    revision = request.getfixturevalue(state)
    url = _url(name, revision)
    before = _snapshot()
    for response in (client.get(url), client.post(url, _post_data(name, revision))):
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('login')}?next={url}"
    assert _snapshot() == before


@pytest.mark.parametrize(("name", "state"), PAGES)
def test_user_without_a_role_is_refused(name, state, request, no_role_user, client_for):
    revision = request.getfixturevalue(state)
    client = client_for(no_role_user)
    url = _url(name, revision)
    before = _snapshot()
    assert client.get(url).status_code == 403
    assert client.post(url, _post_data(name, revision)).status_code == 403
    assert _snapshot() == before


def test_matrix_covers_every_lifecycle_url():
    names = {name for name, _state in MATRIX}
    assert names == {"list", "start", "detail", "submit", "return", "approve", "overdue"}
    for row in MATRIX.values():
        assert set(row) == set(ROLE_FIXTURES)


# --- The whole cycle -----------------------------------------------------------------


def test_whole_cycle_through_the_pages(roadmap_2021, editor, approver, reader, kf, client_for):
    editor.first_name, editor.last_name = "Alice", "Andersson"
    editor.save()
    approver.first_name, approver.last_name = "Bob", "Berg"
    approver.save()
    alice, bob = client_for(editor), client_for(approver)

    # Alice is offered the next year, and starts the 2022 revision.
    page = alice.get(reverse("roadmap:list"))
    assert page.context["start_form"]["year"].value() == 2022
    response = alice.post(reverse("roadmap:start"), {"year": "2022", "title": ""})
    assert response.status_code == 302
    assert response["Location"] == "/revisioner/2022/"
    draft = Revision.objects.get(year=2022)
    assert (draft.status, draft.based_on, draft.title) == (
        Revision.Status.DRAFT,
        roadmap_2021,
        roadmap_2021.title,
    )
    assert NextStep.objects.filter(revision=draft).count() == 45
    page = alice.get(response["Location"])
    assert [str(m) for m in page.context["messages"]], "success is said"
    assert page.context["submit_form"] is not None

    # Alice submits, Bob returns it with a comment, Alice submits again.
    assert alice.post("/revisioner/2022/skicka/", {"comment": ""}).status_code == 302
    assert Revision.objects.get(year=2022).status == Revision.Status.IN_REVIEW
    response = bob.post("/revisioner/2022/returnera/", {"comment": "Behov 2.1 saknar rubrik."})
    assert response.status_code == 302
    assert Revision.objects.get(year=2022).status == Revision.Status.DRAFT
    response = alice.post("/revisioner/2022/skicka/", {"comment": "Rubriken är tillagd."})
    assert response.status_code == 302

    # Bob opens the approval page and records the decision.
    page = bob.get("/revisioner/2022/faststall/")
    assert page.status_code == 200
    assert page.context["in_force"] == roadmap_2021
    response = bob.post(
        "/revisioner/2022/faststall/",
        {
            "decision_body": kf.pk,
            "decision_date": "2022-11-30",
            "case_number": " KS 2022/1234 ",
            "decision_paragraph": "§ 7",
            "comment": "Enligt förslag.",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/revisioner/2022/"

    new, old = Revision.objects.get(year=2022), Revision.objects.get(year=2021)
    assert new.status == Revision.Status.APPROVED
    assert (new.decision_body, new.decision_date, new.case_number, new.decision_paragraph) == (
        kf,
        datetime.date(2022, 11, 30),
        "KS 2022/1234",
        "§ 7",
    )
    assert old.status == Revision.Status.SUPERSEDED
    assert Revision.objects.current() == new

    # The reader now sees the new revision, with its whole history.
    erik = client_for(reader)
    assert erik.get("/").context["revision"] == new
    page = erik.get("/revisioner/2022/")
    assert [(e.kind, e.actor_name) for e in page.context["events"]] == [
        (RevisionEvent.Kind.CREATED, "Alice Andersson"),
        (RevisionEvent.Kind.SUBMITTED, "Alice Andersson"),
        (RevisionEvent.Kind.RETURNED, "Bob Berg"),
        (RevisionEvent.Kind.SUBMITTED, "Alice Andersson"),
        (RevisionEvent.Kind.APPROVED, "Bob Berg"),
    ]
    assert [e.comment for e in page.context["events"]][1:] == [
        "",
        "Behov 2.1 saknar rubrik.",
        "Rubriken är tillagd.",
        "Enligt förslag.",
    ]
    # On the page: an ordered list, oldest first, each step with what and who.
    content = page.content.decode()
    timeline = content[content.index('<ol class="timeline-list">') :]
    timeline = timeline[: timeline.index("</ol>")]
    items = timeline.split('<li class="timeline-event">')[1:]
    assert len(items) == 5
    with translation.override("sv"):
        for item, event in zip(items, page.context["events"], strict=True):
            assert str(event.get_kind_display()) in item
            assert event.actor_name in item
            assert f'datetime="{timezone.localtime(event.created_at).isoformat()}"' in item
    assert "Behov 2.1 saknar rubrik." in items[2]
    assert "KS 2022/1234" in content
    assert 'href="/revisioner/2021/"' in content, "links to the revision it is based on"

    # The old revision records that it was superseded, and by whom.
    events = list(old.events.all())
    assert events[-1].kind == RevisionEvent.Kind.SUPERSEDED
    assert events[-1].actor_name == "Bob Berg"
    assert "Bob Berg" in erik.get("/revisioner/2021/").content.decode()


# --- Invalid transitions and bad input ----------------------------------------------


def _assert_error_summary(response) -> str:
    """The error summary is at the top of the page, with role="alert", and each
    of its links leads to a field on the page."""
    html = parse_html(response.content)
    content = response.content.decode()
    assert 'class="error-summary" role="alert"' in content
    assert content.index("error-summary") < content.index("<h1")
    ids = {attrs.get("id") for _tag, attrs in html.tags}
    summary = content[content.index("error-summary") :]
    summary = summary[: summary.index("</div>")]
    for tag, attrs in parse_html(summary).tags:
        if tag == "a":
            assert attrs["href"].lstrip("#") in ids
    return summary


def test_approving_a_draft_is_refused_with_a_message(draft, approver, client_for):
    before = _snapshot()
    response = client_for(approver).post(_url("approve", draft), _post_data("approve", draft))
    assert response.status_code == 400
    form = response.context["form"]
    assert _error_codes(form) == ["invalid_transition"]
    summary = _assert_error_summary(response)
    assert form.non_field_errors()[0] in summary
    assert 'value="KS 2024/321"' in response.content.decode(), "input kept"
    assert _snapshot() == before


def test_submitting_an_approved_revision_is_refused(approved, editor, client_for):
    before = _snapshot()
    response = client_for(editor).post(_url("submit", approved), {"comment": "Igen"})
    assert response.status_code == 400
    assert _error_codes(response.context["submit_form"]) == ["invalid_transition"]
    _assert_error_summary(response)
    assert "Igen</textarea>" in response.content.decode(), "input kept"
    assert _snapshot() == before


def test_returning_without_a_comment_is_refused_next_to_the_field(in_review, approver, client_for):
    before = _snapshot()
    response = client_for(approver).post(_url("return", in_review), {"comment": "  "})
    assert response.status_code == 400
    assert set(response.context["return_form"].errors) == {"comment"}
    summary = _assert_error_summary(response)
    assert 'href="#id_return_comment"' in summary
    html = parse_html(response.content)
    textarea = next(a for t, a in html.tags if t == "textarea" and a["name"] == "comment")
    assert textarea["id"] == "id_return_comment"
    assert "id_return_comment_error" in textarea["aria-describedby"].split()
    assert textarea["aria-invalid"] == "true"
    assert any(a.get("id") == "id_return_comment_error" for _t, a in html.tags)
    with translation.override("sv"):
        assert html.text["title"][0].startswith(translation.gettext("Error:"))
    assert _snapshot() == before


def test_start_needs_an_approved_revision(editor, reference_data):
    with pytest.raises(ValidationError):
        revision_start(actor=editor, year=2022)


def test_starting_a_second_draft_is_refused(draft, editor, client_for):
    before = _snapshot()
    response = client_for(editor).post(
        reverse("roadmap:start"), {"year": "2025", "title": "Ett andra utkast"}
    )
    assert response.status_code == 400
    assert _error_codes(response.context["start_form"]) == ["draft_exists"]
    _assert_error_summary(response)
    assert 'value="Ett andra utkast"' in response.content.decode(), "input kept"
    assert _snapshot() == before


def test_start_for_a_year_not_after_the_approved_one_is_refused_at_the_year(
    approved, editor, client_for
):
    before = _snapshot()
    response = client_for(editor).post(
        reverse("roadmap:start"), {"year": "2023", "title": "Samma år"}
    )
    assert response.status_code == 400
    assert set(response.context["start_form"].errors) == {"year"}
    assert 'href="#id_year"' in _assert_error_summary(response)
    assert 'value="Samma år"' in response.content.decode()
    assert _snapshot() == before


def test_approval_without_case_number_keeps_the_other_input(in_review, approver, client_for):
    before = _snapshot()
    data = {**_post_data("approve", in_review), "case_number": ""}
    response = client_for(approver).post(_url("approve", in_review), data)
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"case_number"}
    summary = _assert_error_summary(response)
    assert 'href="#id_case_number"' in summary
    content = response.content.decode()
    assert 'value="§ 12"' in content
    assert 'value="2024-06-12"' in content
    html = parse_html(response.content)
    field = next(a for t, a in html.tags if t == "input" and a.get("name") == "case_number")
    assert field["aria-describedby"].split() == ["id_case_number_helptext", "id_case_number_error"]
    assert _snapshot() == before


def test_approve_page_of_a_revision_not_in_review_offers_no_form(approved, approver, client_for):
    response = client_for(approver).get(_url("approve", approved))
    assert response.status_code == 200
    assert response.context["form"] is None
    assert "<form" not in response.content.decode().split("<main", 1)[1]


# --- The list of revisions ---------------------------------------------------------


@pytest.fixture
def history(kf, reference_data) -> list[Revision]:
    """2021 superseded, 2022 approved, 2023 a draft."""
    old = RevisionFactory(
        year=2021, status=Revision.Status.SUPERSEDED, case_number="KS 2021/1462", decision_body=kf
    )
    current = RevisionFactory(year=2022, based_on=old)
    approve(current)
    return [old, current, RevisionFactory(year=2023, draft=True, based_on=current)]


@pytest.mark.parametrize("who", REPORTERS_AND_READER)
def test_list_shows_readers_only_published_revisions(who, history, request, client_for):
    response = client_for(request.getfixturevalue(who)).get(reverse("roadmap:list"))
    assert [r.year for r in response.context["revisions"]] == [2022, 2021]
    assert response.context["start_form"] is None
    content = response.content.decode()
    with translation.override("sv"):
        assert str(Revision.Status.SUPERSEDED.label) in content
    assert 'href="/revisioner/2023/"' not in content


@pytest.mark.parametrize("who", [EDITOR, APPROVER])
def test_list_shows_editors_and_approvers_every_revision(who, history, request, client_for):
    response = client_for(request.getfixturevalue(who)).get(reverse("roadmap:list"))
    assert [r.year for r in response.context["revisions"]] == [2023, 2022, 2021]
    with translation.override("sv"):
        assert str(Revision.Status.DRAFT.label) in response.content.decode()


def test_list_offers_the_editor_the_next_year(approved, editor, client_for):
    response = client_for(editor).get(reverse("roadmap:list"))
    form = response.context["start_form"]
    assert form["year"].value() == 2024
    assert 'action="/revisioner/starta/"' in response.content.decode()


def test_list_offers_no_start_while_a_revision_is_open(draft, editor, client_for):
    response = client_for(editor).get(reverse("roadmap:list"))
    assert response.context["start_form"] is None
    assert response.context["open_revision"] == draft
    assert 'action="/revisioner/starta/"' not in response.content.decode()


def test_list_offers_the_approver_no_start(approved, approver, client_for):
    response = client_for(approver).get(reverse("roadmap:list"))
    assert response.context["start_form"] is None


# --- The revision page -------------------------------------------------------------


def test_published_revision_shows_its_decision(reference_data, reader, client_for):
    approved = approve(
        RevisionFactory(
            year=2023, decision_date=datetime.date(2023, 3, 14), decision_paragraph="§ 9"
        )
    )
    response = client_for(reader).get(_url("detail", approved))
    content = response.content.decode()
    for text in ("Kommunfullmäktige", "KS 2023/1", "§ 9", 'datetime="2023-03-14"'):
        assert text in content
    with translation.override("sv"):
        assert str(Revision.Status.APPROVED.label) in content
    assert f'href="{_url("overdue", approved)}"' in content
    assert reverse("admin:index") not in content
    assert response.context["submit_form"] is None
    assert response.context["return_form"] is None
    assert not response.context["may_approve"]


def test_draft_page_offers_the_editor_submit_and_editing(draft, editor, client_for):
    response = client_for(editor).get(_url("detail", draft))
    content = response.content.decode()
    assert response.context["submit_form"] is not None
    assert response.context["return_form"] is None
    assert 'action="/revisioner/2024/skicka/"' in content
    assert reverse("admin:roadmap_revision_change", args=[draft.pk]) in content
    assert f'href="{_url("redline", draft)}"' in content
    assert 'href="/revisioner/2023/"' in content, "based on"


def test_draft_page_offers_the_approver_nothing_to_do(draft, approver, client_for):
    response = client_for(approver).get(_url("detail", draft))
    assert response.context["submit_form"] is None
    assert response.context["return_form"] is None
    assert not response.context["may_approve"]
    assert reverse("admin:roadmap_revision_changelist") not in response.content.decode()


def test_review_page_offers_the_approver_return_and_approve(in_review, approver, client_for):
    response = client_for(approver).get(_url("detail", in_review))
    content = response.content.decode()
    assert response.context["return_form"] is not None
    assert response.context["may_approve"]
    assert 'action="/revisioner/2024/returnera/"' in content
    assert 'href="/revisioner/2024/faststall/"' in content


def test_review_page_offers_the_editor_nothing_to_do(in_review, editor, client_for):
    response = client_for(editor).get(_url("detail", in_review))
    assert response.context["submit_form"] is None
    assert response.context["return_form"] is None
    assert not response.context["may_approve"]


def test_nav_links_to_the_revisions(approved, reader, client_for):
    response = client_for(reader).get(reverse("roadmap:list"))
    html = parse_html(response.content)
    link = next(a for t, a in html.tags if t == "a" and a.get("href") == "/revisioner/")
    assert link.get("aria-current") == "page"


def test_base_has_an_extra_head_block():
    template = engines["django"].from_string(
        '{% extends "base.html" %}{% block extra_head %}<meta name="x-test">{% endblock %}'
    )
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    html = template.render({}, request=request)
    assert html.index('<meta name="x-test">') < html.index("</head>")


# --- Overdue next steps ------------------------------------------------------------


def test_overdue_lists_a_short_term_step_of_an_old_revision(approved, reader, client_for):
    # Set in 2023, kort sikt: due by the end of 2024, overdue from 2025 on.
    assert timezone.localdate().year >= 2025
    response = client_for(reader).get(_url("overdue", approved))
    assert response.status_code == 200
    assert [s.text for s in response.context["steps"]] == ["Ta fram en kompetensplan"]
    content = response.content.decode()
    assert "Följ upp bemanningen" not in content, "ongoing steps are never overdue"
    row = content[content.index("Ta fram en kompetensplan") :]
    row = row[: row.index("</tr>")]
    for text in ("Kort sikt", "<td>2023</td>", "<td>2024</td>", "Äldrenämnden"):
        assert text in row
    before_row = content[: content.index("Ta fram en kompetensplan")]
    assert "Säkra grunduppdraget" in before_row
    assert "Fler undersköterskor" in before_row


def test_overdue_as_of_a_given_year(approved, reader, client_for):
    client = client_for(reader)
    url = _url("overdue", approved)
    assert client.get(url, {"ar": "2024"}).context["steps"] == [], "due by the end of 2024"
    steps = client.get(url, {"ar": "2025"}).context["steps"]
    assert [s.text for s in steps] == ["Ta fram en kompetensplan"]


def test_overdue_with_a_bad_year_says_so(approved, reader, client_for):
    response = client_for(reader).get(_url("overdue", approved), {"ar": "tjugo"})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"ar"}
    assert 'href="#id_ar"' in _assert_error_summary(response)


def test_overdue_counts_from_the_year_the_horizon_was_set(approved, editor, client_for):
    """A step copied unchanged into the 2024 draft is still due by the end of 2024."""
    revision_start(actor=editor)
    response = client_for(editor).get("/revisioner/2024/forfallna/", {"ar": "2025"})
    steps = response.context["steps"]
    assert [(s.text, s.horizon_set_year, s.due) for s in steps] == [
        ("Ta fram en kompetensplan", 2023, 2024)
    ]


# --- Accessibility -----------------------------------------------------------------


A11Y_PAGES = [
    ("list", "approved", EDITOR),
    ("detail", "draft", EDITOR),
    ("detail", "in_review", APPROVER),
    ("detail", "approved", READER),
    ("approve", "in_review", APPROVER),
    ("overdue", "approved", READER),
]


@pytest.mark.parametrize(("name", "state", "who"), A11Y_PAGES)
def test_page_is_accessible(name, state, who, request, client_for):
    revision = request.getfixturevalue(state)
    response = client_for(request.getfixturevalue(who)).get(_url(name, revision))
    assert response.status_code == 200
    html = parse_html(response.content)
    assert ("html", {"lang": "sv"}) in html.tags
    assert html.text["title"][0].strip()
    assert len(html.text["h1"]) == 1 and html.text["h1"][0].strip()
    links = [attrs for tag, attrs in html.tags if tag == "a"]
    assert links[0]["href"] == "#main", "the skip link comes first"
    labelled = {attrs["for"] for tag, attrs in html.tags if tag == "label"}
    fields = [
        attrs
        for tag, attrs in html.tags
        if tag in ("input", "select", "textarea")
        and attrs.get("type") not in ("hidden", "submit", "button")
    ]
    if name != "detail" or state != "approved":
        assert fields, "the page has a form"
    for attrs in fields:
        assert attrs.get("id") in labelled, f"field {attrs.get('name')} has no label"
    ids = [attrs["id"] for _tag, attrs in html.tags if attrs.get("id")]
    assert len(ids) == len(set(ids)), "ids are unique"


def test_timeline_is_an_ordered_list(approved, editor, approver, reader, client_for):
    revision_start(actor=editor)
    response = client_for(approver).get("/revisioner/2024/")
    content = response.content.decode()
    section = content[content.index('aria-labelledby="timeline-heading"') :]
    assert section.index("<ol") < section.index("</section>")
    assert [e.kind for e in response.context["events"]] == [RevisionEvent.Kind.CREATED]
    assert "alice" in section


# --- Query counts ------------------------------------------------------------------


def _build(year: int, needs: int, status=Revision.Status.APPROVED) -> Revision:
    revision = RevisionFactory(year=year)
    build_tree(
        revision,
        focus_areas=2,
        needs=needs,
        next_steps=2,
        horizons=_horizons("short", "ongoing"),
        organisations=Organisation.objects.filter(code__in=["aldrenamnden", "bromma"]),
    )
    return approve(revision)


def _queries(client, url, **params) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(queries)


def test_pages_run_a_fixed_number_of_queries(reference_data, kf, approver, client_for, capsys):
    small = _build(2031, needs=2)
    large = _build(2032, needs=20)
    client = client_for(approver)
    client.get("/revisioner/")  # warm up: session, permissions, content types
    counts = {}
    for name in ("detail", "overdue"):
        counts[name] = [
            _queries(client, _url(name, small), ar=2040),
            _queries(client, _url(name, large), ar=2040),
        ]
    list_one = _queries(client, "/revisioner/")
    for year in range(2040, 2049):
        RevisionFactory(
            year=year, status=Revision.Status.SUPERSEDED, case_number="KS 1", decision_body=kf
        )
    counts["list"] = [list_one, _queries(client, "/revisioner/")]
    with capsys.disabled():
        print(f"\nqueries at 1× and 10×: {counts}")
    # The detail page also shows the latest statuses from the follow-up: up to
    # four more queries (tests/followup/test_roadmap_status.py).
    limits = {"detail": 18}
    for name, (one, ten) in counts.items():
        assert one == ten, name
        assert ten <= limits.get(name, 15), name
