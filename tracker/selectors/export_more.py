"""The parts of a learner's export that other apps keep: their cohorts (role, dates, team) and
the emails Waymark sent them (weekly nudges, cohort messages). Three queries."""

from __future__ import annotations


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


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
