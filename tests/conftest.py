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
from django.db import transaction
from django.test import Client

from accounts import roles
from roadmap.models import Organisation, Revision, TimeHorizon
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


@pytest.fixture
def role_groups(db) -> dict[str, Group]:
    """The role groups with their permissions, from roadmap.roles.

    The post_migrate handler has already created them; syncing again is cheap
    and makes the fixtures independent of the test database's history.
    """
    roles.sync_roles()
    return {role: Group.objects.get(name=role) for role in roles.ROLES}


@pytest.fixture
def reference_data(db) -> None:
    """Time horizons and organisations, from the fixtures the app ships."""
    call_command("loaddata", "time_horizons", "organisations", verbosity=0)


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
def roadmap_2021(db) -> Revision:
    """The adopted 2021 roadmap, loaded the way an installation loads it."""
    call_command("load_roadmap", stdout=StringIO())
    return Revision.objects.get(year=2021)


@pytest.fixture(scope="module")
def _roadmap_2021_for_module(django_db_setup, django_db_blocker):
    """The 2021 roadmap loaded once for a whole test module, in a transaction
    that is rolled back when the module ends. Each test's own transaction is a
    savepoint inside it, so whatever a test changes is undone as usual. Loading
    the roadmap is a few thousand queries: once per module instead of per test.
    Not for modules with transactional (``transaction=True``) tests."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            call_command("loaddata", "time_horizons", "organisations", verbosity=0)
            call_command("load_roadmap", stdout=StringIO())
            yield Revision.objects.get(year=2021).pk
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def shared_roadmap_2021(_roadmap_2021_for_module, db) -> Revision:
    """``roadmap_2021`` for a module that opts in with
    a ``roadmap_2021`` fixture of its own that returns this one (see
    ``_roadmap_2021_for_module``)."""
    return Revision.objects.get(pk=_roadmap_2021_for_module)


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

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
