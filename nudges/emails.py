"""The weekly nudge as an email: subject, plain text and HTML from templates, absolute links,
the signed unsubscribe link and the deterministic Message-ID."""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.core import signing
from django.template.loader import get_template
from django.urls import reverse

from tracker.models import Weekday

from . import mailer
from .selectors import NudgeData

TEXT_TEMPLATE = "nudges/email/nudge.txt"
HTML_TEMPLATE = "nudges/email/nudge.html"
BODY_PARTIAL = f"{HTML_TEMPLATE}#nudge-body"
UNSUBSCRIBE_SALT = "nudges.unsubscribe"


def unsubscribe_token(learner_id: int) -> str:
    """A signed token naming one learner: the link works without logging in, only for them.
    It does not expire; what it can do (turn nudges off or on again) is harmless."""
    return signing.Signer(salt=UNSUBSCRIBE_SALT).sign(str(learner_id))


def learner_from_token(token: str) -> int | None:
    try:
        return int(signing.Signer(salt=UNSUBSCRIBE_SALT).unsign(token))
    except (signing.BadSignature, ValueError):
        return None


@lru_cache(maxsize=4096)
def _path(name: str, **kwargs) -> str:
    """reverse(), remembered: thousands of emails share a handful of paths (the URLconf does not
    change while the process runs)."""
    return reverse(name, kwargs=kwargs or None)


def unsubscribe_url(learner_id: int) -> str:
    token = unsubscribe_token(learner_id)
    return f"{settings.SITE_URL}{_path('nudges:unsubscribe', token='~')[:-2]}{token}/"


def nudge_message_id(*, learner_id: int, week: str) -> str:
    return mailer.message_id(kind="nudge", key=f"{week}.{learner_id}")


def subject_for(data: NudgeData) -> str:
    """One line (a title's own line breaks or tabs become spaces), at most 200 characters."""
    first = next((item for track in data.tracks for item in track.next_items), None)
    lead = f"Next up: {' '.join(first.resource.title.split())}" if first else "Your week on Waymark"
    if data.completions_recent:
        n = data.completions_recent
        return f"{n} done in the last 7 days · {lead}"[:200]
    return lead[:200]


def _date(day) -> str:
    return f"{day.day} {day:%b %Y}"


def _pace(projection) -> str:
    if projection.complete:
        return "complete"
    return "behind" if projection.behind else "ahead" if projection.ahead else "on time"


def _capstone_title(title: str) -> str:
    # "Capstone I: supervised deep learning" needs no "Capstone: " in front.
    return title if title.lower().startswith("capstone") else f"Capstone: {title}"


def _next(item, track_url: str) -> dict:
    resource = item.resource
    linked = resource.linked_track
    if linked is None:
        return {
            "title": resource.title,
            "url": f"{track_url}#resource-{resource.slug}",
            "minutes": resource.minutes,
            "alternatives": item.choices - 1,
        }
    # A step that is a whole other track is done there: link to that track (as /me/ does), with
    # its time left when the learner follows it (as the pace page counts it).
    followed = item.linked_minutes_left is not None
    return {
        "title": resource.title,
        "url": f"{settings.SITE_URL}{linked.url}",
        "minutes": item.linked_minutes_left if followed else resource.minutes,
        "minutes_left": followed,
        "linked_track": linked.title,
        "alternatives": item.choices - 1,
    }


def _capstones_only(data: NudgeData) -> tuple[str, int]:
    """ "open" when what is left in every track is required capstones, "in_review" when every
    one of them is handed in and waiting for review, "" when a resource is left (or nothing);
    and how many capstones are listed as left."""
    if any(item.next_items for item in data.tracks):
        return "", 0
    left = [(item, capstone) for item in data.tracks for capstone in item.capstones_next]
    if not left:
        return "", 0
    in_review = all(capstone.id in item.capstones_in_review for item, capstone in left)
    return ("in_review" if in_review else "open"), len(left)


def context_for(data: NudgeData, *, for_someone_else: bool = False) -> dict:
    """Everything the templates show, as plain strings, numbers and dicts, links and dates
    already made: rendering thousands of emails a minute leaves no room for reverse(), date
    filters or attribute lookups through models in the loop (each a failed dictionary lookup
    first), and nothing here can touch the database."""
    site = settings.SITE_URL
    tracks = []
    for item in data.tracks:
        projection = item.projection
        track_url = f"{site}{_path('curriculum:track_detail', slug=item.track.slug)}"
        tracks.append(
            {
                "title": item.track.title,
                "url": track_url,
                "percent": item.completion.percent,
                "pace": _pace(projection),
                "days_off": projection.days_off,
                # Their work is not in the finish date: an "ahead" must not read as a promise.
                "unestimated_capstones": item.completion.open_capstones,
                "finish": _date(projection.finish),
                "goal": _date(projection.goal),
                "goal_is_target": projection.goal_is_target,
                # Hours a week or a target date of their own; else the time hints are the plan.
                "own_plan": projection.basis == "plan" or projection.goal_is_target,
                "plan_url": f"{site}{_path('track:pace_plan', slug=item.track.slug)}",
                "next": [_next(next_item, track_url) for next_item in item.next_items]
                + [
                    {  # only capstones left: they are what comes next
                        "title": _capstone_title(capstone.title),
                        "url": site
                        + _path(
                            "track:capstone_submission",
                            slug=item.track.slug,
                            item=capstone.slug,
                        ),
                        "minutes": None,
                        "alternatives": 0,
                        "in_review": capstone.id in item.capstones_in_review,
                    }
                    for capstone in item.capstones_next
                ],
            }
        )
    capstones = [
        {
            "title": submission.title,
            "capstone": submission.capstone.title,
            "url": site
            + _path(
                "track:capstone_submission",
                slug=submission.track.slug,
                item=submission.capstone.slug,
            ),
        }
        for submission in data.changes_requested
    ]
    revisit = [
        {
            "title": note.resource.title,
            "track": note.resource.track.title,
            "url": f"{site}{_path('curriculum:track_detail', slug=note.resource.track.slug)}"
            f"#resource-{note.resource.slug}",
        }
        for note in data.revisit
    ]
    capstones_only, capstones_left = _capstones_only(data)
    return {
        "name": data.profile.display_name or data.learner.get_full_name() or "there",
        "subject": subject_for(data),
        "completions": data.completions_recent,
        "points": data.points_recent,
        "streak": data.streak,
        "recent_left_out": data.recent_left_out,
        # A first week and a finished course are not a lapse: the quiet-week line says which.
        "started": any(item.completion.done_units for item in data.tracks),
        "all_complete": all(item.completion.complete for item in data.tracks),
        # No resource left in any track, only capstones: "a single resource" would be untrue.
        "capstones_only": capstones_only,
        "capstones_left": capstones_left,
        "tracks": tracks,
        "capstones": capstones,
        "cohort": data.cohort,
        "revisit": revisit,
        "site_url": site,
        "dashboard_url": f"{site}{_path('tracker:dashboard')}",
        "profile_url": f"{site}{_path('tracker:profile')}",
        # The signed link stops the learner's nudges without a log-in: only their own copy (and
        # their own preview) carries it, never a cohort admin's or staff's preview of it.
        "unsubscribe_url": "" if for_someone_else else unsubscribe_url(data.learner.pk),
        "weekday": Weekday(data.profile.nudge_weekday).label,
        "hour": f"{data.profile.nudge_hour:02d}:00",
        "time_zone": data.profile.time_zone,
    }


def render_nudge(data: NudgeData, *, for_someone_else: bool = False) -> mailer.RenderedEmail:
    """The email as sent; `for_someone_else`: as previewed by someone who is not the learner,
    without the learner's signed unsubscribe link."""
    context = context_for(data, for_someone_else=for_someone_else)
    return mailer.RenderedEmail(
        to=data.learner.email,
        subject=context["subject"],
        # The plain-text part is rendered without escaping (it is text), and render() marks its
        # result safe: unmarked here, so no page can print it as HTML unescaped (the preview
        # did, and a display name's markup ran in the viewer's session).
        text="".join(get_template(TEXT_TEMPLATE).render(context)),
        html=get_template(HTML_TEMPLATE).render(context),
        message_id=nudge_message_id(learner_id=data.learner.pk, week=data.week),
        unsubscribe_url=context["unsubscribe_url"] or None,
        list_id=f"Waymark weekly nudge <nudges.{mailer.site_domain()}>",
    )
