"""Roles are groups with exactly the permissions the apps' permissions modules give them."""

import pytest
from django.contrib.auth.models import Group

from accounts import roles


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


ROADMAP_READ = [
    ("roadmap", "view_revision"),
    ("roadmap", "view_focusarea"),
    ("roadmap", "view_need"),
    ("roadmap", "view_nationalinitiative"),
    ("roadmap", "view_cityaction"),
    ("roadmap", "view_nextstep"),
]
FOLLOWUP_READ = [
    ("followup", "view_followup"),
    ("followup", "view_reportingperiod"),
    ("followup", "view_statusreport"),
    ("followup", "view_status"),
]
# Written out by hand from the role definitions as they were when roles lived
# in roadmap/roles.py: moving the definitions must not change any group.
EXPECTED = {
    roles.EDITOR: {
        *ROADMAP_READ,
        ("roadmap", "add_revision"),
        ("roadmap", "change_revision"),
        ("roadmap", "start_revision"),
        ("roadmap", "submit_revision"),
        ("roadmap", "view_timehorizon"),
        ("roadmap", "view_organisation"),
        ("roadmap", "add_focusarea"),
        ("roadmap", "change_focusarea"),
        ("roadmap", "delete_focusarea"),
        ("roadmap", "add_need"),
        ("roadmap", "change_need"),
        ("roadmap", "delete_need"),
        ("roadmap", "add_nationalinitiative"),
        ("roadmap", "change_nationalinitiative"),
        ("roadmap", "delete_nationalinitiative"),
        ("roadmap", "add_cityaction"),
        ("roadmap", "change_cityaction"),
        ("roadmap", "delete_cityaction"),
        ("roadmap", "add_nextstep"),
        ("roadmap", "change_nextstep"),
        ("roadmap", "delete_nextstep"),
        *FOLLOWUP_READ,
        ("followup", "manage_periods"),
        ("followup", "add_reportingperiod"),
        ("followup", "change_reportingperiod"),
        ("followup", "add_status"),
        ("followup", "change_status"),
        ("followup", "request_reports"),
    },
    roles.APPROVER: {
        *ROADMAP_READ,
        ("roadmap", "change_revision"),
        ("roadmap", "approve_revision"),
        ("roadmap", "view_timehorizon"),
        ("roadmap", "view_organisation"),
        *FOLLOWUP_READ,
        ("followup", "request_annual_report"),
    },
    roles.REPORTER: {*ROADMAP_READ, ("followup", "report_status")},
    roles.READER: {*ROADMAP_READ, *FOLLOWUP_READ, ("followup", "request_annual_report")},
}


def test_the_collected_role_permissions_are_the_expected_ones():
    collected = roles.role_permissions()
    assert set(collected) == set(roles.ROLES)
    for role, perms in collected.items():
        assert set(perms) == EXPECTED[role], role
        assert len(perms) == len(set(perms)), role


@pytest.mark.django_db
def test_the_groups_have_exactly_the_expected_permissions(role_groups):
    assert set(role_groups) == set(EXPECTED)
    for role, group in role_groups.items():
        actual = set(group.permissions.values_list("content_type__app_label", "codename"))
        assert actual == EXPECTED[role], role


def test_each_app_gives_permissions_only_in_itself():
    from followup.permissions import ROLE_PERMISSIONS as FOLLOWUP
    from roadmap.permissions import ROLE_PERMISSIONS as ROADMAP

    assert {app for perms in ROADMAP.values() for app, _codename in perms} == {"roadmap"}
    assert {app for perms in FOLLOWUP.values() for app, _codename in perms} == {"followup"}


def test_a_permission_for_an_unknown_role_is_refused(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from roadmap import permissions

    monkeypatch.setitem(permissions.ROLE_PERMISSIONS, "Gäst", [("roadmap", "view_revision")])
    with pytest.raises(ImproperlyConfigured, match="Gäst"):
        roles.role_permissions()


@pytest.mark.django_db
def test_migrate_syncs_the_roles_once_after_the_last_app(monkeypatch):
    from django.apps import apps
    from django.core.management.sql import emit_post_migrate_signal
    from django.db.models.signals import post_migrate

    labels = [c.label for c in apps.get_app_configs() if c.models_module is not None]
    signalled = []  # the apps whose post_migrate has been handled, in order
    synced_after = []  # a snapshot of signalled at each sync

    def record(sender, app_config, **kwargs):
        signalled.append(app_config.label)

    monkeypatch.setattr(roles, "sync_roles", lambda: synced_after.append(list(signalled)))
    # Connected after accounts' handler, so it sees each app after that handler.
    post_migrate.connect(record, dispatch_uid="test_record_post_migrate")
    try:
        emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    finally:
        post_migrate.disconnect(dispatch_uid="test_record_post_migrate")
    assert signalled == labels
    # Once, on the last app's signal: every other app had its post_migrate.
    assert synced_after == [labels[:-1]]
    assert {"roadmap", "followup"} <= set(labels)
