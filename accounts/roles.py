"""Roles are Django groups with model permissions, kept in sync after migrate.

Editor (redaktör) edits the roadmap in the admin; approver (godkännare) moves
revisions through their lifecycle; reporter (rapportör) reports for their own
organisation; reader (läsare) reads. Everyone with a role may read the roadmap.

This module owns the roles; it knows no app's permissions. Each installed app
that gives the roles permissions has a ``permissions`` module with a
``ROLE_PERMISSIONS`` dict, ``{role: [(app_label, codename), ...]}``, and
:func:`role_permissions` joins them.
"""

from importlib import import_module

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q
from django.utils.module_loading import module_has_submodule

EDITOR = "Redaktör"
APPROVER = "Godkännare"
REPORTER = "Rapportör"
READER = "Läsare"
ROLES = (EDITOR, APPROVER, REPORTER, READER)

# Roles whose members work in the admin.
STAFF_ROLES = (EDITOR, APPROVER)

# The module, in each app, that says what the roles may do in that app.
PERMISSIONS_MODULE = "permissions"

Permissions = list[tuple[str, str]]


def role_permissions() -> dict[str, Permissions]:
    """Every role's permissions, collected from the installed apps."""
    collected: dict[str, Permissions] = {role: [] for role in ROLES}
    for config in global_apps.get_app_configs():
        if not module_has_submodule(config.module, PERMISSIONS_MODULE):
            continue
        module = import_module(f"{config.name}.{PERMISSIONS_MODULE}")
        contributed = getattr(module, "ROLE_PERMISSIONS", None)
        if contributed is None:
            continue
        for role, perms in contributed.items():
            if role not in collected:
                raise ImproperlyConfigured(
                    f"{module.__name__} gives permissions to {role!r}, not a role."
                )
            collected[role].extend(perms)
    return collected


def __getattr__(name: str):
    # ROLE_PERMISSIONS reads like the constant it used to be, but is collected
    # when asked for: the apps are not loaded when this module is imported.
    if name == "ROLE_PERMISSIONS":
        return role_permissions()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def sync_roles() -> None:
    """Create the role groups and give them exactly their permissions."""
    for config in global_apps.get_app_configs():
        if config.models_module is not None:
            create_permissions(config, verbosity=0)
    for role, perms in role_permissions().items():
        group, _ = Group.objects.get_or_create(name=role)
        query = Q(pk__in=[])
        for app_label, codename in perms:
            query |= Q(content_type__app_label=app_label, codename=codename)
        wanted = list(Permission.objects.filter(query))
        if len(wanted) != len(set(perms)):
            missing = set(perms) - {(p.content_type.app_label, p.codename) for p in wanted}
            raise RuntimeError(f"Permissions missing for role {role}: {sorted(missing)}")
        group.permissions.set(wanted)


def _last_migrated_app_label() -> str | None:
    # migrate (and flush) send post_migrate once per app with a models module,
    # in INSTALLED_APPS order; the last of them comes after every other app's
    # permissions exist.
    labels = [c.label for c in global_apps.get_app_configs() if c.models_module is not None]
    return labels[-1] if labels else None


def sync_roles_after_migrate(sender, app_config=None, **kwargs) -> None:
    if app_config is not None and app_config.label == _last_migrated_app_label():
        sync_roles()
