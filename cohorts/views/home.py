"""A cohort's member page (/cohorts/<slug>/home/): the cohort, its current phase and phase
timeline, the member's own pace and next module target with its due date, their team, and the
leaderboard. Admins see it too (as members see it)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from tracker import permissions

from .. import selectors
from .access import cohort_for_viewer, in_viewer_time_zone, viewer_today
from .header import with_header


@login_required
@require_GET
@in_viewer_time_zone
def home(request: HttpRequest, slug: str) -> HttpResponse:
    cohort = cohort_for_viewer(request.user, slug)
    now = timezone.now()
    ctx = selectors.cohort_context(slug=slug, cohort=cohort, today=viewer_today(request.user, now))
    own = selectors.member_of(ctx, user=request.user, now=now)
    complete = (
        selectors.complete_modules(ctx, learner_ids=[own.user_id])[own.user_id] if own else None
    )
    next_target = ctx.next_target(complete) if own else None
    nothing_required = selectors.modules_with_nothing_required(ctx) if own else 0
    context = {
        "ctx": ctx,
        "cohort": cohort,
        "own": own,
        "next_target": next_target,
        # Its due day is behind the viewer: "was due", as /me/ and the nudge say it.
        "next_target_overdue": next_target is not None and next_target.due_on < ctx.today,
        # Shown as "N modules complete": only modules with required work (the pace still counts
        # the others, complete by the rule from the start, and the sentence says so).
        "complete_count": len(complete) - nothing_required if own else 0,
        "nothing_required": nothing_required,
        "team": selectors.member_team(ctx, user=request.user) if own else None,
        "leaderboard": selectors.leaderboard(ctx, now=now),
        "manages": permissions.can_manage_cohort(request.user, cohort),
    }
    return render(request, "cohorts/home.html", with_header(request, context))
