"""Nudge pages: the log (/nudges/log/: staff see everyone's rows, cohort admins their cohorts'
members'), the preview of a learner's nudge for this week (/nudges/preview/ for one's own,
/nudges/preview/<id>/ for whoever sees that learner's log), and the one-click
unsubscribe link from the email (/nudges/unsubscribe/<token>/)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from ops.forms import StrictInputForm
from tracker import permissions

from . import emails, schedule, selectors, services
from .models import DeliveryStatus, NudgeDelivery

LOG_PAGE_SIZE = 50


class LogFilterForm(StrictInputForm, forms.Form):
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "Any status"), *DeliveryStatus.choices]
    )
    week = forms.CharField(
        label="ISO week",
        required=False,
        max_length=8,
        widget=forms.TextInput(attrs={"placeholder": "2026-W05", "list": "nudge-weeks"}),
    )
    q = forms.CharField(label="Learner email or name", required=False, max_length=100)

    def clean_week(self):
        value = self.cleaned_data["week"].strip()
        if value:
            try:
                schedule.parse_week(value)
            except schedule.BadWeek as error:
                raise forms.ValidationError(str(error)) from None
        return value


@login_required
@require_GET
def nudge_log(request: HttpRequest) -> HttpResponse:
    if not permissions.can_view_nudge_log(request.user):
        raise PermissionDenied("Only staff and cohort admins see the nudge log.")
    form = LogFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    learners = permissions.nudge_log_learners(request.user)
    rows = selectors.nudge_log(
        learners=learners,
        status=filters.get("status", ""),
        week=filters.get("week", ""),
        search=filters.get("q", "").strip(),
    )
    page = Paginator(rows, LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "rows": list(page.object_list),
        "weeks": selectors.nudge_log_weeks(),
        "query": query.urlencode(),
        "everyone": learners is None,
    }
    template = "nudges/log.html#log-results" if request.htmx else "nudges/log.html"
    return render(request, template, context, status=400 if form.errors else 200)


@login_required
@require_GET
def preview(request: HttpRequest, learner_id: int | None = None) -> HttpResponse:
    learner = (
        request.user if learner_id is None else get_object_or_404(get_user_model(), pk=learner_id)
    )
    if not permissions.can_preview_nudge(request.user, learner):
        # 404, as for an id nobody has: whether an account exists is not for others to learn.
        raise Http404("No such learner.")
    now = timezone.now()
    profile = selectors.nudge_profile(learner_id=learner.pk)
    zone = schedule.zone_or_utc(profile.time_zone if profile else "UTC")
    week = schedule.current_week(now=now, zone=zone)
    data = selectors.nudge_batch(learner_ids=[learner.pk], week=week, now=now).get(learner.pk)
    delivery = NudgeDelivery.objects.filter(learner=learner, week=week).first()
    context = {
        "learner": learner,
        "own": learner.pk == request.user.pk,
        "week": week,
        "data": data,
        "delivery": delivery,
        "skip_reason": selectors.SKIP_NO_ADDRESS if data is None else data.skip_reason,
        "due_at": (
            schedule.due_at(
                week=week, weekday=profile.nudge_weekday, hour=profile.nudge_hour, zone=zone
            )
            if profile
            else None
        ),
        "zone": zone,
    }
    context["delivery_reason"] = delivery.reason if delivery else ""
    if context["own"]:  # the learner reads about their own profile and address
        context["skip_reason"] = selectors.skip_reason_as_own(context["skip_reason"] or "")
        context["delivery_reason"] = selectors.skip_reason_as_own(context["delivery_reason"])
    due_at, late = context["due_at"], timedelta(hours=settings.NUDGE_CATCH_UP_HOURS)
    if due_at is not None and delivery is None and due_at <= now and not context["skip_reason"]:
        # Due but not sent: still on its way, or past the time a nudge may go out late; or the
        # account is newer than this week's time, and the first nudge is next week's.
        if learner.date_joined > due_at:
            context["unsent"] = "first"
        else:
            context["unsent"] = "missed" if now > due_at + late else "pending"
        context["catch_up_hours"] = settings.NUDGE_CATCH_UP_HOURS
    shown = permissions.nudge_preview_track_ids(request.user, learner)
    if data is not None and shown is not None:
        context["tracks_left_out"] = sum(1 for t in data.tracks if t.track.id not in shown)
        data = dataclasses.replace(
            data,
            tracks=[t for t in data.tracks if t.track.id in shown],
            revisit=[note for note in data.revisit if note.resource.track_id in shown],
            changes_requested=[s for s in data.changes_requested if s.track_id in shown],
            # Completions, points and streak count every track of theirs, not only these:
            # not shown (nor in the subject), and the email part says why.
            completions_recent=0,
            points_recent=0,
            streak=0,
            recent_left_out=True,
        )
    if data is not None and data.tracks:
        someone_else = not context["own"]
        context["email"] = emails.render_nudge(data, for_someone_else=someone_else)
        context.update(emails.context_for(data, for_someone_else=someone_else))
    return render(request, "nudges/preview.html", context)


@csrf_exempt  # RFC 8058: the mail client POSTs without our cookie; the signed token is the key
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button (link scanners fetch links; a GET changes nothing). POST, from that
    button or a mail client's one-click ("List-Unsubscribe=One-Click"), turns the token's
    learner's nudges off, or back on with action=resubscribe. It can do nothing else, to
    nobody else, so it needs no CSRF token."""
    learner_id = emails.learner_from_token(token)
    if learner_id is None:
        raise Http404("This unsubscribe link is not valid.")
    profile = selectors.nudge_profile(learner_id=learner_id)
    if profile is None:
        raise Http404("This unsubscribe link is not valid.")
    changed = False
    if request.method == "POST":
        enabled = request.POST.get("action") == "resubscribe"
        profile = services.nudge_subscription_set(learner_id=learner_id, enabled=enabled)
        changed = True
    return render(
        request,
        "nudges/unsubscribe.html",
        {"profile": profile, "token": token, "changed": changed},
    )
