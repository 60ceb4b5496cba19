from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_login_failed

        from . import roles, security

        post_migrate.connect(roles.sync_roles_after_migrate, dispatch_uid="accounts_sync_roles")
        user_login_failed.connect(security.log_login_failed, dispatch_uid="accounts_login_failed")
        user_logged_in.connect(security.log_logged_in, dispatch_uid="accounts_logged_in")
