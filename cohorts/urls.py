"""Cohort pages. Paths are absolute here (the project includes this at its root) so the
invite links stay short: /join/<code>/. Slugs "new" and "join" are reserved by cohort_create.
Sub-actions are POST URLs under their page, named `cohorts:<page>_<action>`."""

from django.urls import path

from .views import dashboard, export, home, invites, join, manage, members, messages, teams

app_name = "cohorts"

urlpatterns: list = [
    # cohortadmin: management pages and the join flow
    path("cohorts/", manage.cohort_list, name="list"),
    path("cohorts/new/", manage.cohort_new, name="new"),
    path("cohorts/<slug:slug>/settings/", manage.cohort_settings, name="settings"),
    path("cohorts/<slug:slug>/settings/phases/", manage.settings_phases, name="settings_phases"),
    path(
        "cohorts/<slug:slug>/settings/pace-plan/", manage.settings_targets, name="settings_targets"
    ),
    path("cohorts/<slug:slug>/settings/archive/", manage.settings_archive, name="settings_archive"),
    path("cohorts/<slug:slug>/settings/restore/", manage.settings_restore, name="settings_restore"),
    path("cohorts/<slug:slug>/invites/", invites.cohort_invites, name="invites"),
    path(
        "cohorts/<slug:slug>/invites/<int:pk>/revoke/",
        invites.invites_revoke,
        name="invites_revoke",
    ),
    path("cohorts/<slug:slug>/members/", members.cohort_members, name="members"),
    path(
        "cohorts/<slug:slug>/members/<int:pk>/remove/",
        members.members_remove,
        name="members_remove",
    ),
    path(
        "cohorts/<slug:slug>/members/admins/add/",
        members.members_admin_add,
        name="members_admin_add",
    ),
    path(
        "cohorts/<slug:slug>/members/admins/<int:pk>/remove/",
        members.members_admin_remove,
        name="members_admin_remove",
    ),
    path("cohorts/<slug:slug>/teams/", teams.cohort_teams, name="teams"),
    path("cohorts/<slug:slug>/teams/<int:pk>/", teams.teams_update, name="teams_update"),
    path("cohorts/<slug:slug>/teams/<int:pk>/delete/", teams.teams_delete, name="teams_delete"),
    path(
        "cohorts/<slug:slug>/teams/<int:pk>/members/add/",
        teams.teams_member_add,
        name="teams_member_add",
    ),
    path(
        "cohorts/<slug:slug>/teams/<int:pk>/members/<int:user_id>/remove/",
        teams.teams_member_remove,
        name="teams_member_remove",
    ),
    path("join/", join.join_code, name="join_code"),
    path("join/<str:code>/", join.join, name="join"),
    # dashboard: the dashboard, the member page, the CSV export, messages
    path("cohorts/<slug:slug>/", dashboard.dashboard, name="dashboard"),
    path("cohorts/<slug:slug>/home/", home.home, name="home"),
    path("cohorts/<slug:slug>/members.csv", export.export, name="export"),
    path("cohorts/<slug:slug>/messages/", messages.messages, name="messages"),
]
