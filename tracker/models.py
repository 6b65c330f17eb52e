"""Learner-side state: profiles, enrolments, progress, the points ledger, notes, capstone
submissions and certificates. Written only through `tracker.services`.

Rules that must never break live in the database as constraints: one progress row per
learner and resource, one award (and one reversal) per source and generation, one submission
per learner and capstone, one certificate per learner and track.

A foreign key whose column leads a composite index or unique constraint has no index of its
own (`db_index=False`): the composite serves every lookup by that column, and each extra index
is one more write per click and, on the learner's progress, a plan PostgreSQL preferred to the
(learner, track) index (docs/performance.md). `tests/tracker/test_indexes.py` holds the rule.
"""

from __future__ import annotations

import functools
import secrets
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse

from curriculum.models import Capstone, Resource, Track


@functools.cache
def _time_zones() -> dict[str, str]:
    """{lowercased name: name} of the places' time zones: the system's IANA database without
    its aliases for the machine itself ("localtime", "Factory", "posixrules") and the
    "posix/" and "right/" copies."""
    return {
        name.lower(): name
        for name in zoneinfo.available_timezones()
        if name not in {"Factory", "localtime", "posixrules"}
        and not name.startswith(("posix/", "right/"))
    }


def time_zone_named(value: str) -> str | None:
    """The time zone `value` names, spelled as the database spells it ("europe/berlin" is
    Europe/Berlin), or None when it names none."""
    return _time_zones().get((value or "").strip().lower())


def validate_time_zone(value: str) -> None:
    if time_zone_named(value) != value:
        raise ValidationError(f"'{value}' is not a known time zone (for example Europe/Berlin).")


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


ANONYMOUS_LEARNER_NAME = "A Waymark learner"


class Profile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    display_name = models.CharField(max_length=100, blank=True)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    nudge_enabled = models.BooleanField("Weekly nudge email", default=True)
    nudge_weekday = models.PositiveSmallIntegerField(
        choices=Weekday.choices, default=Weekday.MONDAY
    )
    nudge_hour = models.PositiveSmallIntegerField(
        default=9,
        validators=[MinValueValidator(0), MaxValueValidator(23)],
        help_text="Hour of day, 0-23, in your time zone.",
    )
    # Kept in step with the ledger by tracker.services (the ledger's sum is the truth).
    points_total = models.IntegerField(default=0)
    # Cohort leaderboards show this person by name only while this is on.
    show_on_leaderboards = models.BooleanField(
        "Show my name on cohort leaderboards",
        default=True,
        help_text="When off, cohort leaderboards list you as an anonymous member.",
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(nudge_weekday__lte=6), name="profile_nudge_weekday_range"
            ),
            models.CheckConstraint(
                condition=Q(nudge_hour__lte=23), name="profile_nudge_hour_range"
            ),
            models.CheckConstraint(
                condition=Q(points_total__gte=0), name="profile_points_total_nonnegative"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        """The name shown to others (certificates are public): never the email address."""
        return self.display_name or self.user.get_full_name() or ANONYMOUS_LEARNER_NAME


def public_name(user) -> str:
    """The name others see for this person (on certificates, in the review queue): never
    their email address. Reads `user.profile` (select it with the user to avoid a query)."""
    try:
        return user.profile.name
    except Profile.DoesNotExist:
        return user.get_full_name() or ANONYMOUS_LEARNER_NAME


class Enrolment(models.Model):
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="enrolments",
        db_index=False,
    )
    track = models.ForeignKey(
        Track, on_delete=models.PROTECT, related_name="enrolments", db_index=False
    )
    enrolled_at = models.DateTimeField()
    # Leaving keeps the row (and all progress); enrolling again clears it.
    left_at = models.DateTimeField(null=True, blank=True)
    # Pace plan: what the learner means to spend, and optionally when they want to finish.
    hours_per_week = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0.5), MaxValueValidator(80)],
    )
    target_date = models.DateField(null=True, blank=True)
    # The learner's figures for this track, kept in step by the progress and capstone services
    # in the same transaction as each change (and by the loader when the curriculum changes
    # what is required), so cohort dashboards never aggregate progress rows. The ledger and
    # progress rows are the truth: `manage.py repair_totals` recomputes these from them.
    done_units = models.PositiveIntegerField(default=0)
    required_units = models.PositiveIntegerField(default=0)
    modules_done = models.PositiveIntegerField(default=0)
    points = models.IntegerField(default=0)
    last_activity_at = models.DateTimeField(null=True, blank=True)
    # Units done per active module that has any, by the same rule ({"<module id>": units}):
    # the cohort heat map reads a page of these rows rather than its members' progress.
    module_units = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["learner", "track"], name="enrolment_unique_per_learner_track"
            ),
            models.CheckConstraint(
                condition=Q(done_units__lte=models.F("required_units")),
                name="enrolment_done_within_required",
            ),
            models.CheckConstraint(condition=Q(points__gte=0), name="enrolment_points_nonnegative"),
            models.CheckConstraint(
                condition=Q(hours_per_week__isnull=True)
                | Q(hours_per_week__gte=0.5, hours_per_week__lte=80),
                name="enrolment_hours_per_week_range",
            ),
        ]
        indexes = [
            models.Index(fields=["learner", "left_at"]),
            models.Index(fields=["track", "left_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.learner} in {self.track}"

    @property
    def active(self) -> bool:
        return self.left_at is None


class ProgressStatus(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    SKIPPED = "skipped", "Skipped"


class Progress(models.Model):
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="progress", db_index=False
    )
    # PROTECT: curriculum rows are archived, never deleted; a delete would take progress with it.
    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="progress")
    # Denormalised from the resource so per-track reads need no join.
    track = models.ForeignKey(Track, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=20, choices=ProgressStatus.choices, default=ProgressStatus.NOT_STARTED
    )
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "progress"
        constraints = [
            models.UniqueConstraint(
                fields=["learner", "resource"], name="progress_unique_per_learner_resource"
            ),
            models.CheckConstraint(
                condition=Q(status__in=ProgressStatus.values), name="progress_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status=ProgressStatus.DONE) | Q(completed_at__isnull=False),
                name="progress_done_has_completed_at",
            ),
        ]
        indexes = [
            models.Index(fields=["learner", "track"]),
            models.Index(fields=["learner", "completed_at"]),
            models.Index(fields=["learner", "updated_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.learner} · {self.resource} · {self.status}"


class WeeklyCompletions(models.Model):
    """How many resources a learner completed on a track in one ISO week (UTC, named by its
    Monday). Kept in step by the progress service in the same transaction as each change (done
    adds one to the week of `completed_at`; leaving done takes one from it), so a cohort's
    weekly chart sums a few rows per member instead of aggregating their progress rows.
    `tracker.services.weekly.weekly_completions_rebuild` recomputes it from progress."""

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    track = models.ForeignKey(Track, on_delete=models.PROTECT, related_name="+", db_index=False)
    week = models.DateField()
    completions = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = "weekly completions"
        constraints = [
            models.UniqueConstraint(
                fields=["learner", "track", "week"], name="weekly_completions_unique"
            ),
        ]
        indexes = [models.Index(fields=["track", "week"], name="weekly_completions_track_week")]

    def __str__(self) -> str:
        return f"{self.learner_id} · {self.track_id} · week of {self.week}: {self.completions}"


class PointsKind(models.TextChoices):
    AWARD = "award", "Award"
    REVERSAL = "reversal", "Reversal"


class PointsEntry(models.Model):
    """One row per award or reversal. A source (a resource or capstone) is awarded at most once
    per generation and reversed at most once per generation; moving back to done opens the next
    generation. The unique constraint makes a double click or two tabs award once."""

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="points_entries",
        db_index=False,
    )
    kind = models.CharField(max_length=10, choices=PointsKind.choices)
    amount = models.IntegerField()
    resource = models.ForeignKey(
        Resource, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    capstone = models.ForeignKey(
        Capstone, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # "resource:<pk>" or "capstone:<pk>": one column for the uniqueness rule.
    source_key = models.CharField(max_length=40)
    generation = models.PositiveIntegerField()
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name_plural = "points entries"
        constraints = [
            models.UniqueConstraint(
                fields=["learner", "source_key", "generation", "kind"],
                name="points_once_per_source_generation",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=PointsKind.values), name="points_kind_valid"
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind=PointsKind.AWARD, amount__gte=0)
                    | Q(kind=PointsKind.REVERSAL, amount__lte=0)
                ),
                name="points_sign_matches_kind",
            ),
            models.CheckConstraint(
                condition=(
                    Q(resource__isnull=False, capstone__isnull=True)
                    | Q(resource__isnull=True, capstone__isnull=False)
                ),
                name="points_exactly_one_source",
            ),
        ]
        indexes = [models.Index(fields=["learner", "created_at"])]

    def __str__(self) -> str:
        return f"{self.learner} {self.amount:+d} ({self.source_key})"


class ResourceNote(models.Model):
    """A learner's private Markdown note on a resource, and their "revisit later" flag."""

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notes", db_index=False
    )
    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="learner_notes")
    body = models.TextField(blank=True, max_length=20_000)
    body_html = models.TextField(blank=True, editable=False)
    revisit = models.BooleanField(default=False)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["learner", "resource"], name="note_unique_per_learner_resource"
            ),
        ]
        indexes = [models.Index(fields=["learner", "revisit"])]

    def __str__(self) -> str:
        return f"Note by {self.learner} on {self.resource}"


class SubmissionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    PASSED = "passed", "Passed"


class CapstoneSubmission(models.Model):
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="capstone_submissions",
        db_index=False,
    )
    capstone = models.ForeignKey(
        Capstone, on_delete=models.PROTECT, related_name="submissions", db_index=False
    )
    track = models.ForeignKey(Track, on_delete=models.PROTECT, related_name="+", db_index=False)
    title = models.CharField(max_length=200)
    link = models.URLField(max_length=1000, blank=True)
    writeup = models.TextField(blank=True, max_length=50_000)
    writeup_html = models.TextField(blank=True, editable=False)
    # A snapshot of the wording, not indexes: editing the curriculum's constraints later must
    # not rewrite what a learner vouched for when they submitted.
    constraints_met = models.JSONField(
        default=list,
        blank=True,
        help_text="The texts of the constraints the learner ticked, as worded when they saved.",
    )
    status = models.CharField(
        max_length=20, choices=SubmissionStatus.choices, default=SubmissionStatus.DRAFT
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="capstone_reviews",
    )
    reviewer_comments = models.TextField(blank=True)
    reviewer_comments_html = models.TextField(blank=True, editable=False)
    # A team capstone passed for this learner through a teammate's submission (that one).
    via_team_submission = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="team_passes",
        help_text="The teammate's passed submission this one counts through (team capstones).",
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["learner", "capstone"], name="submission_unique_per_learner_capstone"
            ),
            models.CheckConstraint(
                condition=Q(status__in=SubmissionStatus.values), name="submission_status_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["learner", "track"]),
            models.Index(fields=["status"]),
            # The review queue: a track's (or a capstone's) submissions by status, oldest first.
            models.Index(fields=["track", "status", "submitted_at"]),
            models.Index(fields=["capstone", "status", "submitted_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.get_status_display()})"


def new_certificate_code() -> str:
    return secrets.token_urlsafe(18)


class Certificate(models.Model):
    code = models.CharField(
        max_length=40, unique=True, default=new_certificate_code, editable=False
    )
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="certificates",
        db_index=False,
    )
    track = models.ForeignKey(Track, on_delete=models.PROTECT, related_name="certificates")
    # Snapshots: the certificate states what was true when it was issued.
    learner_name = models.CharField(max_length=200)
    track_title = models.CharField(max_length=200)
    summary = models.JSONField(default=dict)
    issued_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["learner", "track"], name="certificate_unique_per_learner_track"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.track_title} · {self.learner_name}"

    def get_absolute_url(self) -> str:
        return reverse("certificate", kwargs={"code": self.code})


# --- roles ------------------------------------------------------------------------------------


class LeadSource(models.TextChoices):
    STAFF = "staff", "Granted by staff"
    YAML = "yaml", "Listed in the track's YAML"


class TrackLead(models.Model):
    """A person's lead role on one track. Written only by `tracker.services.roles`.

    A revoked role keeps its row (`revoked_at`), so who granted and revoked what stays on
    record, and so a revocation by staff sticks even while the track's YAML still lists the
    email (the next load does not grant it back; staff may)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="track_leads",
        db_index=False,
    )
    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="leads", db_index=False)
    source = models.CharField(max_length=10, choices=LeadSource.choices)
    granted_at = models.DateTimeField()
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Empty when the track's YAML granted it.",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Empty when the email left the track's YAML.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "track"], name="track_lead_unique"),
            models.CheckConstraint(
                condition=Q(source__in=LeadSource.values), name="track_lead_source_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["track", "revoked_at"]),
            models.Index(fields=["user", "revoked_at"]),
        ]

    def __str__(self) -> str:
        state = "revoked" if self.revoked_at else "lead"
        return f"{self.user} · {self.track} ({state})"

    @property
    def active(self) -> bool:
        return self.revoked_at is None


# --- review audit -----------------------------------------------------------------------------


class ReviewVia(models.TextChoices):
    REVIEW_PAGE = "review_page", "Review page"
    ADMIN = "admin", "Admin"
    ADMIN_BULK = "admin_bulk", "Admin bulk action"
    SELF = "self", "Self-review on submit"
    # A learner who joined a team after its submission passed: the same decision, carried over.
    TEAM = "team", "Joined a team that had passed"


class CapstoneReview(models.Model):
    """One decision on a capstone submission, appended by `tracker.services.capstones` in the
    transaction that makes it: the audit trail of who passed or sent back what, when, and
    from which screen. Never changed or deleted."""

    submission = models.ForeignKey(
        CapstoneSubmission, on_delete=models.CASCADE, related_name="reviews", db_index=False
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Empty for a self-review (the learner vouched for their own work).",
    )
    # Snapshot: the record still says who decided if the account is deleted later.
    reviewer_email = models.CharField(max_length=254, blank=True)
    decision = models.CharField(max_length=20, choices=SubmissionStatus.choices)
    comments = models.TextField(blank=True)
    comments_html = models.TextField(blank=True, editable=False)
    via = models.CharField(max_length=20, choices=ReviewVia.choices)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    decision__in=[SubmissionStatus.PASSED, SubmissionStatus.CHANGES_REQUESTED]
                ),
                name="capstone_review_decision_valid",
            ),
            models.CheckConstraint(
                condition=Q(via__in=ReviewVia.values), name="capstone_review_via_valid"
            ),
        ]
        indexes = [models.Index(fields=["submission", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} · {self.submission} · {self.created_at:%Y-%m-%d}"
