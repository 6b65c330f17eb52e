"""Learner URLs. Pages under /me/ are the learner's own; track-scoped actions live under
/tracks/<slug>/ (see tracker.track_urls), certificates under /certificates/."""

from django.urls import path

from .views import account, dashboard, history, notes

app_name = "tracker"
urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("revisit/", notes.revisit, name="revisit"),
    path("notes/", notes.all_notes, name="notes"),
    path("notes.md", notes.notes_markdown_download, name="notes_markdown"),
    path("progress/", history.progress_history, name="progress_history"),
    path("profile/", account.profile, name="profile"),
    path("export.json", history.export_json, name="export_json"),
    path("export.csv", history.export_csv, name="export_csv"),
]
