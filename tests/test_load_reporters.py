"""The load script's pure parts (bench/load_reporters.py), so that it does not
rot between runs: the form scraper, the percentile, the access log and the
lost-update check. The load test itself is a benchmark, run by hand."""

import pytest

from bench import load_reporters as load

PAGE = """
<nav><form method="post" action="/logout/" class="logout">
  <input type="hidden" name="csrfmiddlewaretoken" value="other">
  <button type="submit">Logga ut</button>
</form></nav>
<form method="post" action="/uppfoljning/mina-rapporter/?period=7&amp;view=2"
      class="report-form wide" novalidate>
  <input type="hidden" name="csrfmiddlewaretoken" value="tok">
  <button type="submit" name="action" value="draft">Spara utkast</button>
  <button type="submit" name="action" value="submit">Lämna in</button>
  <fieldset>
    <button type="submit" name="copy-12" value="1">Samma som förra perioden</button>
    <input type="hidden" name="report" value="12">
    <input type="hidden" name="r12-expected_version" value="3" id="id_r12-expected_version">
    <select name="r12-status"><option value="">– Ingen status –</option>
      <option value="4" selected>Pågår</option><option value="5">Klar</option></select>
    <textarea name="r12-comment" rows="3">
Rad ett &amp; två</textarea>
    <input type="text" name="r12-expected_completion" value="T2">
  </fieldset>
  <fieldset>
    <input type="hidden" name="report" value="13">
    <input type="hidden" name="r13-expected_version" value="1">
    <select name="r13-status"><option value="">– Ingen status –</option>
      <option value="4">Pågår</option></select>
    <textarea name="r13-comment">
</textarea>
    <input type="checkbox" name="r13-flag" value="yes">
    <input type="checkbox" name="r13-checked" checked>
    <input type="text" name="r13-off" value="x" disabled>
    <input type="submit" name="other" value="go">
  </fieldset>
</form>
"""


def test_scraper_reads_only_the_report_form_as_a_browser_sends_it():
    form = load.scrape_form(PAGE)

    assert form.action == "/uppfoljning/mina-rapporter/?period=7&view=2"
    assert form.method == "post"
    assert form.fields == [
        ["csrfmiddlewaretoken", "tok"],
        ["report", "12"],
        ["r12-expected_version", "3"],
        ["r12-status", "4"],  # the selected option
        ["r12-comment", "Rad ett & två"],  # without the newline after <textarea>
        ["r12-expected_completion", "T2"],
        ["report", "13"],
        ["r13-expected_version", "1"],
        ["r13-status", ""],  # no option selected: the first
        ["r13-comment", ""],
        ["r13-checked", "on"],  # a checked box only; nothing disabled
    ]
    assert form.reports() == [12, 13]
    assert form.options["r12-status"] == ["", "4", "5"]
    assert form.button("draft") == ("action", "draft")
    assert ("copy-12", "1") in form.buttons and ("other", "go") in form.buttons


def test_submission_changes_named_fields_and_adds_the_button():
    form = load.scrape_form(PAGE)

    sent = form.submission({"r13-comment": "load x"}, ("action", "draft"))

    assert ("r13-comment", "load x") in sent and ("r12-comment", "Rad ett & två") in sent
    assert sent[-1] == ("action", "draft")
    assert len(sent) == len(form.fields) + 1
    with pytest.raises(KeyError, match="r99-comment"):
        form.submission({"r99-comment": "x"}, ("action", "draft"))


def test_scraper_without_a_report_form():
    assert load.scrape_form("<form class='logout'><input name='a' value='b'></form>") is None
    assert load.scrape_forms(PAGE, None)[0].fields == [["csrfmiddlewaretoken", "other"]]


def test_static_paths():
    page = '<link rel="stylesheet" href="/static/css/a.1.css"><script src="/static/js/b.js">'
    assert load.static_paths(page + page) == ["/static/css/a.1.css", "/static/js/b.js"]


def test_same_page_links_are_the_other_views_of_the_page():
    page = (
        '<a href="/uppfoljning/mina-rapporter/?period=7&amp;show=all">Alla</a>'
        '<a href="?period=7&amp;show=todo&amp;page=2#area-3">2</a>'
        '<a href="/uppfoljning/mina-rapporter/?period=7&amp;show=all">Alla igen</a>'
        '<a href="/uppfoljning/mina-rapporter/?period=7">this one</a>'
        '<a href="/uppfoljning/">Uppföljning</a><a href="/logout/">x</a>'
    )
    links = load.same_page_links(
        page, "/uppfoljning/mina-rapporter/?period=7", "/uppfoljning/mina-rapporter/"
    )
    assert links == [
        "/uppfoljning/mina-rapporter/?period=7&show=all",
        "/uppfoljning/mina-rapporter/?period=7&show=todo&page=2",
    ]


def test_percentile_is_the_nearest_rank():
    values = list(range(100, 0, -1))  # 100 … 1, unsorted
    assert load.percentile(values, 95) == 95
    assert load.percentile(values, 50) == 50
    assert load.percentile(values, 100) == 100
    assert load.percentile([1, 2, 3, 4], 50) == 2
    assert load.percentile([7], 95) == 7
    assert load.percentile([], 95) is None


def test_access_log_lines_are_parsed():
    lines = [
        "[2026-12-02 09:00:00 +0000] [1] [INFO] Booting worker",
        "LOAD kind=page method=GET status=200 bytes=315651 us=1734512 path=/uppfoljning/x/",
        "LOAD kind=- method=GET status=304 bytes=- us=800 path=/healthz",
    ]
    page, other = load.parse_access_log(lines)
    assert (page.kind, page.status, page.bytes, page.ms) == ("page", 200, 315651, 1734.512)
    assert (other.kind, other.bytes, other.ms) == ("-", 0, 0.8)


def _attempt(pk, comment, ok=True):
    return load.Attempt(pk, comment, ok, "u", "saved" if ok else "timeout")


def test_verify_saves_finds_lost_and_stored_despite_error():
    attempts = [
        _attempt(1, "a1"),
        _attempt(1, "a2"),  # the same reporter again: a1 only in the history
        _attempt(2, "b1"),  # overwritten by someone else
        _attempt(3, "c1"),  # never stored
        _attempt(4, "d1", ok=False),  # an error, but stored
        _attempt(5, "e1"),
        _attempt(5, "e2", ok=False),  # an error, not stored
    ]
    current = {1: "a2", 2: "someone else", 3: "", 4: "d1", 5: "e1"}
    history = {1: {"", "a1", "a2"}, 2: {"b1", "someone else"}, 4: {"d1"}, 5: {"e1"}}

    verdict = load.verify_saves(attempts, current, history)

    assert [a.comment for a in verdict.lost] == ["b1", "c1"]
    assert [a.comment for a in verdict.stored_despite_error] == ["d1"]


def test_verify_saves_accepts_a_later_errored_value_as_the_current_one():
    attempts = [_attempt(1, "a1"), _attempt(1, "a2", ok=False)]

    verdict = load.verify_saves(attempts, {1: "a2"}, {1: {"a1", "a2"}})

    assert verdict.lost == []
    assert [a.comment for a in verdict.stored_despite_error] == ["a2"]
