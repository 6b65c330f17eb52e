from django.contrib import admin

from . import services
from .models import Capstone, Module, Resource, Track


class CurriculumAdmin(admin.ModelAdmin):
    """Saves go through the curriculum service so Markdown and points stay derived."""

    def save_model(self, request, obj, form, change):
        services.curriculum_item_save(item=obj)


@admin.register(Track)
class TrackAdmin(CurriculumAdmin):
    list_display = ["title", "slug", "level", "archived_at", "updated_at"]
    list_filter = ["level", "archived_at"]
    search_fields = ["title", "slug"]
    filter_horizontal = ["requires"]
    readonly_fields = [
        "summary_html",
        "prerequisites_html",
        "source_path",
        "created_at",
        "updated_at",
    ]


@admin.register(Module)
class ModuleAdmin(CurriculumAdmin):
    list_display = ["title", "slug", "track", "position", "weeks", "days", "archived_at"]
    list_filter = ["track"]
    list_select_related = ["track"]
    search_fields = ["title", "slug"]
    filter_horizontal = ["requires"]
    readonly_fields = ["summary_html"]


@admin.register(Resource)
class ResourceAdmin(CurriculumAdmin):
    list_display = [
        "title",
        "slug",
        "kind",
        "module",
        "minutes",
        "points",
        "optional",
        "choice",
        "archived_at",
    ]
    list_filter = ["kind", "optional", "track"]
    list_select_related = ["module__track", "track"]
    search_fields = ["title", "slug", "url"]
    readonly_fields = ["points", "notes_html", "content_changed_at"]
    raw_id_fields = ["module", "linked_track"]


@admin.register(Capstone)
class CapstoneAdmin(CurriculumAdmin):
    list_display = [
        "title",
        "slug",
        "track",
        "module",
        "points",
        "review",
        "optional",
        "archived_at",
    ]
    list_filter = ["review", "optional", "track"]
    list_select_related = ["module__track", "track"]
    search_fields = ["title", "slug"]
    readonly_fields = ["brief_html"]
    raw_id_fields = ["module"]
