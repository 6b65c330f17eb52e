"""Curriculum: tracks made of modules, which hold resources and capstone briefs.

Rows are written only by the YAML loader (`curriculum.loader`) and the curriculum services.
Identity is the slug path: (track slug) and (track, item slug). Items removed from a file are
archived (``archived_at`` set), never deleted, so whatever points at them (progress, points)
survives, and a reappearing item gets its old row back.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from simple_history.models import HistoricalRecords


class Level(models.TextChoices):
    BEGINNER = "beginner", "Beginner"
    INTERMEDIATE = "intermediate", "Intermediate"
    ADVANCED = "advanced", "Advanced"


class ResourceKind(models.TextChoices):
    VIDEO = "video", "Video"
    COURSE = "course", "Course"
    CHAPTER = "chapter", "Chapter"
    ARTICLE = "article", "Article"
    PAPER = "paper", "Paper"
    BOOK = "book", "Book"
    NOTEBOOK = "notebook", "Notebook"
    EXERCISE = "exercise", "Exercise"
    TALK = "talk", "Talk"
    QUIZ = "quiz", "Quiz"
    OTHER = "other", "Other"
    # Another track of the curriculum: done when the learner completes that track.
    TRACK = "track", "Track"


class ReviewMode(models.TextChoices):
    LEAD = "lead", "Track lead"
    PEER = "peer", "Peer"
    SELF = "self", "Self"


# Points for a resource without `points` or `minutes` in its YAML (docs/curriculum-format.md).
DEFAULT_POINTS_BY_KIND: dict[str, int] = {
    ResourceKind.VIDEO: 15,
    ResourceKind.COURSE: 120,
    ResourceKind.CHAPTER: 30,
    ResourceKind.ARTICLE: 10,
    ResourceKind.PAPER: 45,
    ResourceKind.BOOK: 240,
    ResourceKind.NOTEBOOK: 30,
    ResourceKind.EXERCISE: 30,
    ResourceKind.TALK: 30,
    ResourceKind.QUIZ: 10,
    ResourceKind.OTHER: 10,
    ResourceKind.TRACK: 120,
}
DEFAULT_CAPSTONE_POINTS = 100
MAX_MINUTES = 10_000
# As high as `minutes` goes, so a resource worth its minutes is never clipped.
MAX_POINTS = MAX_MINUTES
MAX_WEEKS = 520
MAX_DAYS = MAX_WEEKS * 7


def resource_points(*, kind: str, minutes: int | None, points: int | None) -> int:
    """The points a resource is worth: explicit `points`, else its `minutes`, else by kind."""
    if points is not None:
        return points
    if minutes is not None:
        return minutes
    return DEFAULT_POINTS_BY_KIND[kind]


def pacing_hint_label(*, weeks: int, days: int | None) -> str:
    """A module's pacing hint as learners read it: "2 weeks", "1 day", "Under a week"."""
    if days is not None:
        if days == 0:
            return "Less than a day"
        return f"{days} day{'' if days == 1 else 's'}"
    if weeks == 0:
        return "Under a week"
    return f"{weeks} week{'' if weeks == 1 else 's'}"


class ChangeHow(models.TextChoices):
    """How a curriculum change was made: each history record says it (`history_change_reason`)."""

    BROWSER = "browser edit", "Browser edit"
    UPLOAD = "YAML upload", "YAML upload"
    LOAD = "load_curriculum", "load_curriculum"
    ADMIN = "admin", "Admin"


class RequiresSnapshot(models.Model):
    """Base of the historical rows of tracks and modules: their `requires` (slugs, sorted) as
    the loader path wrote them; None for a change saved outside it (the admin, factories)."""

    requires_slugs = models.JSONField(null=True, blank=True)

    class Meta:
        abstract = True


def _history(*excluded: str, requires: bool = False) -> HistoricalRecords:
    """Every change to a curriculum row is kept (django-simple-history): who, when, how, and a
    snapshot of the fields people write. Derived HTML and bookkeeping are left out."""
    return HistoricalRecords(
        excluded_fields=list(excluded),
        bases=[RequiresSnapshot] if requires else [models.Model],
        cascade_delete_history=False,
    )


class ActiveQuerySet(models.QuerySet):
    def active(self):
        return self.filter(archived_at__isnull=True)


class Track(models.Model):
    slug = models.SlugField(max_length=100, unique=True)
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    summary_html = models.TextField(blank=True, editable=False)
    # What learners should know or have before starting (Markdown); `requires` names tracks.
    prerequisites = models.TextField(blank=True)
    prerequisites_html = models.TextField(blank=True, editable=False)
    level = models.CharField(max_length=20, choices=Level.choices, default=Level.BEGINNER)
    tags = models.JSONField(default=list, blank=True)
    # `leads:` in the YAML: emails whose (verified) accounts lead the track. The roles
    # themselves live in tracker.TrackLead, kept in step by tracker.services.roles.
    lead_emails = models.JSONField(default=list, blank=True)
    # `source:` in the YAML: the write-up the track follows ({"title", and optionally "author",
    # "published" as an ISO date, "url"}); {} when it follows none. Items it does not name are
    # marked `filled_in`.
    source = models.JSONField(default=dict, blank=True)
    requires = models.ManyToManyField(
        "self", symmetrical=False, related_name="required_by", blank=True
    )
    source_path = models.CharField(
        max_length=500, blank=True, help_text="File it was last loaded from."
    )
    archived_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Moved forward in the database by every write that changes what the track's cached
    # structure holds (curriculum.structure.structure_changed); never written from memory.
    structure_version = models.PositiveIntegerField(default=1, editable=False)
    # When a file (load_curriculum or an upload) last wrote the track or found it equal to the
    # file, and when it was last edited in the browser: a later browser edit means the YAML in
    # git is behind (docs/track-leads.md).
    file_loaded_at = models.DateTimeField(null=True, blank=True, editable=False)
    browser_edited_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ActiveQuerySet.as_manager()
    history = _history(
        "summary_html",
        "prerequisites_html",
        "source_path",
        "created_at",
        "updated_at",
        "structure_version",
        "file_loaded_at",
        "browser_edited_at",
        requires=True,
    )

    class Meta:
        ordering = ["title"]
        constraints = [
            models.CheckConstraint(condition=Q(level__in=Level.values), name="track_level_valid"),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs):
        """Save every field but `structure_version`: an instance read before a change would
        otherwise write its older version back, and a cached structure of that version would
        be taken for current (the version only moves forward, in the database)."""
        if not self._state.adding and self.pk is not None:
            fields = kwargs.get("update_fields")
            if fields is None:  # every loaded field, as Django would save
                deferred = self.get_deferred_fields()
                fields = [
                    f.name
                    for f in self._meta.concrete_fields
                    if not f.primary_key and f.attname not in deferred
                ]
            kwargs["update_fields"] = [name for name in fields if name != "structure_version"]
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("curriculum:track_detail", kwargs={"slug": self.slug})

    @property
    def browser_ahead_of_file(self) -> bool:
        """Edited in the browser since a file last wrote (or matched) it: the YAML in git is
        behind until someone downloads the track and commits it."""
        if self.browser_edited_at is None:
            return False
        return self.file_loaded_at is None or self.browser_edited_at > self.file_loaded_at


class Module(models.Model):
    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="modules")
    slug = models.SlugField(max_length=100)
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    summary_html = models.TextField(blank=True, editable=False)
    position = models.PositiveIntegerField(default=0)
    # The pacing hint: `weeks`, or `days` for shorter modules (then `weeks` is 0).
    weeks = models.PositiveSmallIntegerField(default=1)
    days = models.PositiveSmallIntegerField(null=True, blank=True)
    # Choice groups that need more than one member done: {group: how many}. Absent means 1.
    choices_required = models.JSONField(default=dict, blank=True)
    requires = models.ManyToManyField(
        "self", symmetrical=False, related_name="required_by", blank=True
    )
    archived_at = models.DateTimeField(null=True, blank=True)

    objects = ActiveQuerySet.as_manager()
    history = _history("summary_html", requires=True)

    class Meta:
        ordering = ["track", "position"]
        constraints = [
            models.UniqueConstraint(fields=["track", "slug"], name="module_slug_unique_in_track"),
            models.CheckConstraint(
                condition=Q(days__isnull=True) | Q(weeks=0, days__lte=MAX_DAYS),
                name="module_days_or_weeks",
            ),
        ]
        indexes = [models.Index(fields=["track", "position"])]

    def __str__(self) -> str:
        return f"{self.track.slug}/{self.slug}"

    @property
    def hint_days(self) -> int:
        """The pacing hint in days, whichever unit the curriculum gave it in."""
        return self.days if self.days is not None else self.weeks * 7

    @property
    def hint_label(self) -> str:
        return pacing_hint_label(weeks=self.weeks, days=self.days)

    def required_in_group(self, choice: str) -> int:
        """How many members of the choice group must be done (1 unless the module says)."""
        return (self.choices_required or {}).get(choice, 1)


class Resource(models.Model):
    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="resources")
    module = models.ForeignKey(Module, on_delete=models.CASCADE, related_name="resources")
    slug = models.SlugField(max_length=100)
    title = models.CharField(max_length=300)
    kind = models.CharField(max_length=20, choices=ResourceKind.choices)
    url = models.URLField(max_length=1000, blank=True)
    minutes = models.PositiveIntegerField(null=True, blank=True)
    points_override = models.PositiveIntegerField(
        null=True, blank=True, help_text="`points` as written in the YAML, if it was."
    )
    points = models.PositiveIntegerField(help_text="What finishing it is worth (derived at load).")
    optional = models.BooleanField(default=False)
    # Not named by the track's source: chosen by its editors to fill a gap (shown as such).
    filled_in = models.BooleanField(default=False)
    choice = models.SlugField(max_length=100, blank=True)
    # For kind "track": the track whose completion makes this resource done.
    linked_track = models.ForeignKey(
        Track,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="linked_from",
        help_text="For a resource of kind track: the track that completes it.",
    )
    notes = models.TextField(blank=True)
    notes_html = models.TextField(blank=True, editable=False)
    position = models.PositiveIntegerField(default=0)
    # Set by the loader when title, url or notes change, so learners who finished it can see.
    content_changed_at = models.DateTimeField(null=True, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)

    objects = ActiveQuerySet.as_manager()
    history = _history("notes_html", "content_changed_at")

    class Meta:
        ordering = ["module__position", "position"]
        constraints = [
            models.UniqueConstraint(fields=["track", "slug"], name="resource_slug_unique_in_track"),
            models.CheckConstraint(
                condition=Q(kind__in=ResourceKind.values), name="resource_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(minutes__lte=MAX_MINUTES), name="resource_minutes_range"
            ),
            models.CheckConstraint(
                condition=Q(points__lte=MAX_POINTS), name="resource_points_range"
            ),
            models.CheckConstraint(
                condition=Q(points_override__lte=MAX_POINTS), name="resource_points_override_range"
            ),
            models.CheckConstraint(
                condition=Q(kind=ResourceKind.TRACK, linked_track__isnull=False)
                | (~Q(kind=ResourceKind.TRACK) & Q(linked_track__isnull=True)),
                name="resource_linked_track_iff_kind_track",
            ),
        ]
        indexes = [models.Index(fields=["module", "position"])]

    def __str__(self) -> str:
        return f"{self.track.slug}/{self.slug}" if "track" in self.__dict__ else self.slug

    @property
    def required(self) -> bool:
        """Counts towards completion on its own (not optional, not one of a choice group)."""
        return not self.optional and not self.choice

    @property
    def is_track(self) -> bool:
        """Done by completing another track, not by the learner's click."""
        return self.kind == ResourceKind.TRACK


class Capstone(models.Model):
    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="capstones")
    module = models.ForeignKey(Module, on_delete=models.CASCADE, related_name="capstones")
    slug = models.SlugField(max_length=100)
    title = models.CharField(max_length=300)
    brief = models.TextField()
    brief_html = models.TextField(blank=True, editable=False)
    constraints = models.JSONField(default=list, blank=True)
    # The work's estimate: counted in time left and pace plans while not passed (none: listed
    # there as open work without an estimate). Points do not follow it, unlike a resource's.
    minutes = models.PositiveIntegerField(null=True, blank=True)
    points = models.PositiveIntegerField(default=DEFAULT_CAPSTONE_POINTS)
    review = models.CharField(max_length=10, choices=ReviewMode.choices, default=ReviewMode.LEAD)
    # Never blocks completion; still awards its points and shows on the certificate if passed.
    # A team capstone: one passed submission by any member of a cohort team counts for every
    # member of that team (each gets the points once, and their certificate when it completes
    # their track).
    team = models.BooleanField(default=False)
    optional = models.BooleanField(default=False)
    filled_in = models.BooleanField(default=False)  # as a resource's
    position = models.PositiveIntegerField(default=0)
    archived_at = models.DateTimeField(null=True, blank=True)

    objects = ActiveQuerySet.as_manager()
    history = _history("brief_html")

    class Meta:
        ordering = ["module__position", "position"]
        constraints = [
            models.UniqueConstraint(fields=["track", "slug"], name="capstone_slug_unique_in_track"),
            models.CheckConstraint(
                condition=Q(points__lte=MAX_POINTS), name="capstone_points_range"
            ),
            models.CheckConstraint(
                condition=Q(minutes__lte=MAX_MINUTES), name="capstone_minutes_range"
            ),
            models.CheckConstraint(
                condition=Q(review__in=ReviewMode.values), name="capstone_review_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class UploadStatus(models.TextChoices):
    PENDING = "pending", "Waiting for apply or cancel"
    APPLIED = "applied", "Applied"
    CANCELLED = "cancelled", "Cancelled"


class TrackUpload(models.Model):
    """A YAML file a lead uploaded for a track: previewed, then applied or cancelled. Kept in
    the database (not in a web process) so any process can preview and apply it."""

    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="uploads")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    filename = models.CharField(max_length=255)
    text = models.TextField()
    status = models.CharField(
        max_length=10, choices=UploadStatus.choices, default=UploadStatus.PENDING
    )
    created_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=UploadStatus.values), name="track_upload_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.filename} for {self.track_id}"
