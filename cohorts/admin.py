"""Admin for cohorts: readable lists for staff. Cohorts are written only by `cohorts.services`
(the cohort pages are where they are run), so these admins are read-only; the two writes staff
may need here (revoke invites, remove members) are actions that call the services.

Every changelist names its related rows in list_select_related, so a page of rows costs the
same number of queries however many rows there are."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count, Q

from tracker.admin import ReadOnlyAdmin

from . import services
from .models import Cohort, CohortInvite, CohortMembership, CohortRole, Team


def _run(modeladmin, request, rows, action, done: str) -> None:
    changed, refused = 0, []
    for row in rows:
        try:
            action(row)
        except services.ServiceError as error:
            refused.append(str(error))
        else:
            changed += 1
    if changed:
        modeladmin.message_user(request, done.format(count=changed), messages.SUCCESS)
    for message in refused:
        modeladmin.message_user(request, message, messages.ERROR)


@admin.register(Cohort)
class CohortAdmin(ReadOnlyAdmin):
    list_display = ["name", "slug", "starts_on", "ends_on", "member_count", "archived_at"]
    list_filter = ["archived_at"]
    search_fields = ["name", "slug"]
    date_hierarchy = "starts_on"

    def get_queryset(self, request):
        active = Q(memberships__role=CohortRole.MEMBER, memberships__removed_at__isnull=True)
        return super().get_queryset(request).annotate(members=Count("memberships", filter=active))

    @admin.display(description="Members", ordering="members")
    def member_count(self, obj) -> int:
        return obj.members


@admin.register(CohortMembership)
class CohortMembershipAdmin(ReadOnlyAdmin):
    list_display = ["user", "cohort", "role", "joined_at", "invite", "removed_at"]
    list_filter = ["role", "removed_at"]
    list_select_related = ["user", "cohort", "invite"]
    search_fields = ["user__email", "user__username", "cohort__name", "cohort__slug"]
    raw_id_fields = ["user", "cohort", "invite", "added_by", "removed_by"]
    actions = ["remove_selected"]

    @admin.action(description="Remove the selected members from their cohorts (progress stays)")
    def remove_selected(self, request, queryset):
        rows = queryset.filter(role=CohortRole.MEMBER, removed_at__isnull=True).select_related(
            "cohort", "user"
        )
        _run(
            self,
            request,
            rows,
            lambda m: services.member_remove(by=request.user, membership=m),
            "{count} member(s) removed.",
        )


@admin.register(CohortInvite)
class CohortInviteAdmin(ReadOnlyAdmin):
    list_display = ["code", "cohort", "created_at", "expires_at", "use_count", "max_uses"]
    list_display += ["revoked_at"]
    list_filter = ["revoked_at"]
    list_select_related = ["cohort"]
    search_fields = ["code", "cohort__name", "cohort__slug"]
    raw_id_fields = ["cohort", "created_by", "revoked_by"]
    actions = ["revoke_selected"]

    @admin.action(description="Revoke the selected invites")
    def revoke_selected(self, request, queryset):
        rows = queryset.filter(revoked_at__isnull=True).select_related("cohort")
        _run(
            self,
            request,
            rows,
            lambda invite: services.invite_revoke(by=request.user, invite=invite),
            "{count} invite(s) revoked.",
        )


@admin.register(Team)
class TeamAdmin(ReadOnlyAdmin):
    list_display = ["name", "cohort", "project_title", "member_count", "created_at"]
    list_select_related = ["cohort"]
    search_fields = ["name", "project_title", "cohort__name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(members=Count("team_memberships"))

    @admin.display(description="Members", ordering="members")
    def member_count(self, obj) -> int:
        return obj.members
