"""The roadmap pages: who may read them, what they contain, and what they cost."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from roadmap.models import FocusArea, Need, NextStep, Organisation, Revision, TimeHorizon
from tests.builders import build_tree
from tests.factories import (
    FocusAreaFactory,
    RevisionFactory,
    approve,
    supersede,
)
from tests.helpers import ROLE_FIXTURES, parse_html

CURRENT = "/"


def test_current_roadmap_url_is_the_root():
    assert reverse("roadmap:current") == CURRENT
    assert reverse("roadmap:detail", args=[2021]) == "/revisioner/2021/"


# --- Access ------------------------------------------------------------------------
# A small factory-built revision is enough to see who gets in; the content
# tests below use the real 2021 roadmap.


def _urls(revision: Revision) -> list[str]:
    return [CURRENT, f"/revisioner/{revision.year}/"]


def test_anonymous_visitor_is_sent_to_login(small_roadmap, anonymous, client_for):
    client = client_for(anonymous)
    for url in _urls(small_roadmap):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == f"{reverse('login')}?next={url}"


def test_user_without_a_role_is_refused(small_roadmap, no_role_user, client_for):
    focus_area = small_roadmap.focus_areas.get()
    client = client_for(no_role_user)
    for url in _urls(small_roadmap):
        response = client.get(url)
        assert response.status_code == 403, url
        assert focus_area.title not in response.content.decode()


@pytest.mark.parametrize("who", ROLE_FIXTURES)
def test_every_role_reads_the_roadmap(who, small_roadmap, request, client_for):
    focus_area = small_roadmap.focus_areas.get()
    client = client_for(request.getfixturevalue(who))
    for url in _urls(small_roadmap):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.context["revision"] == small_roadmap
        assert focus_area.title in response.content.decode()


def test_unknown_year_is_not_found(small_roadmap, reader, client_for):
    assert client_for(reader).get("/revisioner/1999/").status_code == 404


@pytest.fixture
def small_draft_2022(small_roadmap):
    draft = RevisionFactory(year=2022, draft=True, title="Färdplan, utkast")
    FocusAreaFactory(revision=draft, title="Ett fokusområde under arbete")
    return draft


@pytest.mark.parametrize("who", ["reader", "bromma_reporter"])
def test_draft_is_hidden_from_readers_and_reporters(
    who, small_draft_2022, small_roadmap, request, client_for
):
    client = client_for(request.getfixturevalue(who))
    assert client.get("/revisioner/2022/").status_code == 404
    # The current roadmap is still the approved one.
    assert client.get(CURRENT).context["revision"] == small_roadmap


@pytest.mark.parametrize("who", ["editor", "approver"])
def test_draft_is_shown_to_editors_and_approvers(who, small_draft_2022, request, client_for):
    response = client_for(request.getfixturevalue(who)).get("/revisioner/2022/")
    assert response.status_code == 200
    assert "Ett fokusområde under arbete" in response.content.decode()


def test_superseded_revision_is_still_readable(reference_data, reader, client_for):
    supersede(RevisionFactory(year=2030))
    approve(RevisionFactory(year=2031))
    client = client_for(reader)
    assert client.get("/revisioner/2030/").status_code == 200
    assert client.get(CURRENT).context["revision"].year == 2031


def test_without_an_approved_revision_the_page_says_so(reference_data, reader, client_for):
    RevisionFactory(year=2030, draft=True)
    response = client_for(reader).get(CURRENT)
    assert response.status_code == 404
    assert "roadmap/no_revision.html" in [t.name for t in response.templates]
    assert parse_html(response.content).text["title"][0].strip()


# --- Content -----------------------------------------------------------------------


@pytest.fixture
def page(roadmap_2021, reader, client_for):
    response = client_for(reader).get(CURRENT)
    assert response.status_code == 200
    return response


def test_page_is_swedish_with_a_title(page, roadmap_2021):
    html = parse_html(page.content)
    assert ("html", {"lang": "sv"}) in html.tags
    assert len(html.text["title"]) == 1
    assert roadmap_2021.title in html.text["title"][0]
    assert html.text["h1"][0].strip().startswith(roadmap_2021.title)


def test_page_has_a_skip_link_to_the_main_content(page):
    html = parse_html(page.content)
    links = [attrs for tag, attrs in html.tags if tag == "a"]
    assert links[0]["href"] == "#main", "the skip link comes first"
    assert any(tag == "main" and attrs.get("id") == "main" for tag, attrs in html.tags)


def test_one_table_with_column_headers_per_focus_area(page, roadmap_2021):
    html = parse_html(page.content)
    headers_per_table: list[int] = []
    for tag, attrs in html.tags:
        if tag == "table":
            headers_per_table.append(0)
        elif tag == "th" and attrs.get("scope") == "col":
            assert headers_per_table, "column header outside a table"
            headers_per_table[-1] += 1
    # The source's five columns: need, national, city, more to do, time horizon.
    assert headers_per_table == [5, 5, 5, 5]
    titles = list(
        FocusArea.objects.filter(revision=roadmap_2021)
        .order_by("position")
        .values_list("title", flat=True)
    )
    captions = [c.strip() for c in html.text.get("caption", [])]
    headings = [h.strip() for h in html.text["h2"]]
    for title in titles:
        assert title in captions or any(title in h for h in headings)


def test_every_next_step_is_on_the_page(page, roadmap_2021):
    content = page.content.decode()
    steps = NextStep.objects.filter(revision=roadmap_2021)
    assert steps.count() == 45
    missing = [s.text for s in steps if escape(s.text) not in content]
    assert missing == []


def test_every_need_title_and_item_is_on_the_page(page, roadmap_2021):
    content = page.content.decode()
    from roadmap.models import CityAction, NationalInitiative

    texts = [n.title for n in Need.objects.filter(revision=roadmap_2021) if n.title]
    for model in (NationalInitiative, CityAction):
        texts += [i.text for i in model.objects.filter(revision=roadmap_2021)]
    assert [t for t in texts if escape(t) not in content] == []


def test_need_2_1_data_note_is_shown(page, roadmap_2021):
    need = Need.objects.get(revision=roadmap_2021, title="")
    assert need.data_note
    assert escape(need.data_note) in page.content.decode()


def test_time_horizons_and_responsibility_are_shown(page):
    content = page.content.decode()
    assert "Löpande (ingår i boendeplan)" in content
    assert "Medellång sikt, löpande" in content
    assert "Äldrenämnden" in content
    assert "Kommunstyrelsen" in content


def test_decision_is_shown(page):
    content = page.content.decode()
    assert "KS 2021/1462" in content
    assert "Kommunfullmäktige" in content


# --- Query count -------------------------------------------------------------------


def _build_revision(year: int, needs_per_focus_area: int) -> Revision:
    """A synthetic revision: 4 focus areas × n needs, each need with 2 national
    initiatives, 3 city actions and 3 next steps, each step with 2 horizons and
    2 responsible organisations."""
    revision = RevisionFactory(year=year)
    build_tree(
        revision,
        focus_areas=4,
        needs=needs_per_focus_area,
        initiatives=2,
        city_actions=3,
        next_steps=3,
        horizons=TimeHorizon.objects.filter(code__in=["short", "ongoing"]),
        organisations=Organisation.objects.filter(code__in=["aldrenamnden", "bromma"]),
        all_districts=lambda position: position == 1,
    )
    return revision


def _count_queries(client, url) -> tuple[int, bytes]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response.content


def test_query_count_does_not_grow_with_the_roadmap(reference_data, reader, client_for, capsys):
    # Built in review, then approved: an approved revision takes no new content.
    small = supersede(_build_revision(2031, needs_per_focus_area=5))
    large = approve(_build_revision(2032, needs_per_focus_area=50))
    assert (
        NextStep.objects.filter(revision=large).count()
        == 10 * NextStep.objects.filter(revision=small).count()
        == 600
    )

    client = client_for(reader)
    client.get(CURRENT)  # warm up: session, content types
    small_count, small_html = _count_queries(client, "/revisioner/2031/")
    large_count, large_html = _count_queries(client, "/revisioner/2032/")
    current_count, _ = _count_queries(client, CURRENT)  # the current one is the large one

    with capsys.disabled():
        print(f"\nqueries for the roadmap page: 1× = {small_count}, 10× = {large_count}")
    assert small_count == large_count
    assert current_count == large_count
    # With the latest statuses from the follow-up: up to four more queries (the
    # status colours, the periods, the statuses, the reports counted).
    assert large_count <= 18
    # The pages really showed 1× and 10× the data.
    for revision, content in ((small, small_html.decode()), (large, large_html.decode())):
        texts = NextStep.objects.filter(revision=revision).values_list("text", flat=True)
        # "Nästa steg 12" must not pass for "Nästa steg 123".
        assert all(re.search(re.escape(escape(t)) + r"(?!\d)", content) for t in texts)


def test_query_count_of_the_2021_roadmap(
    roadmap_2021, reader, client_for, django_assert_max_num_queries
):
    client = client_for(reader)
    client.get(CURRENT)
    with django_assert_max_num_queries(18):
        assert client.get(CURRENT).status_code == 200
