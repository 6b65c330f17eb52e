"""Admin for nudges: the delivery rows are read-only (the log page is the place to look), and
staff clear a bounced address's flag with an action that goes through the service."""

from __future__ import annotations

from django.contrib import admin, messages

from tracker.admin import ReadOnlyAdmin, learner_column

from . import services
from .models import BouncedAddress, NudgeDelivery


@admin.register(NudgeDelivery)
class NudgeDeliveryAdmin(ReadOnlyAdmin):
    list_display = [learner_column, "week", "status", "reason", "attempts", "sent_at", "updated_at"]
    list_filter = ["status", "week"]
    list_select_related = ["learner"]
    search_fields = ["learner__email", "message_id"]
    ordering = ["-updated_at", "-id"]


@admin.register(BouncedAddress)
class BouncedAddressAdmin(ReadOnlyAdmin):
    list_display = ["email", "code", "error", "flagged_at"]
    search_fields = ["email"]
    ordering = ["-flagged_at"]
    actions = ["clear_flags"]

    @admin.action(description="Clear the flag: send to these addresses again")
    def clear_flags(self, request, queryset):
        cleared = sum(services.address_unflag(email=row.email) for row in queryset)
        self.message_user(request, f"Cleared {cleared} address flag(s).", messages.SUCCESS)
