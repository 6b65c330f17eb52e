"""Messages from a cohort's admins to its members, sent through the nudges' outbox (claim,
send, mark: exactly once) and mailer (deterministic Message-ID).

`cohort_message_send` records the message and one delivery row per selected member in one
transaction; the unique (cohort, learner, day) constraint is the once-a-day limit, so members
already messaged today (by anyone, through this cohort) are skipped and counted. "Today" is the
member's own day, in their profile's time zone, as for their pages and weekly nudge. Nothing
is published from the request: beat's minutely sweep (`cohorts.send_waiting`, from
`cohort_messages_waiting`) hands each message with waiting rows to a worker, so a message sent
while the broker is down goes out once it is back. `cohort_message_deliver` is what the
worker does.
"""

from __future__ import annotations

import logging
import string
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.template.defaultfilters import linebreaks
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from nudges import mailer, outbox
from nudges.models import BouncedAddress
from nudges.services import ChunkReport, send_claimed
from tracker import permissions
from tracker.models import Profile
from tracker.selectors import learner_zone
from tracker.services import NotAllowed, ServiceError

from ..models import (
    MESSAGE_BODY_MAX,
    MESSAGE_SUBJECT_MAX,
    Cohort,
    CohortMembership,
    CohortMessage,
    CohortMessageDelivery,
    CohortRole,
)

__all__ = [
    "MessageError",
    "PLACEHOLDERS",
    "SKIP_BOUNCED",
    "cohort_message_deliver",
    "cohort_message_send",
    "cohort_messages_waiting",
    "cohort_message_sweep_seen",
    "message_sender_running",
    "message_personalise",
]

logger = logging.getLogger(__name__)

# What a message may say about each member, as {name} in the subject or body.
PLACEHOLDERS = {
    "name": "the member's display name",
    "cohort": "the cohort's name",
    "next_target": "the next module in the plan they have not completed",
    "due_date": "the day that module is due",
    "pace": "their pace: Ahead, On pace or Behind by N modules",
}
SKIP_BOUNCED = "The address bounced earlier; nothing more is sent to it."
SKIP_NO_ADDRESS = "No email address on the account."
SKIP_NOT_MEMBER = "No longer a member of the cohort."


class MessageError(ServiceError):
    """Bad input a person can act on."""


@dataclass(frozen=True)
class SendResult:
    message: CohortMessage
    queued: int
    skipped_today: int  # already messaged through this cohort today


def _placeholders_problem(text: str) -> str | None:
    try:
        parts = [part for part in string.Formatter().parse(text) if part[1] is not None]
    except ValueError:
        return "A { or } without its pair: write {name}, or {{ and }} for the characters."
    known = ", ".join("{" + key + "}" for key in PLACEHOLDERS)
    for _, name, spec, conversion in parts:
        if spec or conversion:  # {name:>99999999} would make each email gigabytes
            written = name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            return f"Write placeholders plainly, as {{{name}}}: {{{written}}} is not one."
    unknown = sorted({name for _, name, _, _ in parts if name not in PLACEHOLDERS})
    if unknown:
        return f"Unknown placeholder {{{unknown[0]}}}: use {known}."
    return None


def message_problems(*, subject: str, body: str) -> dict[str, str]:
    problems = {}
    subject, body = subject.strip(), body.strip()
    if not subject:
        problems["subject"] = "Write a subject."
    elif len(subject) > MESSAGE_SUBJECT_MAX:
        problems["subject"] = f"Keep the subject within {MESSAGE_SUBJECT_MAX} characters."
    elif "\n" in subject or "\r" in subject:
        problems["subject"] = "The subject is one line."
    elif problem := _placeholders_problem(subject):
        problems["subject"] = problem
    if not body:
        problems["body"] = "Write the message."
    elif len(body) > MESSAGE_BODY_MAX:
        problems["body"] = f"Keep the message within {MESSAGE_BODY_MAX:,} characters."
    elif problem := _placeholders_problem(body):
        problems["body"] = problem
    return problems


def message_personalise(text: str, values: dict[str, str]) -> str:
    """The text with each {placeholder} replaced by its value. Only bare placeholders are
    ever written (`message_problems`); any format spec or conversion is ignored, not run."""
    out = []
    for literal, name, _, _ in string.Formatter().parse(text):
        out.append(literal)
        if name is not None:
            out.append(values.get(name, "") if name in PLACEHOLDERS else "")
    return "".join(out)


def _local_days(learner_ids, *, now: datetime) -> dict[int, date]:
    """The date it is at `now` where each learner lives (their profile's time zone, by
    `learner_zone`; UTC without a profile)."""
    zones = {
        profile.user_id: learner_zone(profile)
        for profile in Profile.objects.filter(user_id__in=learner_ids).only("user_id", "time_zone")
    }
    return {pk: now.astimezone(zones.get(pk, UTC)).date() for pk in learner_ids}


def cohort_message_send(
    *, by, cohort: Cohort, learner_ids, subject: str, body: str, now: datetime | None = None
) -> SendResult:
    """Record a message to the selected active members and queue it. Members already messaged
    through this cohort today are skipped (and counted); ids that are not active members of
    the cohort are ignored. Raises `NotAllowed` for anyone but the cohort's admins and staff,
    `MessageError` for an empty selection or bad subject or body."""
    if not permissions.can_manage_cohort(by, cohort):
        raise NotAllowed("Only this cohort's admins can message its members.")
    problems = message_problems(subject=subject, body=body)
    if problems:
        raise MessageError(" ".join(problems.values()))
    now = now or timezone.now()
    wanted = {int(pk) for pk in learner_ids}
    with transaction.atomic():
        members = set(
            CohortMembership.objects.filter(
                cohort=cohort, role=CohortRole.MEMBER, removed_at__isnull=True, user_id__in=wanted
            ).values_list("user_id", flat=True)
        )
        if not members:
            raise MessageError("Select at least one member of this cohort to message.")
        # The once-a-day rule counts each member's own days.
        day_of = _local_days(members, now=now)
        message = CohortMessage.objects.create(
            cohort=cohort,
            sender=by,
            subject=subject.strip(),
            body=body.strip(),
            created_at=now,
            selected_count=len(members),
        )
        CohortMessageDelivery.objects.bulk_create(
            [
                CohortMessageDelivery(
                    cohort_message=message,
                    cohort=cohort,
                    learner_id=learner_id,
                    day=day_of[learner_id],
                    created_at=now,
                    updated_at=now,
                )
                for learner_id in sorted(members)
            ],
            ignore_conflicts=True,  # the once-a-day rule: a row for today exists already
        )
        queued = CohortMessageDelivery.objects.filter(cohort_message=message).count()
        message.skipped_count = len(members) - queued
        message.save(update_fields=["skipped_count"])
    # No publish from here: the request never waits on the broker. Beat's minutely
    # `cohorts.send_waiting` hands every message with waiting rows to a worker.
    return SendResult(message=message, queued=queued, skipped_today=message.skipped_count)


# When beat's sweep last ran, in the shared cache: the compose page promises "within a minute"
# only while a sender runs (`make run` starts none), and says so when none has.
SWEEP_SEEN_KEY = "cohorts:message-sweep:last-run"
SWEEP_FRESH = timedelta(minutes=3)


def cohort_message_sweep_seen(*, now: datetime | None = None) -> None:
    cache.set(SWEEP_SEEN_KEY, (now or timezone.now()).isoformat(), None)


def message_sender_running(*, now: datetime | None = None) -> tuple[bool, datetime | None]:
    """Whether the sweep ran in the last few minutes, and when it last ran (None: never)."""
    seen = cache.get(SWEEP_SEEN_KEY)
    last = datetime.fromisoformat(seen) if isinstance(seen, str) else None
    return last is not None and (now or timezone.now()) - last <= SWEEP_FRESH, last


def cohort_messages_waiting(*, now: datetime | None = None) -> list[int]:
    """The messages with rows a worker could claim now (waiting, due for a retry, or held
    under a lapsed lease), oldest first: what the minutely sweep hands on."""
    now = now or timezone.now()
    return list(
        CohortMessageDelivery.objects.filter(outbox.claimable(now))
        .order_by("cohort_message_id")
        .values_list("cohort_message_id", flat=True)
        .distinct()
    )


# --- sending -----------------------------------------------------------------------------------


def render_message(
    *, message: CohortMessage, learner, values: dict[str, str]
) -> mailer.RenderedEmail:
    site = settings.SITE_URL
    page = f"{site}{reverse('cohorts:home', args=[message.cohort.slug])}"
    subject = " ".join(message_personalise(message.subject, values).split())
    body = message_personalise(message.body, values)
    footer = (
        f"You get this as a member of {message.cohort.name} on Waymark, from its admins "
        f"(at most one such message a day). Your cohort page: {page}"
    )
    text = f"{body}\n\n-- \n{footer}\n"
    html = (
        f"<!doctype html><html><body>{linebreaks(escape(body))}"
        f'<hr><p style="color:#5b6573;font-size:13px">{escape(footer)}</p></body></html>'
    )
    return mailer.RenderedEmail(
        to=learner.email,
        subject=subject,
        text=text,
        html=html,
        message_id=mailer.message_id(kind="cohort", key=f"{message.pk}.{learner.pk}"),
    )


def cohort_message_deliver(
    *, message_id: int, now: datetime | None = None, connection=None
) -> ChunkReport:
    """Claim the message's waiting rows, send each with the member's own values filled in, mark
    each row (the nudges' protocol). Idempotent: finished or held rows are left alone."""
    from .. import selectors

    clock = timezone.now if now is None else (lambda: now)
    now = clock()
    report = ChunkReport()
    message = CohortMessage.objects.select_related("cohort").filter(pk=message_id).first()
    if message is None:
        return report
    claim = outbox.claim(CohortMessageDelivery.objects.filter(cohort_message=message), now=now)
    report.claimed = len(claim.rows)
    if not claim.rows:
        return report
    ids = [row.learner_id for row in claim.rows]
    learners = get_user_model().objects.in_bulk(ids)
    bounced = set(
        BouncedAddress.objects.filter(
            email__in=[u.email.lower() for u in learners.values() if u.email]
        ).values_list("email", flat=True)
    )
    # Pace, next target and due date as each member saw them on the day it was sent for,
    # their own day: one reading of the cohort per distinct day (one, or two across midnight).
    ids_by_day: dict[date, list[int]] = defaultdict(list)
    for row in claim.rows:
        ids_by_day[row.day].append(row.learner_id)
    rows, complete, context_of = {}, {}, {}
    for day, day_ids in ids_by_day.items():
        ctx = selectors.cohort_context(slug=message.cohort.slug, cohort=message.cohort, today=day)
        found = {m.user_id: m for m in selectors.members_with_ids(ctx, ids=day_ids, now=now)}
        rows.update(found)
        complete.update(selectors.complete_modules(ctx, learner_ids=list(found)))
        context_of.update(dict.fromkeys(found, ctx))

    def prepare(row):
        learner = learners.get(row.learner_id)
        member = rows.get(row.learner_id)
        if member is None or learner is None:
            return None, SKIP_NOT_MEMBER
        if not learner.email:
            return None, SKIP_NO_ADDRESS
        if learner.email.lower() in bounced:
            return None, SKIP_BOUNCED
        target = context_of[row.learner_id].next_target(complete[row.learner_id])
        values = {
            "name": member.name,
            "cohort": message.cohort.name,
            "next_target": target.title if target else "",
            "due_date": f"{target.due_on:%A %-d %B %Y}" if target else "",
            "pace": member.pace.label,
        }
        return render_message(message=message, learner=learner, values=values), ""

    return send_claimed(
        claim, prepare=prepare, report=report, now=now, clock=clock, connection=connection
    )
