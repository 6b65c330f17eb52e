"""Messaging members (/cohorts/<slug>/messages/): compose a message to the members selected on
the dashboard (checkboxes, the at-risk list, or everyone matching the table's filter), preview it
for one of them, send it; and the log of what was sent on the cohort."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from nudges.models import DeliveryStatus

from .. import selectors
from ..forms_dashboard import PACE_CHOICES, MemberFilterForm
from ..forms_messages import DEFAULT_BODY, DEFAULT_SUBJECT, MessageForm
from ..models import CohortMessage
from ..services import messages as message_services
from ..services.messages import PLACEHOLDERS, MessageError, render_message
from .access import cohort_for_manager, in_viewer_time_zone, viewer_today
from .header import with_header

LOG_SIZE = 20


# "Everyone matching": how many of the matching members' names the page lists.
NAMES_SHOWN = 100


def _described(matching: dict, ctx) -> str:
    """The filter in words, as the dashboard's form names it: `name contains “bo”; pace:
    Behind`; empty without one."""
    titles = {track.id: track.title for track in ctx.tracks}
    paces = dict(PACE_CHOICES)
    parts = []
    if "q" in matching:
        parts.append(f"name contains “{matching['q']}”")
    if "track" in matching:
        parts.append(f"in {titles.get(matching['track'], 'a track')}")
    if "pace" in matching:
        parts.append(f"pace: {paces.get(matching['pace'], matching['pace'])}")
    return "; ".join(parts)


def _selection(request: HttpRequest, ctx, now, data) -> tuple[list, dict | None]:
    """The members the message is for, and with `all` the dashboard filter they match (its
    fields as the query spells them; None for a selection by ticked ids). With `all` it is
    everyone matching the filter now (at Send, at sending time); otherwise the ids sent.
    Only active members of this cohort."""
    if data.get("all"):
        form = MemberFilterForm(data, tracks=ctx.tracks)
        form.is_valid()
        filters = form.member_filter()
        fields = {"q": filters.q, "track": filters.track or "", "pace": filters.pace}
        rows = list(selectors.member_rows(ctx, filters=filters, now=now))
        return rows, {name: value for name, value in fields.items() if value}
    # `shown`: every member the page listed, ticked or not (unticking the last one then left
    # nobody to tick again); else the ids the dashboard sent.
    listed = data.getlist("shown") or data.getlist("learner")
    ids = [int(v) for v in listed if v.isascii() and v.isdigit() and len(v) <= 18]
    ids = ids[:10_000]
    return selectors.members_with_ids(ctx, ids=ids, now=now), None


def _sender() -> dict:
    running, last = message_services.message_sender_running()
    return {"running": running, "last": last}


def message_log(cohort):
    return list(
        CohortMessage.objects.filter(cohort=cohort)
        .select_related("sender__profile")
        .annotate(
            delivered=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.SENT)),
            pending=Count(
                "deliveries",
                filter=Q(deliveries__status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING]),
            ),
            failed=Count(
                "deliveries",
                filter=Q(deliveries__status__in=[DeliveryStatus.FAILED, DeliveryStatus.SKIPPED]),
            ),
        )
        .order_by("-created_at", "-id")[:LOG_SIZE]
    )


@login_required
@require_http_methods(["GET", "POST"])
@in_viewer_time_zone
def messages(request: HttpRequest, slug: str) -> HttpResponse:
    cohort = cohort_for_manager(request.user, slug)
    now = timezone.now()
    ctx = selectors.cohort_context(slug=slug, cohort=cohort, today=viewer_today(request.user, now))
    data = request.POST if request.method == "POST" else request.GET
    selected, matching = _selection(request, ctx, now, data)
    everyone = matching is not None
    status = 200
    if request.method == "POST":
        form = MessageForm(request.POST, members=selected, everyone=everyone)
        if form.is_valid() and request.POST.get("action") == "send":
            try:
                result = message_services.cohort_message_send(
                    by=request.user,
                    cohort=cohort,
                    learner_ids=form.cleaned_data["learner"],
                    subject=form.cleaned_data["subject"],
                    body=form.cleaned_data["body"],
                    now=now,
                )
            except MessageError as error:
                form.add_error(None, str(error))
            else:
                running, _ = message_services.message_sender_running()
                note = (
                    f"Message queued for {result.queued} member{'s' if result.queued != 1 else ''}"
                    + (
                        ": it goes out within a minute."
                        if running
                        else ". Waymark's background sender is not running, so it waits "
                        "until it is (see below)."
                    )
                )
                if result.skipped_today:
                    n = result.skipped_today
                    note += (
                        f" {n} member{'s were' if n != 1 else ' was'} skipped: already messaged "
                        "through this cohort today (at most one message a day)."
                    )
                flash.success(request, note)
                return redirect("cohorts:messages", slug=cohort.slug)
        if form.errors:
            status = 400
    else:
        form = MessageForm(
            initial={
                "learner": [row.user_id for row in selected],
                "subject": DEFAULT_SUBJECT,
                "body": DEFAULT_BODY,
            },
            members=selected,
            everyone=everyone,
        )
    preview = None
    if selected:
        chosen = form.cleaned_data.get("learner") if form.is_bound and form.is_valid() else None
        first = next((r for r in selected if not chosen or r.user_id in chosen), selected[0])
        subject = form["subject"].value() or ""
        body = form["body"].value() or ""
        if not message_services.message_problems(subject=subject, body=body):
            complete = selectors.complete_modules(ctx, learner_ids=[first.user_id])
            target = ctx.next_target(complete[first.user_id])
            preview = render_message(
                message=CohortMessage(cohort=cohort, subject=subject, body=body),
                learner=request.user,
                values={
                    "name": first.name,
                    "cohort": cohort.name,
                    "next_target": target.title if target else "",
                    "due_date": f"{target.due_on:%A %-d %B %Y}" if target else "",
                    "pace": first.pace.label,
                },
            )
            preview = {"name": first.name, "subject": preview.subject, "body": preview.text}
    context = {
        "ctx": ctx,
        "cohort": cohort,
        "form": form,
        "selected": selected,
        "everyone": everyone,
        "matching": matching or {},
        "matching_words": _described(matching or {}, ctx),
        "filtered_dashboard": reverse("cohorts:dashboard", args=[cohort.slug])
        + (f"?{urlencode(matching)}" if matching else ""),
        "names_shown": selected[:NAMES_SHOWN],
        "names_more": max(0, len(selected) - NAMES_SHOWN),
        "preview": preview,
        "placeholders": PLACEHOLDERS,
        "log": message_log(cohort),
        "sender": _sender(),
    }
    return render(request, "cohorts/messages.html", with_header(request, context), status=status)
