"""The user and group admins of django.contrib.auth, with the project's
guards against bad input (fardplan.admin.SafeInputAdminMixin)."""

from django.contrib import admin
from django.contrib.auth import admin as auth_admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from fardplan.admin import SafeInputAdminMixin

User = get_user_model()

admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class UserAdmin(SafeInputAdminMixin, auth_admin.UserAdmin):
    pass


@admin.register(Group)
class GroupAdmin(SafeInputAdminMixin, auth_admin.GroupAdmin):
    pass
