"""The admin's account and site pages, hardened: what staff could change there and break.

- The one Site (SITE_ID) that sign-up, log-in and every email use can be renamed, but not
  deleted (which took log-in down for everyone, staff included) nor joined by another.
- An account's email address is read-only: it changes on the account's own email page, where
  the new address is confirmed and must be unique. Typed in here, it could give two accounts one
  address, and one learner's weekly nudge would go to another's inbox.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.sites.admin import SiteAdmin as DjangoSiteAdmin
from django.contrib.sites.models import Site

admin.site.unregister(Site)
admin.site.unregister(get_user_model())


@admin.register(Site)
class SiteAdmin(DjangoSiteAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(get_user_model())
class UserAdmin(DjangoUserAdmin):
    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "email"] if obj is not None else fields
