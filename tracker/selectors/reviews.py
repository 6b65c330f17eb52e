"""Reads for the lead area: the review queue (lead and peer sections), one submission under
review with its audit trail, the lead home and a track's leads. Fixed query counts: every
list is one query for its rows (with what they show joined in) and one for its count."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from curriculum.models import ReviewMode, Track

from .. import permissions
from ..models import CapstoneReview, CapstoneSubmission, SubmissionStatus, TrackLead

__all__ = [
    "QUEUE_PAGE_SIZE",
    "QUEUE_STATUSES",
    "ReviewQueue",
    "review_queue",
    "submission_for_review",
    "review_history",
    "LeadTrackRow",
    "lead_home_tracks",
    "TrackLeadsPage",
    "track_leads_page",
    "peer_reviews_waiting",
]

QUEUE_PAGE_SIZE = 25
# What the status filter offers: (value, label, the statuses it shows). Drafts never show.
QUEUE_STATUSES = [
    ("waiting", "Waiting for review", [SubmissionStatus.SUBMITTED]),
    ("changes_requested", "Changes requested", [SubmissionStatus.CHANGES_REQUESTED]),
    ("passed", "Passed", [SubmissionStatus.PASSED]),
    (
        "all",
        "All",
        [SubmissionStatus.SUBMITTED, SubmissionStatus.CHANGES_REQUESTED, SubmissionStatus.PASSED],
    ),
]
_STATUS_FILTERS = {value: statuses for value, _label, statuses in QUEUE_STATUSES}


def _rows(queryset: QuerySet) -> QuerySet:
    """What a queue row shows: the learner's public name, the capstone, the track."""
    return queryset.select_related("learner__profile", "capstone", "track").order_by(
        "submitted_at", "pk"
    )


def _page(queryset: QuerySet, number) -> Page:
    return Paginator(queryset, QUEUE_PAGE_SIZE).get_page(number)


@dataclass
class ReviewQueue:
    status: str
    track: Track | None
    tracks: list[Track]  # what the track filter offers
    leads_any: bool  # has a lead section (a lead of some track, or staff)
    lead_page: Page | None
    peer_page: Page | None  # submissions waiting for a peer review this person may give

    @property
    def status_choices(self) -> list[tuple[str, str]]:
        return [(value, label) for value, label, _ in QUEUE_STATUSES]


def review_queue(*, user, status: str, track_id: int | None, page, peer_page) -> ReviewQueue:
    """The queue for `user`: the lead section (submissions to the tracks they lead, or every
    track for staff; filtered by status and track; oldest first) and the peer section (waiting
    submissions of other learners to the peer capstones they passed). An unknown filter value
    falls back to its default."""
    status = status if status in _STATUS_FILTERS else "waiting"
    staff = permissions.is_staff(user)
    led = permissions.led_track_ids(user)
    leads_any = staff or bool(led)
    tracks: list[Track] = []
    track = None
    lead_page = None
    if leads_any:
        offered = Track.objects.active() if staff else Track.objects.filter(pk__in=led)
        tracks = list(offered.only("id", "slug", "title").order_by("title"))
        track = next((t for t in tracks if t.pk == track_id), None)
        submissions = CapstoneSubmission.objects.filter(status__in=_STATUS_FILTERS[status])
        if track is not None:
            submissions = submissions.filter(track=track)
        elif not staff:
            submissions = submissions.filter(track_id__in=led)
        lead_page = _page(_rows(submissions), page)

    peer_section = None
    peer_ids = permissions.peer_capstone_ids(user)
    if peer_ids:
        waiting = CapstoneSubmission.objects.filter(
            capstone_id__in=peer_ids, status=SubmissionStatus.SUBMITTED
        ).exclude(learner=user)
        if not staff:  # a lead sees their own tracks' peer submissions in the lead section
            waiting = waiting.exclude(track_id__in=led)
        peer_section = _page(_rows(waiting), peer_page)
    return ReviewQueue(status, track, tracks, leads_any, lead_page, peer_section)


def submission_for_review(*, pk: int) -> CapstoneSubmission | None:
    """One submission with what the review page shows (learner, capstone, track) joined in."""
    return (
        CapstoneSubmission.objects.select_related(
            "learner__profile", "capstone__module", "track", "reviewer__profile"
        )
        .filter(pk=pk)
        .first()
    )


def review_history(*, submission: CapstoneSubmission) -> list[CapstoneReview]:
    """The submission's decisions, newest first (the audit trail)."""
    return list(
        CapstoneReview.objects.filter(submission=submission)
        .select_related("reviewer__profile")
        .order_by("-created_at", "-pk")
    )


def peer_reviews_waiting(*, user, capstone) -> int:
    """How many other learners' submissions to this peer capstone wait for review."""
    if capstone.review != ReviewMode.PEER:
        return 0
    return (
        CapstoneSubmission.objects.filter(capstone=capstone, status=SubmissionStatus.SUBMITTED)
        .exclude(learner=user)
        .count()
    )


@dataclass
class LeadTrackRow:
    track: Track
    waiting: int
    leads: int


def _count(queryset: QuerySet, column: str):
    """A correlated COUNT(*) subquery, 0 when there are no rows."""
    counted = queryset.values(column).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def lead_home_tracks(*, user) -> list[LeadTrackRow]:
    """The tracks this person leads (every active track for staff), each with how many
    submissions wait for review and how many leads it has: one query."""
    if permissions.is_staff(user):
        tracks = Track.objects.active()
    else:
        tracks = Track.objects.filter(pk__in=permissions.led_track_ids(user))
    tracks = tracks.annotate(
        waiting=_count(
            CapstoneSubmission.objects.filter(
                track=OuterRef("pk"), status=SubmissionStatus.SUBMITTED
            ),
            "track",
        ),
        lead_count=_count(
            TrackLead.objects.filter(track=OuterRef("pk"), revoked_at__isnull=True), "track"
        ),
    ).order_by("title")
    return [LeadTrackRow(track=t, waiting=t.waiting, leads=t.lead_count) for t in tracks]


@dataclass
class TrackLeadsPage:
    track: Track
    leads: list[TrackLead]  # active roles, with user and profile
    former: list[TrackLead] = field(default_factory=list)  # revoked roles, newest first
    waiting_emails: list[str] = field(default_factory=list)  # YAML addresses with no account


def track_leads_page(*, track: Track) -> TrackLeadsPage:
    """Who leads the track, who did, and which YAML addresses wait for an account."""
    roles = list(
        TrackLead.objects.filter(track=track)
        .select_related("user__profile", "granted_by", "revoked_by")
        .order_by("granted_at", "pk")
    )
    from ..services.roles import verified_users_by_email

    confirmed = verified_users_by_email(track.lead_emails) if track.lead_emails else {}
    return TrackLeadsPage(
        track=track,
        leads=[role for role in roles if role.revoked_at is None],
        former=sorted(
            (role for role in roles if role.revoked_at is not None),
            key=lambda role: role.revoked_at,
            reverse=True,
        ),
        waiting_emails=[email for email in track.lead_emails if email not in confirmed],
    )
