"""seed_demo: one demo user per role, never in production."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import RequestFactory, override_settings

from accounts import roles
from followup.management.commands.seed_demo import DEMO_USERS

EXPECTED = {
    # username: (role, organisation codes, is_staff)
    "redaktor": (roles.EDITOR, {"aldrenamnden"}, True),
    "godkannare": (roles.APPROVER, {"aldrenamnden"}, True),
    "rapportor-bromma": (roles.REPORTER, {"bromma"}, False),
    "rapportor-farsta": (roles.REPORTER, {"farsta"}, False),
    "lasare": (roles.READER, set(), False),
}


def _seed():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def _state():
    User = get_user_model()
    return {
        u.username: (
            [g.name for g in u.groups.all()],
            {o.code for o in u.organisations.all()},
            u.is_staff,
            u.is_superuser,
        )
        for u in User.objects.prefetch_related("groups", "organisations")
    }


@pytest.mark.django_db
def test_seed_demo_creates_one_user_per_role():
    _seed()
    state = _state()
    assert set(state) == set(EXPECTED)
    for username, (role, orgs, is_staff) in EXPECTED.items():
        groups, user_orgs, user_is_staff, is_superuser = state[username]
        assert groups == [role], username
        assert user_orgs == orgs, username
        assert user_is_staff is is_staff, username
        assert is_superuser is False, username


@pytest.mark.django_db
def test_seed_demo_is_idempotent():
    _seed()
    first = _state()
    _seed()
    assert _state() == first
    assert get_user_model().objects.count() == 5


@pytest.mark.django_db
def test_seed_demo_repairs_a_changed_demo_user(role_groups):
    _seed()
    user = get_user_model().objects.get(username="lasare")
    user.groups.set([role_groups[roles.EDITOR]])
    user.is_superuser = True
    user.save()
    _seed()
    user.refresh_from_db()
    assert [g.name for g in user.groups.all()] == [roles.READER]
    assert user.is_superuser is False


@pytest.mark.django_db
def test_demo_users_can_log_in_with_the_printed_passwords(client):
    output = _seed()
    for username, _full_name, _role, _orgs, password in DEMO_USERS:
        assert username in output and password in output
        # The login throttle (django-axes) needs the request, as every login page passes it.
        request = RequestFactory().post("/login/")
        assert client.login(request=request, username=username, password=password), username


@pytest.mark.django_db
def test_demo_users_have_no_real_names_or_addresses():
    _seed()
    for user in get_user_model().objects.all():
        assert user.first_name == "Demo"
        assert "@" not in user.email


@pytest.mark.django_db
@override_settings(PRODUCTION=True)
def test_seed_demo_refuses_to_run_in_production():
    with pytest.raises(CommandError):
        _seed()
    assert get_user_model().objects.count() == 0
