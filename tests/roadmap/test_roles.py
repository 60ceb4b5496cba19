"""Roles are groups with exactly the permissions roadmap.roles gives them."""

import pytest
from django.contrib.auth.models import Group

from roadmap import roles


@pytest.mark.django_db
def test_migrate_creates_the_role_groups_with_their_permissions():
    # No call to sync_roles() here: the post_migrate handler did it.
    groups = {g.name: g for g in Group.objects.filter(name__in=roles.ROLES)}
    assert set(groups) == set(roles.ROLES)
    for role, perms in roles.ROLE_PERMISSIONS.items():
        actual = set(groups[role].permissions.values_list("content_type__app_label", "codename"))
        assert actual == set(perms), role


@pytest.mark.django_db
def test_sync_roles_takes_away_permissions_given_by_hand(role_groups):
    from django.contrib.auth.models import Permission

    reader = role_groups[roles.READER]
    reader.permissions.add(Permission.objects.get(codename="change_nextstep"))
    roles.sync_roles()
    assert not reader.permissions.filter(codename="change_nextstep").exists()


@pytest.mark.parametrize(
    ("who", "allowed", "refused"),
    [
        (
            "editor",
            ["view_revision", "add_revision", "change_revision", "change_nextstep", "add_need"],
            ["delete_revision", "change_timehorizon", "add_organisation"],
        ),
        (
            "approver",
            ["view_revision", "change_revision", "view_nextstep"],
            ["add_revision", "change_nextstep", "delete_need"],
        ),
        ("bromma_reporter", ["view_revision", "view_nextstep"], ["change_nextstep"]),
        ("farsta_reporter", ["view_revision", "view_cityaction"], ["change_revision"]),
        ("reader", ["view_revision", "view_focusarea"], ["change_revision", "add_need"]),
        ("no_role_user", [], ["view_revision", "view_nextstep"]),
    ],
)
def test_role_permissions_both_ways(who, allowed, refused, request):
    user = request.getfixturevalue(who)
    for codename in allowed:
        assert user.has_perm(f"roadmap.{codename}"), codename
    for codename in refused:
        assert not user.has_perm(f"roadmap.{codename}"), codename


def test_only_editors_and_approvers_are_staff(editor, approver, bromma_reporter, reader):
    assert (editor.is_staff, approver.is_staff) == (True, True)
    assert (bromma_reporter.is_staff, reader.is_staff) == (False, False)


def test_reporters_belong_to_their_own_district(bromma_reporter, farsta_reporter):
    assert [o.code for o in bromma_reporter.organisations.all()] == ["bromma"]
    assert [o.code for o in farsta_reporter.organisations.all()] == ["farsta"]
