from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from .curation import services as curation
from .models import Capstone, Module, Resource, Track

_KINDS = {Module: "modules", Resource: "resources", Capstone: "capstones"}


class CurriculumAdmin(admin.ModelAdmin):
    """The curriculum, to look up and to archive or restore (through the curation services,
    recorded as made in the admin). Edits are the track editor's and the YAML's, which check
    them as the loader does (no self-links, cycles or items moved across tracks) and keep the
    file in step; the admin's forms could do none of that, so here every row is read-only,
    with a link to its editor. Rows are never deleted (progress, notes, submissions and
    points hang on them)."""

    actions = ["archive_selected", "restore_selected"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_readonly_fields(self, request, obj=None):
        return ["edit_in_the_editor", *super().get_readonly_fields(request, obj)]

    @admin.display(description="Edit")
    def edit_in_the_editor(self, obj) -> str:
        track = obj if isinstance(obj, Track) else obj.track
        url = reverse("curation:outline", kwargs={"slug": track.slug})
        return format_html('<a href="{}">Edit {} in the track editor</a>', url, track.title)

    def get_actions(self, request):
        # Archive and restore stay: they go through the services, which check them.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description="Archive the selected items (learners keep their progress)")
    def archive_selected(self, request, queryset):
        self._each(request, queryset, curation.curation_item_archive, "archived")

    @admin.action(description="Restore the selected archived items")
    def restore_selected(self, request, queryset):
        self._each(request, queryset, curation.curation_item_restore, "restored")

    def _each(self, request, queryset, act, verb: str) -> None:
        done = 0
        for row in queryset.select_related("track") if self.model is not Track else queryset:
            try:
                if self.model is Track:
                    message = curation.track_set_archived(
                        user=request.user, track=row, archived=verb == "archived"
                    )
                else:
                    message = act(
                        user=request.user, track=row.track, kind=_KINDS[self.model], slug=row.slug
                    )
            except (curation.EditInvalid, services_errors()) as error:
                self.message_user(request, f"{row}: {error}", messages.ERROR)
            else:
                done += 1
                self.message_user(request, message, messages.SUCCESS)
        if not done:
            self.message_user(request, f"Nothing was {verb}.", messages.WARNING)


def services_errors():
    from tracker.services import ServiceError

    return ServiceError


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
