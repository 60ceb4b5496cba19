from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class FollowupConfig(AppConfig):
    name = "followup"
    verbose_name = _("Follow-up")

    def ready(self) -> None:
        from . import locks

        # The database gate: (re)installs the triggers after every migrate.
        post_migrate.connect(locks.install, sender=self, dispatch_uid="followup_locks")
