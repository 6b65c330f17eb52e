"""Admin for learner state. Learner state is written only by `tracker.services`, so these
admins are read-only, except that staff review capstone submissions (the decision and comments
on a submission's page, or the "Pass" action, go through `services.capstone_review`, which
checks `permissions.can_review_submission` and appends the audit record) and grant and revoke
track lead roles (through `services.track_lead_grant` / `track_lead_revoke`).

Every changelist names its related rows in list_select_related, so a page of rows costs the
same number of queries however many rows there are."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from ops.forms import StrictInputForm

from . import selectors, services
from .forms_capstones import CapstoneReviewForm
from .models import (
    CapstoneReview,
    CapstoneSubmission,
    Certificate,
    Enrolment,
    PointsEntry,
    Profile,
    Progress,
    ResourceNote,
    ReviewVia,
    SubmissionStatus,
    TrackLead,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Staff may look, not touch: changes to learner state belong to the services."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.display(description="Learner", ordering="learner__email")
def learner_column(obj) -> str:
    return obj.learner.email or obj.learner.get_username()


@admin.register(Profile)
class ProfileAdmin(ReadOnlyAdmin):
    list_display = [
        "user",
        "display_name",
        "time_zone",
        "nudge_enabled",
        "nudge_weekday",
        "nudge_hour",
        "points_total",
    ]
    list_filter = ["nudge_enabled", "nudge_weekday"]
    list_select_related = ["user"]
    search_fields = ["user__email", "user__username", "display_name"]
    raw_id_fields = ["user"]


@admin.register(Enrolment)
class EnrolmentAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        learner_column,
        "track",
        "enrolled_at",
        "left_at",
        "hours_per_week",
        "target_date",
    ]
    list_filter = ["track", ("left_at", admin.EmptyFieldListFilter)]
    list_select_related = ["learner", "track"]
    search_fields = ["learner__email", "learner__username", "track__title", "track__slug"]
    raw_id_fields = ["learner", "track"]


@admin.register(Progress)
class ProgressAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        learner_column,
        "resource_column",
        "track",
        "status",
        "completed_at",
        "updated_at",
    ]
    list_filter = ["status", "track"]
    list_select_related = ["learner", "resource", "track"]
    search_fields = ["learner__email", "learner__username", "resource__title", "resource__slug"]
    raw_id_fields = ["learner", "resource", "track"]

    @admin.display(description="Resource", ordering="resource__title")
    def resource_column(self, obj) -> str:
        return obj.resource.title


@admin.register(PointsEntry)
class PointsEntryAdmin(ReadOnlyAdmin):
    """The ledger is append-only: no add, change or delete, here or anywhere."""

    list_display = [
        "id",
        learner_column,
        "kind",
        "amount",
        "source_key",
        "generation",
        "created_at",
    ]
    list_filter = ["kind"]
    list_select_related = ["learner"]
    search_fields = ["learner__email", "learner__username", "source_key"]
    raw_id_fields = ["learner", "resource", "capstone"]
    ordering = ["-created_at", "-id"]


@admin.register(ResourceNote)
class ResourceNoteAdmin(ReadOnlyAdmin):
    """Notes are promised to be visible to their writer only: staff see that a note or a
    revisit flag exists, never what it says (no body here, and no search on it)."""

    list_display = ["id", learner_column, "resource_column", "revisit", "updated_at"]
    list_filter = ["revisit"]
    list_select_related = ["learner", "resource"]
    search_fields = ["learner__email", "learner__username", "resource__title"]
    raw_id_fields = ["learner", "resource"]
    exclude = ["body", "body_html"]

    @admin.display(description="Resource", ordering="resource__title")
    def resource_column(self, obj) -> str:
        return obj.resource.title


@admin.register(Certificate)
class CertificateAdmin(ReadOnlyAdmin):
    list_display = ["learner_name", "track_title", learner_column, "issued_at", "public_page"]
    list_filter = ["track"]
    list_select_related = ["learner"]
    search_fields = ["learner_name", "track_title", "learner__email", "code"]
    raw_id_fields = ["learner", "track"]
    readonly_fields = ["code"]

    @admin.display(description="Public page")
    def public_page(self, obj) -> str:
        return format_html('<a href="{}">{}</a>', obj.get_absolute_url(), "View")


SUBMISSION_FIELDS = [
    "learner",
    "capstone",
    "track",
    "status",
    "title",
    "link_column",
    "constraints_column",
    "writeup_column",
    "submitted_at",
]
LAST_REVIEW_FIELDS = ["reviewed_at", "reviewer", "comments_column", "created_at", "updated_at"]


@admin.register(CapstoneSubmission)
class CapstoneSubmissionAdmin(admin.ModelAdmin):
    form = CapstoneReviewForm
    list_display = [
        "title_column",
        learner_column,
        "capstone_column",
        "track",
        "status",
        "submitted_at",
        "reviewed_at",
        "reviewer",
    ]
    list_filter = ["status", "capstone__review", "track"]
    list_select_related = ["learner", "capstone", "track", "reviewer"]
    search_fields = ["title", "learner__email", "learner__username", "capstone__title"]
    ordering = ["-submitted_at", "-id"]
    actions = ["pass_selected"]
    # Everything but the review form is read-only: staff review, learners write.
    readonly_fields = [*SUBMISSION_FIELDS, *LAST_REVIEW_FIELDS, "review_history_column"]
    fieldsets = [
        ("Submission", {"fields": SUBMISSION_FIELDS}),
        (
            "Review",
            {
                "fields": ["decision", "review_comments"],
                "description": (
                    "Pass it, or request changes with comments. The learner is emailed either way."
                ),
            },
        ),
        ("Last review", {"fields": LAST_REVIEW_FIELDS}),
        ("Review history (audit trail)", {"fields": ["review_history_column"]}),
    ]

    def has_add_permission(self, request):
        return False  # learners create submissions

    def has_delete_permission(self, request, obj=None):
        return False  # a passed submission backs points in the ledger

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(*self.list_select_related)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        return type(form_class.__name__, (form_class,), {"reviewer": request.user})

    def save_model(self, request, obj, form, change):
        decision = form.cleaned_data.get("decision")
        if not decision:
            return  # nothing else here is editable
        try:
            services.capstone_review(
                reviewer=request.user,
                submission=obj,
                decision=decision,
                comments=form.cleaned_data.get("review_comments", ""),
                via=ReviewVia.ADMIN,
            )
            obj.refresh_from_db()  # the admin's message names the object with its new status
        except services.ServiceError as exc:  # e.g. another reviewer got there first
            request.waymark_review_refused = True
            messages.error(request, str(exc))

    def message_user(self, request, message, level=messages.INFO, *args, **kwargs):
        # A refused review changed nothing: no "changed successfully" next to the error.
        if level == messages.SUCCESS and getattr(request, "waymark_review_refused", False):
            return
        super().message_user(request, message, level, *args, **kwargs)

    @admin.action(description="Pass selected submitted submissions (awards points once)")
    def pass_selected(self, request, queryset):
        passed, refused = 0, []
        skipped = queryset.exclude(status=SubmissionStatus.SUBMITTED).count()
        for submission in queryset.filter(status=SubmissionStatus.SUBMITTED):
            try:
                services.capstone_review(
                    reviewer=request.user,
                    submission=submission,
                    decision=SubmissionStatus.PASSED,
                    comments="",
                    via=ReviewVia.ADMIN_BULK,
                )
                passed += 1
            except services.ServiceError as exc:
                refused.append(f"{submission.title}: {exc}")
        if passed:
            self.message_user(
                request,
                f"Passed {passed} submission{'s' if passed != 1 else ''}.",
                messages.SUCCESS,
            )
        if skipped:
            self.message_user(
                request, f"Skipped {skipped} not waiting for review.", messages.WARNING
            )
        for message in refused:
            self.message_user(request, message, messages.ERROR)

    @admin.display(description="Title", ordering="title")
    def title_column(self, obj) -> str:
        return obj.title or "(untitled draft)"

    @admin.display(description="Capstone", ordering="capstone__title")
    def capstone_column(self, obj) -> str:
        return obj.capstone.title

    @admin.display(description="Link")
    def link_column(self, obj) -> str:
        if not obj.link:
            return "—"
        return format_html(
            '<a href="{}" rel="noopener noreferrer nofollow" target="_blank">{}</a>',
            obj.link,
            obj.link,
        )

    @admin.display(description="Constraints")
    def constraints_column(self, obj) -> str:
        # Submitted and passed work shows what the learner vouched for, not today's wording.
        rows = [
            ("✓ met" if met else "✗ not ticked", text)
            for text, met in selectors.constraint_rows(submission=obj, capstone=obj.capstone)
        ]
        if not rows:
            return "None for this capstone"
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}: {}</li>", rows))

    @admin.display(description="Write-up")
    def writeup_column(self, obj) -> str:
        # writeup_html was rendered and sanitized (nh3) when it was saved.
        return mark_safe(obj.writeup_html) if obj.writeup_html else "—"  # noqa: S308

    @admin.display(description="Decisions, newest first")
    def review_history_column(self, obj) -> str:
        reviews = selectors.review_history(submission=obj)
        if not reviews:
            return "No decision yet"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    review.created_at.strftime("%Y-%m-%d %H:%M UTC"),
                    review.get_decision_display(),
                    review.reviewer_email or "the learner (self-review)",
                    review.get_via_display(),
                    mark_safe(review.comments_html) if review.comments_html else "—",  # noqa: S308
                )
                for review in reviews
            ),
        )
        return format_html(
            "<table><thead><tr><th>When</th><th>Decision</th><th>Who</th><th>Screen</th>"
            "<th>Comments</th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )

    @admin.display(description="Reviewer comments")
    def comments_column(self, obj) -> str:
        return mark_safe(obj.reviewer_comments_html) if obj.reviewer_comments_html else "—"  # noqa: S308


@admin.register(CapstoneReview)
class CapstoneReviewAdmin(ReadOnlyAdmin):
    """Every pass and send-back, from the review page, the admin or a bulk action."""

    list_display = ["created_at", "decision", "submission", "reviewer_email", "via"]
    list_filter = ["decision", "via", "submission__track"]
    list_select_related = ["submission"]
    search_fields = ["reviewer_email", "submission__title", "submission__learner__email"]
    raw_id_fields = ["submission", "reviewer"]
    ordering = ["-created_at", "-id"]


class TrackLeadForm(StrictInputForm, forms.ModelForm):
    class Meta:
        model = TrackLead
        fields = ["user", "track"]

    def clean(self):
        cleaned = super().clean()
        # Granting a revoked role again reuses its row (the service decides what changes).
        user, track = cleaned.get("user"), cleaned.get("track")
        existing = (
            TrackLead.objects.filter(user=user, track=track).first() if user and track else None
        )
        if existing is not None:
            self.instance = existing
        return cleaned


@admin.register(TrackLead)
class TrackLeadAdmin(admin.ModelAdmin):
    """Grant a role with "Add"; revoke with the action. Rows are never deleted: a revoked
    role stays as the record of who granted and revoked it."""

    list_display = ["user", "track", "source", "granted_at", "granted_by", "revoked_at"]
    list_filter = ["track", "source", ("revoked_at", admin.EmptyFieldListFilter)]
    list_select_related = ["user", "track", "granted_by"]
    search_fields = ["user__email", "track__title", "track__slug"]
    raw_id_fields = ["user"]
    form = TrackLeadForm
    actions = ["revoke_selected"]

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return ["user", "track"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        try:
            lead = services.track_lead_grant(
                track=obj.track, user=obj.user, granted_by=request.user
            )
            obj.pk = lead.pk  # the admin's log entry and message name the saved row
        except services.ServiceError as exc:
            request.waymark_grant_refused = True
            messages.error(request, str(exc))

    def message_user(self, request, message, level=messages.INFO, *args, **kwargs):
        if level == messages.SUCCESS and getattr(request, "waymark_grant_refused", False):
            return
        super().message_user(request, message, level, *args, **kwargs)

    def response_add(self, request, obj, post_url_continue=None):
        # The service saved (or reused) the row: the list is where it shows.
        return self.response_post_save_add(request, obj)

    @admin.action(description="Revoke the selected lead roles")
    def revoke_selected(self, request, queryset):
        revoked = 0
        for lead in queryset.filter(revoked_at__isnull=True).select_related("user", "track"):
            try:
                services.track_lead_revoke(
                    track=lead.track, user=lead.user, revoked_by=request.user
                )
                revoked += 1
            except services.ServiceError as exc:
                self.message_user(request, str(exc), messages.ERROR)
        self.message_user(request, f"Revoked {revoked} lead role{'s' if revoked != 1 else ''}.")
