"""No test leaks data into the next one, whatever kind of test it is.

The tests here run in the order written, in one process (one xdist group):
each first test changes the database, the test after it checks that the
change is gone and the base data (tests/conftest.py) is whole again.
"""

import json
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group

from accounts import roles
from followup.models import Status
from roadmap.models import Organisation, TimeHorizon

pytestmark = pytest.mark.xdist_group("isolation")

PROBE = "lackage-prov"


def _shipped(name: str) -> int:
    path = Path(settings.BASE_DIR) / "fixtures" / f"{name}.json"
    return len(json.loads(path.read_text(encoding="utf-8")))


def _assert_base_data_whole() -> None:
    assert not Organisation.objects.filter(code=PROBE).exists()
    assert Organisation.objects.count() == _shipped("organisations")
    assert TimeHorizon.objects.count() == _shipped("time_horizons")
    assert Status.objects.count() == _shipped("statuses")
    for group in Group.objects.filter(name__in=roles.ROLES):
        assert group.permissions.count() == len(set(roles.ROLE_PERMISSIONS[group.name]))
    assert Group.objects.filter(name__in=roles.ROLES).count() == len(roles.ROLES)


def _change_everything() -> None:
    Organisation.objects.create(code=PROBE, name="Läckageprov", kind=Organisation.Kind.COMMITTEE)
    Status.objects.all().delete()
    Group.objects.get(name=roles.READER).permissions.clear()


@pytest.mark.django_db
def test_1_an_ordinary_test_changes_the_base_data() -> None:
    _assert_base_data_whole()
    _change_everything()


@pytest.mark.django_db
def test_2_the_next_test_sees_none_of_it() -> None:
    _assert_base_data_whole()


@pytest.mark.django_db(transaction=True)
def test_3_a_transactional_test_commits_changes() -> None:
    _assert_base_data_whole()
    _change_everything()


@pytest.mark.django_db(transaction=True)
def test_4_the_next_transactional_test_sees_none_of_it() -> None:
    _assert_base_data_whole()


def test_5_nor_does_a_test_after_it(request) -> None:
    # Asking for the database only here, not by marker or argument, puts this
    # test after the transactional ones (pytest-django orders by what it sees).
    request.getfixturevalue("db")
    _assert_base_data_whole()
