"""Reads for the capstone submission page and the public certificate page (fixed query counts)."""

from __future__ import annotations

from dataclasses import dataclass

from curriculum.models import Capstone, ReviewMode

from ..models import (
    CapstoneSubmission,
    Certificate,
    Enrolment,
    PointsEntry,
    PointsKind,
    SubmissionStatus,
)

__all__ = [
    "CapstonePage",
    "capstone_page",
    "certificate_by_code",
    "certificate_capstones",
    "constraint_rows",
]

EDITABLE_STATUSES = (SubmissionStatus.DRAFT, SubmissionStatus.CHANGES_REQUESTED)


@dataclass
class CapstonePage:
    capstone: Capstone  # with .track and .module loaded
    enrolled: bool
    submission: CapstoneSubmission | None
    # What passing actually awarded (the ledger's word, even if the capstone was re-weighted since).
    points_awarded: int | None
    certificate: Certificate | None
    # For a learner who passed a peer capstone: other learners' submissions waiting for review.
    peer_waiting: int = 0

    @property
    def track(self):
        return self.capstone.track

    @property
    def removed(self) -> bool:
        """The capstone was removed from its track (archived, or its module was): its page
        shows the learner's work read-only."""
        return self.capstone.archived_at is not None

    @property
    def editable(self) -> bool:
        return (
            self.enrolled
            and not self.removed
            and (self.submission is None or self.submission.status in EDITABLE_STATUSES)
        )

    def constraint_rows(self) -> list[tuple[str, bool]]:
        return constraint_rows(submission=self.submission, capstone=self.capstone)


def constraint_rows(
    *, submission: CapstoneSubmission | None, capstone: Capstone
) -> list[tuple[str, bool]]:
    """(text, ticked) for each constraint to show with a submission. Work still being edited is
    measured against the capstone's constraints now (a reworded one shows unticked); submitted
    and passed work shows exactly the texts the learner vouched for, whatever changed since."""
    ticked = list(submission.constraints_met or []) if submission else []
    if submission is not None and submission.status not in EDITABLE_STATUSES:
        return [(text, True) for text in ticked]
    return [(text, text in ticked) for text in dict.fromkeys(capstone.constraints or [])]


def capstone_page(*, learner, track_slug: str, capstone_slug: str) -> CapstonePage | None:
    """Everything the page shows, in at most six queries; None for an unknown capstone or one
    of an archived track. A capstone removed from its track comes too (with `removed`): its
    page is its learners' own work to read, which `permissions.can_view_capstone` decides."""
    capstone = (
        Capstone.objects.select_related("track", "module")
        .filter(track__slug=track_slug, track__archived_at__isnull=True, slug=capstone_slug)
        .first()
    )
    if capstone is None:
        return None
    enrolled = Enrolment.objects.filter(
        learner=learner, track_id=capstone.track_id, left_at__isnull=True
    ).exists()
    submission = (
        CapstoneSubmission.objects.filter(learner=learner, capstone=capstone)
        .select_related("via_team_submission__learner__profile")  # passed through a teammate
        .first()
    )
    points_awarded = None
    if submission is not None and submission.status == SubmissionStatus.PASSED:
        points_awarded = (
            PointsEntry.objects.filter(
                learner=learner, source_key=f"capstone:{capstone.pk}", kind=PointsKind.AWARD
            )
            .order_by("-generation")
            .values_list("amount", flat=True)
            .first()
        )
    certificate = Certificate.objects.filter(learner=learner, track_id=capstone.track_id).first()
    peer_waiting = 0
    passed = submission is not None and submission.status == SubmissionStatus.PASSED
    if passed and capstone.review == ReviewMode.PEER and capstone.archived_at is None:
        peer_waiting = (
            CapstoneSubmission.objects.filter(capstone=capstone, status=SubmissionStatus.SUBMITTED)
            .exclude(learner=learner)
            .count()
        )
    return CapstonePage(capstone, enrolled, submission, points_awarded, certificate, peer_waiting)


def certificate_by_code(*, code: str) -> Certificate | None:
    """A certificate by its public code (one query, with the learner's profile for their time
    zone), or None."""
    return Certificate.objects.select_related("track", "learner__profile").filter(code=code).first()


def certificate_capstones(*, certificate: Certificate) -> list[CapstoneSubmission]:
    """The capstones of the certificate's track its learner passed, optional ones included
    (also those passed after it was issued), in track order: one query."""
    return list(
        CapstoneSubmission.objects.filter(
            learner_id=certificate.learner_id,
            track_id=certificate.track_id,
            status=SubmissionStatus.PASSED,
        )
        .select_related("capstone")
        .order_by("capstone__module__position", "capstone__position", "pk")
    )
