"""Everything Waymark keeps about a learner, for their own download (`/me/export.json`,
`/me/export.csv`): a fixed number of queries however much they did."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from ..models import (
    CapstoneSubmission,
    Certificate,
    Enrolment,
    PointsEntry,
    Profile,
    Progress,
    ResourceNote,
    SubmissionStatus,
)

__all__ = ["export_data", "export_progress_rows", "export_spreadsheet_rows"]


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _standing(*, learner, source: str) -> dict[int, int]:
    """What each of the learner's sources (`source`: "resource" or "capstone") stands at in the
    ledger, by id: one query."""
    column = f"{source}_id"
    return dict(
        PointsEntry.objects.filter(learner=learner, **{f"{source}__isnull": False})
        .order_by()
        .values(column)
        .annotate(total=Sum("amount"))
        .values_list(column, "total")
    )


def export_progress_rows(*, learner) -> list[dict]:
    """One dict per progress row of this learner (archived resources included), with the
    points that resource currently stands at in the ledger: two queries."""
    standing = _standing(learner=learner, source="resource")
    rows = (
        Progress.objects.filter(learner=learner)
        .select_related("track", "resource__module")
        .order_by("track__slug", "resource__module__position", "resource__position", "pk")
    )
    return [
        {
            "track": row.track.slug,
            "track_title": row.track.title,
            "module": row.resource.module.slug,
            "module_title": row.resource.module.title,
            "resource": row.resource.slug,
            "resource_title": row.resource.title,
            "status": row.status,
            "started_at": _iso(row.started_at),
            "completed_at": _iso(row.completed_at),
            "updated_at": _iso(row.updated_at),
            "points": standing.get(row.resource_id, 0),
            "archived": row.resource.archived_at is not None,
        }
        for row in rows
    ]


def export_spreadsheet_rows(*, learner) -> list[dict]:
    """The CSV's rows: every progress row, then every capstone the learner has a submission
    for, each with the points it stands at, so the points column adds up to the learner's
    total. Capstone rows fill the resource columns with the capstone (`kind` tells them
    apart): four queries."""
    standing = _standing(learner=learner, source="capstone")
    submissions = (
        CapstoneSubmission.objects.filter(learner=learner)
        .select_related("track", "capstone__module")
        .order_by("track__slug", "capstone__module__position", "capstone__position", "pk")
    )
    capstones = [
        {
            "kind": "capstone",
            "track": s.track.slug,
            "track_title": s.track.title,
            "module": s.capstone.module.slug,
            "module_title": s.capstone.module.title,
            "resource": s.capstone.slug,
            "resource_title": s.capstone.title,
            "status": s.status,
            "started_at": _iso(s.created_at),
            "completed_at": _iso(s.reviewed_at) if s.status == SubmissionStatus.PASSED else None,
            "updated_at": _iso(s.updated_at),
            "points": standing.pop(s.capstone_id, 0),
            "archived": s.capstone.archived_at is not None,
        }
        for s in submissions
    ]
    resources = [{"kind": "resource", **row} for row in export_progress_rows(learner=learner)]
    return resources + capstones


def export_data(*, learner, profile: Profile) -> dict:
    """Everything Waymark holds about the learner, as JSON-ready data (eleven queries)."""
    enrolments = (
        Enrolment.objects.filter(learner=learner)
        .select_related("track")
        .order_by("enrolled_at", "pk")
    )
    ledger = (
        PointsEntry.objects.filter(learner=learner)
        .select_related("resource__track", "capstone__track")
        .order_by("created_at", "pk")
    )
    notes = (
        ResourceNote.objects.filter(learner=learner)
        .select_related("resource__track")
        .order_by("pk")
    )
    submissions = (
        CapstoneSubmission.objects.filter(learner=learner)
        .select_related("capstone", "track")
        .order_by("pk")
    )
    certificates = (
        Certificate.objects.filter(learner=learner).select_related("track").order_by("issued_at")
    )
    return {
        "format": "waymark-export/1",
        "exported_at": timezone.now().isoformat(),
        "profile": {
            "email": learner.email,
            "username": learner.get_username(),
            "display_name": profile.display_name,
            "time_zone": profile.time_zone,
            "nudge_enabled": profile.nudge_enabled,
            "nudge_weekday": profile.nudge_weekday,
            "nudge_hour": profile.nudge_hour,
            "points_total": profile.points_total,
            "show_on_leaderboards": profile.show_on_leaderboards,
        },
        "enrolments": [
            {
                "track": e.track.slug,
                "track_title": e.track.title,
                "enrolled_at": _iso(e.enrolled_at),
                "left_at": _iso(e.left_at),
                "hours_per_week": str(e.hours_per_week) if e.hours_per_week is not None else None,
                "target_date": _iso(e.target_date),
            }
            for e in enrolments
        ],
        "progress": export_progress_rows(learner=learner),
        "points": [_ledger_row(entry) for entry in ledger],
        "notes": [
            {
                "track": n.resource.track.slug,
                "resource": n.resource.slug,
                "resource_title": n.resource.title,
                "body": n.body,
                "revisit": n.revisit,
                "updated_at": _iso(n.updated_at),
            }
            for n in notes
        ],
        "capstone_submissions": [
            {
                "track": s.track.slug,
                "capstone": s.capstone.slug,
                "capstone_title": s.capstone.title,
                "title": s.title,
                "link": s.link,
                "writeup": s.writeup,
                "constraints_met": s.constraints_met,
                "status": s.status,
                "submitted_at": _iso(s.submitted_at),
                "reviewed_at": _iso(s.reviewed_at),
                "reviewer_comments": s.reviewer_comments,
                "created_at": _iso(s.created_at),
                "updated_at": _iso(s.updated_at),
            }
            for s in submissions
        ],
        "certificates": [
            {
                "track": c.track.slug,
                "track_title": c.track_title,
                "learner_name": c.learner_name,
                "issued_at": _iso(c.issued_at),
                "summary": c.summary,
                "code": c.code,
                "url": f"{settings.SITE_URL}{c.get_absolute_url()}",
            }
            for c in certificates
        ],
        "cohorts": export_cohorts(learner=learner),
        "emails": export_emails(learner=learner),
    }


def _ledger_row(entry: PointsEntry) -> dict:
    source = entry.resource or entry.capstone
    return {
        "kind": entry.kind,
        "amount": entry.amount,
        "source": "resource" if entry.resource_id else "capstone",
        "track": source.track.slug,
        "item": source.slug,
        "item_title": source.title,
        "generation": entry.generation,
        "created_at": _iso(entry.created_at),
    }


# --- what other apps keep: cohorts and teams, the emails sent -----------------------------------


def export_cohorts(*, learner) -> list[dict]:
    from cohorts.models import CohortMembership, TeamMembership

    teams = {
        row.cohort_id: row.team
        for row in TeamMembership.objects.filter(user=learner).select_related("team")
    }
    memberships = (
        CohortMembership.objects.filter(user=learner)
        .select_related("cohort")
        .order_by("joined_at", "pk")
    )
    return [
        {
            "cohort": m.cohort.slug,
            "cohort_name": m.cohort.name,
            "role": m.role,
            "joined_at": _iso(m.joined_at),
            "removed_at": _iso(m.removed_at),
            "team": teams[m.cohort_id].name if m.cohort_id in teams else None,
            "team_project": teams[m.cohort_id].project_title if m.cohort_id in teams else None,
        }
        for m in memberships
    ]


def export_emails(*, learner) -> list[dict]:
    """Every weekly nudge and cohort message addressed to the learner, oldest first."""
    from cohorts.models import CohortMessageDelivery
    from nudges.models import NudgeDelivery

    nudges = [
        {
            "kind": "weekly nudge",
            "week": d.week,
            "status": d.status,
            "due_at": _iso(d.due_at),
            "sent_at": _iso(d.sent_at),
            "to": d.recipient,
            "note": d.reason,
            "created_at": _iso(d.created_at),
        }
        for d in NudgeDelivery.objects.filter(learner=learner).order_by("created_at", "pk")
    ]
    messages = [
        {
            "kind": "cohort message",
            "cohort": d.cohort.slug,
            "subject": d.cohort_message.subject,
            "body": d.cohort_message.body,
            "status": d.status,
            "sent_at": _iso(d.sent_at),
            "to": d.recipient,
            "note": d.reason,
            "created_at": _iso(d.created_at),
        }
        for d in CohortMessageDelivery.objects.filter(learner=learner)
        .select_related("cohort", "cohort_message")
        .order_by("created_at", "pk")
    ]
    return sorted(nudges + messages, key=lambda row: row["created_at"] or "")
