"""Roles are Django groups with model permissions, kept in sync after migrate.

Editor (redaktör) edits the roadmap in the admin; approver (godkännare) moves
revisions through their lifecycle; reporter (rapportör) reports for their own
organisation; reader (läsare) reads. Everyone with a role may read the roadmap.
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.db.models import Q

EDITOR = "Redaktör"
APPROVER = "Godkännare"
REPORTER = "Rapportör"
READER = "Läsare"
ROLES = (EDITOR, APPROVER, REPORTER, READER)

CONTENT_MODELS = ("focusarea", "need", "nationalinitiative", "cityaction", "nextstep")
READ = [("roadmap", f"view_{m}") for m in ("revision", *CONTENT_MODELS)]

FOLLOWUP_READ = [
    ("followup", "view_followup"),
    ("followup", "view_reportingperiod"),
    ("followup", "view_statusreport"),
    ("followup", "view_status"),
]

ROLE_PERMISSIONS: dict[str, list[tuple[str, str]]] = {
    EDITOR: [
        *READ,
        ("roadmap", "add_revision"),
        ("roadmap", "change_revision"),
        ("roadmap", "start_revision"),
        ("roadmap", "submit_revision"),
        ("roadmap", "view_timehorizon"),
        ("roadmap", "view_organisation"),
        *[
            ("roadmap", f"{action}_{m}")
            for m in CONTENT_MODELS
            for action in ("add", "change", "delete")
        ],
        *FOLLOWUP_READ,
        ("followup", "manage_periods"),
        ("followup", "add_reportingperiod"),
        ("followup", "change_reportingperiod"),
        ("followup", "add_status"),
        ("followup", "change_status"),
        ("followup", "request_reports"),
    ],
    APPROVER: [
        *READ,
        ("roadmap", "change_revision"),
        ("roadmap", "approve_revision"),
        ("roadmap", "view_timehorizon"),
        ("roadmap", "view_organisation"),
        *FOLLOWUP_READ,
    ],
    REPORTER: [*READ, ("followup", "report_status")],
    READER: [*READ, *FOLLOWUP_READ],
}

# Roles whose members work in the admin.
STAFF_ROLES = (EDITOR, APPROVER)


def sync_roles() -> None:
    """Create the role groups and give them exactly their permissions."""
    for config in global_apps.get_app_configs():
        if config.models_module is not None:
            create_permissions(config, verbosity=0)
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        query = Q(pk__in=[])
        for app_label, codename in perms:
            query |= Q(content_type__app_label=app_label, codename=codename)
        wanted = list(Permission.objects.filter(query))
        if len(wanted) != len(set(perms)):
            missing = set(perms) - {(p.content_type.app_label, p.codename) for p in wanted}
            raise RuntimeError(f"Permissions missing for role {role}: {sorted(missing)}")
        group.permissions.set(wanted)


def sync_roles_after_migrate(sender, app_config=None, **kwargs) -> None:
    # sync_roles() creates the permissions of every app itself, so running it
    # once, when this app's post_migrate arrives, is enough.
    if app_config is not None and app_config.label == "roadmap":
        sync_roles()
