"""Every response carries a Content-Security-Policy without 'unsafe-inline',
for every role, on the site's pages and the admin's (here, because the pages
need the follow-up's fixtures)."""

from django.test import Client
from django.urls import reverse

from tests.conftest import PASSWORD


def _csp_pages(small_period, superuser) -> list[str]:
    revision = small_period.revision
    return [
        reverse("login"),
        reverse("roadmap:current"),
        reverse("roadmap:list"),
        reverse("roadmap:detail", args=[revision.year]),
        reverse("followup:periods"),
        reverse("followup:matrix", args=[small_period.pk]),
        reverse("followup:my_reports"),
        reverse("followup:reports"),
        reverse("followup:export_csv", args=[small_period.pk]),
        "/does-not-exist/",
        reverse("admin:login"),
        reverse("admin:index"),
        reverse("admin:roadmap_revision_changelist"),
        reverse("admin:roadmap_revision_change", args=[revision.pk]),
        reverse("admin:roadmap_revision_history", args=[revision.pk]),
        reverse("admin:followup_reportingperiod_changelist"),
        reverse("admin:auth_user_change", args=[superuser.pk]),
    ]


def test_every_response_has_a_csp_without_unsafe_inline(
    small_period, editor, approver, bromma_reporter, reader, django_user_model, client_for
):
    superuser = django_user_model.objects.create_superuser("root", "root@example.org", PASSWORD)
    seen_statuses = set()
    for user in (None, editor, approver, bromma_reporter, reader, superuser):
        client = client_for(user) if user is not None else Client()
        for url in _csp_pages(small_period, superuser):
            response = client.get(url)
            seen_statuses.add(response.status_code)
            policy = response.get("Content-Security-Policy")
            assert policy, (user, url, response.status_code)
            assert "'unsafe-inline'" not in policy
            assert "'unsafe-eval'" not in policy
            directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
            assert directives["default-src"] == "'self'"
            assert directives["script-src"].startswith("'self'")
            assert directives["object-src"] == "'none'"
            assert directives["frame-ancestors"] == "'none'"
    assert {200, 302, 403, 404} <= seen_statuses


def test_inline_style_of_the_matrix_carries_the_nonce(small_period, reader, client_for):
    response = client_for(reader).get(reverse("followup:matrix", args=[small_period.pk]))
    content = response.content.decode()
    policy = response["Content-Security-Policy"]
    assert "<style nonce=" in content
    nonce = content.split('<style nonce="', 1)[1].split('"', 1)[0]
    assert f"'nonce-{nonce}'" in policy
    assert ' style="' not in content
    assert "<script>" not in content
