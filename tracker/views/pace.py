"""The personal pace plan of one track (/tracks/<slug>/plan/) and its iCalendar download.

One page, plain forms: saving the plan and the two re-plan buttons all POST here and redirect
back with a message, so it works the same without JavaScript."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods
from icalendar import Calendar, Event

from curriculum.models import Track
from ops.forms import StrictInputForm

from .. import pace, selectors, services
from ..completion import DEFAULT_MINUTES_ESTIMATE
from ..models import Enrolment

MAX_PLAN_YEARS = 10


class PacePlanForm(StrictInputForm, forms.Form):
    hours_per_week = forms.DecimalField(
        label="Hours per week",
        min_value=pace.MIN_HOURS_PER_WEEK,
        max_value=pace.MAX_HOURS_PER_WEEK,
        max_digits=4,
        decimal_places=1,
        help_text="How much time you mean to spend on this track each week, "
        "from 0.5 to 80 (for example 4 or 2.5).",
        widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}),
    )
    target_date = forms.DateField(
        label="Target date (optional)",
        required=False,
        help_text="When you want to finish. "
        "Leave empty to measure yourself against the modules' time hints.",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, today, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["target_date"].widget.attrs["min"] = today.isoformat()

    def clean_target_date(self):
        value = self.cleaned_data.get("target_date")
        if value is not None and value < self.today:
            raise forms.ValidationError(
                "The target date is in the past; pick today or a later day."
            )
        if value is not None and value.year > self.today.year + MAX_PLAN_YEARS:
            raise forms.ValidationError(
                f"Plan at most {MAX_PLAN_YEARS} years ahead: "
                f"pick a day before {self.today.year + MAX_PLAN_YEARS + 1}."
            )
        return value


def _enrolment(request: HttpRequest, slug: str) -> Enrolment | None:
    """The learner's active enrolment in the track (None when not enrolled; 404 when no track)."""
    enrolment = (
        selectors.active_enrolments(learner=request.user)
        .filter(track__slug=slug)
        .select_related("track")
        .first()
    )
    if enrolment is None and not Track.objects.active().filter(slug=slug).exists():
        raise Http404("No such track.")
    return enrolment


def _not_enrolled(request: HttpRequest, slug: str) -> HttpResponse:
    messages.info(request, "Enrol in this track to plan your pace.")
    return redirect(reverse("curriculum:track_detail", kwargs={"slug": slug}))


@login_required
@require_http_methods(["GET", "POST"])
def plan(request: HttpRequest, slug: str) -> HttpResponse:
    enrolment = _enrolment(request, slug)
    if enrolment is None:
        return _not_enrolled(request, slug)
    profile = services.profile_get_or_create(user=request.user)
    state = selectors.pace_plan_state(enrolment=enrolment, profile=profile)
    here = reverse("track:pace_plan", kwargs={"slug": slug})
    initial = {"hours_per_week": enrolment.hours_per_week, "target_date": enrolment.target_date}
    form = PacePlanForm(initial=initial, today=state.today)

    if request.method == "POST":
        action = request.POST.get("action", "save")
        if action in ("replan_hours", "replan_date"):
            _replan(request, state, action)
            return redirect(here)
        if action == "cohort_date":
            _plan_to_cohort(request, state, slug=request.POST.get("cohort", ""))
            return redirect(here)
        form = PacePlanForm(request.POST, today=state.today)
        if form.is_valid():
            try:
                services.pace_plan_set(
                    learner=request.user,
                    track=enrolment.track,
                    today=state.today,
                    hours_per_week=form.cleaned_data["hours_per_week"],
                    target_date=form.cleaned_data["target_date"],
                )
            except services.ServiceError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, "Your pace plan is saved.")
                return redirect(here)

    return render(
        request,
        "tracker/pace_plan.html",
        {
            "state": state,
            "projection": state.projection,
            "form": form,
            "default_minutes": DEFAULT_MINUTES_ESTIMATE,
            "hints_total": _hints_total(state.modules),
            "module_rows": list(zip(state.modules, state.projection.modules, strict=True)),
            "actual_hours": _actual_hours(state),
            "cohort_plans": selectors.cohort_plans_for_track(state=state),
        },
        status=400 if form.errors else 200,
    )


def _hints_total(modules) -> str:
    """The whole track's hints: "12 weeks", "1 day", "2 weeks and 3 days"."""
    days = sum(module.hint_days for module in modules)
    weeks, rest = divmod(days, 7)
    if any(module.days is not None for module in modules) and rest:
        parts = [f"{weeks} week{pluralize(weeks)}"] if weeks else []
        parts.append(f"{rest} day{pluralize(rest)}")
        return " and ".join(parts)
    return f"{weeks} week{pluralize(weeks)}"


def _actual_hours(state: selectors.PacePlanState):
    actual = state.projection.actual_minutes_per_week
    return pace.hours_per_week(actual) if actual else None


def _plan_to_cohort(request: HttpRequest, state: selectors.PacePlanState, *, slug: str) -> None:
    """Make the day the cohort's plan has this track done the learner's target date (their
    hours per week stay)."""
    plan = next(
        (
            p
            for p in selectors.cohort_plans_for_track(state=state)
            if p.standing.cohort.slug == slug
        ),
        None,
    )
    if plan is None:
        messages.error(request, "That cohort does not run this track for you any more.")
        return
    try:
        services.pace_plan_set(
            learner=request.user,
            track=state.enrolment.track,
            hours_per_week=state.enrolment.hours_per_week,
            target_date=plan.done_by,
            today=state.today,
        )
    except services.ServiceError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            f"Your target date is now {plan.done_by:%d %b %Y}, the day "
            f"{plan.standing.cohort.name}'s plan has this track done.",
        )


def _replan(request: HttpRequest, state: selectors.PacePlanState, action: str) -> None:
    projection, enrolment = state.projection, state.enrolment
    if not projection.behind:
        messages.info(request, "You are not behind, so nothing needed re-planning.")
        return
    if action == "replan_hours":
        if not projection.hours_needed_feasible:
            messages.error(
                request,
                "No pace up to 80 hours a week makes that date; move the target date instead.",
            )
            return
        hours, target = projection.hours_needed, enrolment.target_date
        done = f"Re-planned: {hours} hours per week from now on."
    else:
        hours, target = enrolment.hours_per_week, projection.finish
        done = f"Re-planned: your target date is now {target:%d %b %Y}."
    try:
        services.pace_plan_set(
            learner=request.user,
            track=enrolment.track,
            hours_per_week=hours,
            target_date=target,
            today=state.today,
        )
    except services.ServiceError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, done)


@login_required
@require_GET
def plan_ics(request: HttpRequest, slug: str) -> HttpResponse:
    enrolment = _enrolment(request, slug)
    if enrolment is None:
        return _not_enrolled(request, slug)
    profile = services.profile_get_or_create(user=request.user)
    state = selectors.pace_plan_state(enrolment=enrolment, profile=profile)
    response = HttpResponse(
        plan_calendar(state, user_id=request.user.pk).to_ical(),
        content_type="text/calendar; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{slug}-plan.ics"'
    return response


def plan_calendar(state: selectors.PacePlanState, *, user_id: int) -> Calendar:
    """One all-day event per unfinished module on its projected finish, and one for the track."""
    track = state.track
    link = f"{settings.SITE_URL}{track.get_absolute_url()}"
    plan_link = f"{settings.SITE_URL}{reverse('track:pace_plan', kwargs={'slug': track.slug})}"
    stamp = timezone.now().replace(microsecond=0)
    calendar = Calendar()
    calendar.add("prodid", "-//Waymark//pace plan//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", f"{track.title}: pace plan")
    for module, projected in zip(state.modules, state.projection.modules, strict=True):
        if projected.finish is None:
            continue
        calendar.add_component(
            _all_day(
                uid=f"{track.slug}-{module.slug}-{user_id}@waymark",
                day=projected.finish,
                stamp=stamp,
                summary=f"Finish {module.title}",
                description=(
                    f"{track.title}: finish the module “{module.title}”.\n"
                    f"{link}#module-{module.slug}\nYour plan: {plan_link}"
                ),
                url=f"{link}#module-{module.slug}",
            )
        )
    if not state.projection.complete:
        calendar.add_component(
            _all_day(
                uid=f"{track.slug}-track-{user_id}@waymark",
                day=state.projection.finish,
                stamp=stamp,
                summary=f"Finish the track {track.title}",
                description=(
                    f"{track.title}: the projected finish of the whole track.\n"
                    f"{link}\nYour plan: {plan_link}"
                ),
                url=link,
            )
        )
    return calendar


def _all_day(*, uid: str, day, stamp: datetime, summary: str, description: str, url: str) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("dtstart", day)
    event.add("dtend", day + timedelta(days=1))
    event.add("summary", summary)
    event.add("description", description)
    event.add("url", url)
    event.add("transp", "TRANSPARENT")
    return event
