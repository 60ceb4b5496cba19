"""Shared fixtures: the role users, reference data and the 2021 roadmap.

The users have names as well as roles (as in healthchecks' tests): alice the
editor, bob the approver, cecilia who reports for Bromma, david who reports for
Farsta, erik the reader, and frida, who is logged in but has no role.
"""

import os
from collections.abc import Callable
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, Group
from django.core.management import call_command
from django.test import Client
from pytest_django.plugin import blocking_manager_key

from accounts import roles
from roadmap.models import Organisation, Revision, TimeHorizon
from roadmap.reference import reference_load_missing
from roadmap.services import revision_start
from tests.factories import (
    CityActionFactory,
    NationalInitiativeFactory,
    NextStepFactory,
    approve,
)

PASSWORD = "correct-horse-battery-staple"  # noqa: S105 - test password


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    """Hashing at production strength costs a third of a second per user."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- Base data: once per test session ----------------------------------------------
# Every installation has the reference data (time horizons, organisations),
# the statuses and the role groups before anyone uses it. The tests get them
# the way pytest-django documents for initial data: loaded once into the test
# database, in ``django_db_setup``, outside the per-test transactions, so every
# test sees them and nothing a test does to them outlives the test. With
# pytest-xdist every worker has a database of its own and loads them there.
#
# A transactional test (``transaction=True``, the live server) commits, and
# ends with a flush that empties the database: ``pytest_runtest_teardown``
# below loads the base data again right after it, so whatever test comes next
# starts on the same database as every other.

BASE_FIXTURES = ("time_horizons", "organisations", "statuses")


def load_base_data() -> None:
    """Reference data, statuses and role groups, loaded where missing."""
    reference_load_missing(*BASE_FIXTURES)
    roles.sync_roles()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    # pytest-django sets up the test database only when a collected test needs
    # it; otherwise the connection still names the real database.
    if test_database_in_use():
        with django_db_blocker.unblock():
            load_base_data()


def test_database_in_use() -> bool:
    """Whether the default connection points at the test database."""
    from django.db import connection

    return connection.settings_dict["NAME"] == connection.creation._get_test_db_name()


@pytest.fixture(autouse=True)
def _note_transactional_tests(request) -> None:
    """Marks the tests that ran with a transactional database (and so end
    with a flush), for ``pytest_runtest_teardown``. A test skipped before its
    fixtures, e.g. a PostgreSQL-only one on SQLite, never gets here."""
    marker = request.node.get_closest_marker("django_db")
    if bool(marker is not None and marker.kwargs.get("transaction")) or any(
        name in request.fixturenames for name in ("transactional_db", "live_server")
    ):
        request.getfixturevalue("transactional_db")
        request.node.stash[_FLUSHES] = True


_FLUSHES = pytest.StashKey[bool]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    yield
    if nextitem is not None and item.stash.get(_FLUSHES, False):
        with item.config.stash[blocking_manager_key].unblock():
            load_base_data()


@pytest.fixture
def role_groups(db) -> dict[str, Group]:
    """The role groups with their permissions, from accounts.roles."""
    return {g.name: g for g in Group.objects.filter(name__in=roles.ROLES)}


@pytest.fixture
def reference_data(db) -> None:
    """Time horizons and organisations, from the fixtures the app ships
    (loaded once per session, see above)."""


@pytest.fixture
def make_user(role_groups, reference_data) -> Callable[..., object]:
    def make(username: str, role: str | None = None, org_codes: tuple[str, ...] = ()):
        user = get_user_model().objects.create_user(
            username=username,
            password=PASSWORD,
            is_staff=role in roles.STAFF_ROLES,
        )
        if role is not None:
            user.groups.add(role_groups[role])
        if org_codes:
            orgs = list(Organisation.objects.filter(code__in=org_codes))
            assert len(orgs) == len(org_codes), f"unknown organisation in {org_codes}"
            user.organisations.set(orgs)
        return user

    return make


@pytest.fixture
def editor(make_user):
    return make_user("alice", roles.EDITOR, ("aldrenamnden",))


@pytest.fixture
def approver(make_user):
    return make_user("bob", roles.APPROVER, ("aldrenamnden",))


@pytest.fixture
def bromma_reporter(make_user):
    return make_user("cecilia", roles.REPORTER, ("bromma",))


@pytest.fixture
def farsta_reporter(make_user):
    return make_user("david", roles.REPORTER, ("farsta",))


@pytest.fixture
def reader(make_user):
    return make_user("erik", roles.READER)


@pytest.fixture
def no_role_user(make_user):
    return make_user("frida")


@pytest.fixture
def anonymous() -> AnonymousUser:
    return AnonymousUser()


@pytest.fixture
def client_for(db) -> Callable[[object], Client]:
    """A test client logged in as the given user (anonymous: not logged in)."""

    def make(user) -> Client:
        client = Client()
        if user is not None and user.is_authenticated:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def media_root(settings, tmp_path):
    """Report files go to a folder of the test's own."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def fake_pdf(monkeypatch) -> None:
    """Reports render with the small stand-in for WeasyPrint (tests/fakes.py):
    for tests of the jobs, views and commands, not of the PDF itself."""
    from followup.reports import render
    from tests.fakes import fake_html_to_pdf

    monkeypatch.setattr(render, "html_to_pdf", fake_html_to_pdf)


@pytest.fixture
def roadmap_2021(db) -> Revision:
    """The adopted 2021 roadmap, loaded the way an installation loads it."""
    call_command("load_roadmap", stdout=StringIO())
    return Revision.objects.get(year=2021)


@pytest.fixture
def draft_2022(roadmap_2021, editor) -> Revision:
    """The 2022 draft, started by the editor as a copy of the 2021 roadmap:
    the revision whose content the admin lets editors change."""
    return revision_start(actor=editor, year=2022)


@pytest.fixture
def small_roadmap(reference_data):
    """A small approved revision with one of everything, built with the factories:
    enough to open every page, far quicker to build than the 2021 roadmap."""
    step = NextStepFactory(
        horizons=list(TimeHorizon.objects.filter(code__in=["short", "ongoing"])),
        responsible_organisations=list(Organisation.objects.filter(code="aldrenamnden")),
        all_districts=True,
    )
    NationalInitiativeFactory(need=step.need)
    CityActionFactory(
        need=step.need,
        responsible_organisations=list(Organisation.objects.filter(code="ks")),
    )
    return approve(step.revision)


# --- Test layers ------------------------------------------------------------------
# Layers that need PostgreSQL, Redis or Chromium skip with their reason when the
# service is missing. CI sets FARDPLAN_REQUIRE_ALL_LAYERS=1, which turns every
# skip into a failure, so nothing is skipped there. The one exception: tests
# marked `postgres` skip in the run on SQLite, because CI runs the whole suite
# on PostgreSQL as well and they run there.


def _on_postgresql() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


def pytest_collection_modifyitems(config, items) -> None:
    if _on_postgresql():
        return
    skip = pytest.mark.skip(
        reason="needs PostgreSQL: run with DATABASE_URL pointing at it (CI does)"
    )
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if (
        report.skipped
        and os.environ.get("FARDPLAN_REQUIRE_ALL_LAYERS") == "1"
        and not ("postgres" in item.keywords and not _on_postgresql())
    ):
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"Skipped, but FARDPLAN_REQUIRE_ALL_LAYERS=1 forbids skips: {reason}"


@pytest.fixture(scope="session", autouse=True)
def _close_leftover_connections(django_db_setup, django_db_blocker):
    """The live server's request threads can leave a PostgreSQL session open
    on the test database, which then cannot be dropped at the end. Set up
    before the live server, this runs after it has stopped."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql" or not test_database_in_use():
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
