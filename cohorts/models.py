"""Cohorts: a group of learners run through one or more tracks over fixed dates by cohort
admins, with named phases, a pace plan (a target week per module), invite links, teams for the
project phase, and messages to members. Written only through `cohorts.services`.

Per-member figures the dashboard shows (done and required units, complete modules, points, last
activity) are not here: they live on each `tracker.Enrolment`, kept in step by the progress and
capstone services, so a cohort of thousands is read without aggregating progress rows.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from curriculum.models import Module, Track
from nudges.models import OutboundEmail

NAME_MAX = 120
MESSAGE_SUBJECT_MAX = 150
MESSAGE_BODY_MAX = 5_000
TARGET_WEEK_MAX = 520  # ten years of weeks


def new_invite_code() -> str:
    # 12 characters from a 32-letter alphabet without look-alikes: typed from a slide, unguessable.
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(12))


class Cohort(models.Model):
    slug = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=NAME_MAX)
    description = models.TextField(blank=True, max_length=5_000)
    description_html = models.TextField(blank=True, editable=False)
    starts_on = models.DateField()
    ends_on = models.DateField()
    tracks = models.ManyToManyField(Track, through="CohortTrack", related_name="cohorts")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-starts_on", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="cohort_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("cohorts:dashboard", args=[self.slug])


class CohortTrack(models.Model):
    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="cohort_tracks")
    track = models.ForeignKey(Track, on_delete=models.PROTECT, related_name="cohort_links")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cohort", "track"], name="cohort_track_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.track} in {self.cohort}"


class CohortPhase(models.Model):
    """A named stretch of the cohort's dates ("Learning phase", "Project phase")."""

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="phases")
    name = models.CharField(max_length=NAME_MAX)
    starts_on = models.DateField()
    ends_on = models.DateField()
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["starts_on", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cohort", "name"], name="cohort_phase_name_unique"),
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")),
                name="cohort_phase_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.starts_on} to {self.ends_on})"


class CohortModuleTarget(models.Model):
    """The cohort pace plan: by the end of which cohort week (1 = the week the cohort starts)
    members should have completed a module. Defaults come from the modules' `weeks`/`days`."""

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="module_targets")
    module = models.ForeignKey(Module, on_delete=models.PROTECT, related_name="cohort_targets")
    target_week = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cohort", "module"], name="cohort_target_unique"),
            models.CheckConstraint(
                condition=Q(target_week__gte=1, target_week__lte=TARGET_WEEK_MAX),
                name="cohort_target_week_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.module} by week {self.target_week}"


class CohortRole(models.TextChoices):
    MEMBER = "member", "Member"
    ADMIN = "admin", "Cohort admin"


class CohortMembership(models.Model):
    """A person's place in a cohort: a member (a learner run through its tracks) or an admin.
    Removal keeps the row (and all the person's progress); joining again clears it."""

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cohort_memberships"
    )
    role = models.CharField(max_length=10, choices=CohortRole.choices, default=CohortRole.MEMBER)
    joined_at = models.DateTimeField()
    invite = models.ForeignKey(
        "CohortInvite", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cohort", "user"], name="cohort_membership_unique"),
        ]
        indexes = [
            models.Index(fields=["cohort", "role", "removed_at"]),
            models.Index(fields=["user", "removed_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.cohort} ({self.role})"

    @property
    def active(self) -> bool:
        return self.removed_at is None


class CohortInvite(models.Model):
    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="invites")
    code = models.CharField(max_length=20, unique=True, default=new_invite_code)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    max_uses = models.PositiveIntegerField(null=True, blank=True)
    use_count = models.PositiveIntegerField(default=0)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_uses__isnull=True) | Q(max_uses__gte=1),
                name="cohort_invite_max_uses_positive",
            ),
            models.CheckConstraint(
                condition=Q(max_uses__isnull=True) | Q(use_count__lte=models.F("max_uses")),
                name="cohort_invite_uses_within_max",
            ),
        ]

    def __str__(self) -> str:
        return f"Invite {self.code} to {self.cohort}"

    def get_absolute_url(self) -> str:
        return reverse("cohorts:join", args=[self.code])

    @property
    def display_code(self) -> str:
        """The code as people read it off a slide and type it: groups of four (K7QM-2XPA-9RTW);
        /join/ takes it with or without the hyphens."""
        return "-".join(self.code[i : i + 4] for i in range(0, len(self.code), 4))


class Team(models.Model):
    """A project team of cohort members (they may come from different tracks)."""

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(max_length=NAME_MAX)
    project_title = models.CharField(max_length=200, blank=True)
    project_link = models.URLField(max_length=1000, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cohort", "name"], name="team_name_unique_in_cohort"),
        ]

    def __str__(self) -> str:
        return self.name


class TeamMembership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="team_memberships")
    # Denormalised from the team so the database keeps a member to one team per cohort.
    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="team_memberships"
    )
    added_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["cohort", "user"], name="team_one_per_member_per_cohort"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.team}"


class CohortMessage(models.Model):
    """A message an admin sent to selected members: the log on the cohort."""

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="messages")
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    subject = models.CharField(max_length=MESSAGE_SUBJECT_MAX)
    body = models.TextField(max_length=MESSAGE_BODY_MAX)
    created_at = models.DateTimeField()
    # How many were selected, and how many were left out by the once-a-day limit.
    selected_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.subject} ({self.cohort})"


class CohortMessageDelivery(OutboundEmail):
    """One member's copy of a cohort message, sent by the nudges' exactly-once outbox."""

    # Not `message`: OutboundEmail's `message_id` is the email's Message-ID header.
    cohort_message = models.ForeignKey(
        CohortMessage, on_delete=models.CASCADE, related_name="deliveries"
    )
    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="+")
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cohort_message_deliveries"
    )
    # The day it was sent for, where the member lives (their profile's time zone): a member
    # gets at most one cohort message a day per cohort.
    day = models.DateField()

    class Meta(OutboundEmail.Meta):
        verbose_name = "cohort message delivery"
        verbose_name_plural = "cohort message deliveries"
        constraints = [
            *OutboundEmail.Meta.constraints,
            models.UniqueConstraint(
                fields=["cohort", "learner", "day"], name="cohort_message_once_a_day"
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"Message {self.cohort_message_id} to learner {self.learner_id}: {self.status}"
