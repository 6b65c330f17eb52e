"""Cohort pages. Paths are absolute here (the project includes this at its root) so the
invite links stay short: /join/<code>/. Slugs "new" and "join" are reserved by cohort_create."""

from django.urls import path  # noqa: F401

app_name = "cohorts"

urlpatterns: list = [
    # cohortadmin: cohorts/ (list), cohorts/new/, cohorts/<slug>/settings/, .../invites/,
    #   .../members/, .../teams/, join/, join/<code>/
    # dashboard: cohorts/<slug>/ (dashboard), .../members.csv, .../messages/, .../home/ (member)
]
