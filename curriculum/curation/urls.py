"""Curation, mounted under /tracks/ next to the track page (namespace "curation")."""

from django.urls import path, register_converter

from . import views


class ItemKind:
    """modules, resources or capstones."""

    regex = "modules|resources|capstones"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ItemKind, "itemkind")

app_name = "curation"
urlpatterns = [
    path("<slug:slug>/edit/", views.outline, name="outline"),
    path("<slug:slug>/edit/track/", views.edit_track, name="edit_track"),
    path("<slug:slug>/edit/add/<itemkind:kind>/", views.add_item, name="add_item"),
    path("<slug:slug>/edit/<itemkind:kind>/<slug:item>/", views.edit_item, name="edit_item"),
    path(
        "<slug:slug>/edit/<itemkind:kind>/<slug:item>/archive",
        views.archive_item,
        name="archive_item",
    ),
    path(
        "<slug:slug>/edit/<itemkind:kind>/<slug:item>/restore",
        views.restore_item,
        name="restore_item",
    ),
    path("<slug:slug>/edit/<itemkind:kind>/<slug:item>/move", views.move_item, name="move_item"),
    path("<slug:slug>/edit/upload/", views.upload, name="upload"),
    path("<slug:slug>/edit/upload/<int:pk>/", views.upload_preview, name="upload_preview"),
    path("<slug:slug>/edit/download.yaml", views.download, name="download"),
    path("<slug:slug>/history/", views.history, name="history"),
]
