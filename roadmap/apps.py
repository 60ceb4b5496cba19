from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class RoadmapConfig(AppConfig):
    name = "roadmap"
    verbose_name = _("Roadmap")

    def ready(self) -> None:
        from . import roles, signals  # noqa: F401  (connects the guards)

        post_migrate.connect(roles.sync_roles_after_migrate, dispatch_uid="roadmap_sync_roles")
