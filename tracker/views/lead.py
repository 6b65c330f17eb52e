"""The lead area (/lead/): a lead's tracks, the capstone review queue (with a peer section),
one submission under review, and a track's leads (/tracks/<slug>/leads/).

Every decision is `tracker.permissions`; every write a service. A person who may not know a
submission exists gets 404; a signed-in person without a role on a page everyone may know
exists (the queue, a public track's leads) gets 403."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from curriculum.models import Track
from ops.forms import StrictInputForm

from .. import permissions, selectors, services
from ..models import ReviewVia, SubmissionStatus, public_name
from ..selectors.capstones import constraint_rows
from .track import learner_required

QUEUE_TEMPLATE = "tracker/lead/reviews.html"
QUEUE_ROWS_TEMPLATE = "tracker/lead/_queue_rows.html"


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


@never_cache
@learner_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if not permissions.can_use_lead_area(request.user):
        raise PermissionDenied("The lead area is for track leads and staff.")
    rows = selectors.lead_home_tracks(user=request.user)
    return render(
        request,
        "tracker/lead/home.html",
        {"rows": rows, "staff": permissions.is_staff(request.user)},
    )


@never_cache
@learner_required
@require_GET
def reviews(request: HttpRequest) -> HttpResponse:
    if not permissions.can_use_review_queue(request.user):
        raise PermissionDenied("The review queue is for track leads, peer reviewers and staff.")
    queue = selectors.review_queue(
        user=request.user,
        status=request.GET.get("status", "waiting"),
        track_id=_int_or_none(request.GET.get("track")),
        page=request.GET.get("page"),
        peer_page=request.GET.get("peer_page"),
    )
    filters = _filters(queue)
    context = {
        "queue": queue,
        "filters": filters,
        # Each section's page links keep the page the other section shows; the lead section's
        # filter form keeps the peer section's (new filters start the lead list at page 1).
        "lead_filters": filters + _page_param("peer_page", queue.peer_page),
        "peer_filters": filters + _page_param("page", queue.lead_page),
        "kept_peer_page": _page_number(queue.peer_page),
    }
    if request.htmx and request.htmx.target in ("lead-queue", "peer-queue"):
        return _section_answer(request, context)
    return render(request, QUEUE_TEMPLATE, context)


def _section_answer(request: HttpRequest, context: dict) -> HttpResponse:
    """A page of one section (or the lead section under new filters) over htmx: that section,
    and out of band whatever else carries its page or filters (the other section's page links,
    the filter form's kept peer page), so every link on the page, and the URL each pushes,
    names the page both sections show. The other section's rows are not read again."""
    queue = context["queue"]
    if request.htmx.target == "lead-queue":
        response = render(request, f"{QUEUE_TEMPLATE}#lead-queue", context)
        other, other_page, other_filters = "peer", queue.peer_page, context["peer_filters"]
    else:
        response = render(request, f"{QUEUE_TEMPLATE}#peer-queue", context)
        other, other_page, other_filters = "lead", queue.lead_page, context["lead_filters"]
        if queue.leads_any:
            form = render_to_string(
                f"{QUEUE_TEMPLATE}#kept-peer-page", context | {"oob": True}, request=request
            )
            response.content += form.encode()
    if other_page is not None:
        links = render_to_string(
            f"{QUEUE_ROWS_TEMPLATE}#pages",
            {"section": other, "page": other_page, "filters": other_filters, "oob": True},
            request=request,
        )
        response.content += links.encode()
    return response


def _page_number(page) -> int | None:
    """The page's number when it is not the first (the first is what no number means)."""
    return page.number if page is not None and page.number > 1 else None


def _page_param(name: str, page) -> str:
    number = _page_number(page)
    return f"&{name}={number}" if number else ""


def _filters(queue: selectors.ReviewQueue) -> str:
    """The lead section's filters as a query string, kept by its pagination links."""
    parts = [f"status={queue.status}"]
    if queue.track is not None:
        parts.append(f"track={queue.track.pk}")
    return "&".join(parts)


class ReviewForm(StrictInputForm, forms.Form):
    comments = forms.CharField(
        label="Comments for the learner",
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Markdown. Emailed to the learner with your decision; "
        "required when you request changes.",
    )
    decision = forms.ChoiceField(
        choices=[
            (SubmissionStatus.PASSED, "Pass"),
            (SubmissionStatus.CHANGES_REQUESTED, "Request changes"),
        ],
        error_messages={"required": "Choose a decision: pass or request changes."},
    )


@never_cache
@learner_required
@require_http_methods(["GET", "POST"])
def review(request: HttpRequest, pk: int) -> HttpResponse:
    submission = selectors.submission_for_review(pk=pk)
    if submission is None or not permissions.can_view_submission(request.user, submission):
        raise Http404("No such submission.")
    if permissions.is_owner(request.user, submission):  # their own: the learner's page shows it
        return redirect(
            "track:capstone_submission", slug=submission.track.slug, item=submission.capstone.slug
        )
    form = ReviewForm()
    if request.method == "POST":
        if not permissions.can_review_submission(request.user, submission):
            if submission.status != SubmissionStatus.SUBMITTED:
                messages.error(
                    request,
                    "This submission was already reviewed "
                    f"({submission.get_status_display().lower()}); nothing was changed.",
                )
                return redirect(request.path)
            raise PermissionDenied("You don't review this capstone.")
        form = ReviewForm(request.POST)
        if form.is_valid():
            try:
                reviewed = services.capstone_review(
                    reviewer=request.user,
                    submission=submission,
                    decision=form.cleaned_data["decision"],
                    comments=form.cleaned_data["comments"],
                    via=ReviewVia.REVIEW_PAGE,
                )
            except services.NotAllowed as refusal:
                raise PermissionDenied(str(refusal)) from None
            except services.ServiceError as error:
                form.add_error("comments", str(error))
            else:
                messages.success(request, _reviewed_message(reviewed))
                return redirect(reverse("lead:reviews"))
    return render(
        request,
        "tracker/lead/review.html",
        {
            "submission": submission,
            "capstone": submission.capstone,
            "track": submission.track,
            "constraint_rows": constraint_rows(submission=submission, capstone=submission.capstone),
            "history": selectors.review_history(submission=submission)
            if permissions.can_view_review_history(request.user, submission)
            else None,
            "form": form,
            "can_review": permissions.can_review_submission(request.user, submission),
            "can_request_changes": permissions.can_request_changes(request.user, submission),
            "Status": SubmissionStatus,
        },
        status=400 if form.errors else 200,
    )


def _reviewed_message(submission) -> str:
    name = public_name(submission.learner)
    if submission.status == SubmissionStatus.PASSED:
        return (
            f"Passed “{submission.title}” by {name}: {submission.capstone.points} points "
            "awarded; they were emailed."
        )
    return f"Changes requested on “{submission.title}” by {name}; they were emailed."


class GrantLeadForm(StrictInputForm, forms.Form):
    email = forms.EmailField(
        label="Email address of the new lead",
        max_length=254,
        help_text="The person's account must have confirmed this address.",
    )


@never_cache
@learner_required
@require_http_methods(["GET", "POST"])
def track_leads(request: HttpRequest, slug: str) -> HttpResponse:
    track = get_object_or_404(Track, slug=slug)
    if not permissions.can_view_track(request.user, track):
        raise Http404("No such track.")
    if not permissions.can_view_leads(request.user, track):
        raise PermissionDenied("Only this track's leads and staff can see who leads it.")
    form = GrantLeadForm()
    if request.method == "POST":
        if not permissions.can_manage_leads(request.user, track):
            raise PermissionDenied("Only staff can grant or revoke the track lead role.")
        action = request.POST.get("action")
        if action == "revoke":
            return _revoke(request, track)
        form = GrantLeadForm(request.POST)
        if form.is_valid():
            try:
                lead = services.track_lead_grant_by_email(
                    track=track, email=form.cleaned_data["email"], granted_by=request.user
                )
            except services.ServiceError as error:
                form.add_error("email", str(error))
            else:
                done = "now leads" if lead.newly_granted else "already leads"
                messages.success(request, f"{lead.user.email} {done} {track.title}.")
                return redirect(request.path)
    return render(
        request,
        "tracker/lead/track_leads.html",
        {
            "page": selectors.track_leads_page(track=track),
            "track": track,
            "form": form,
            "can_manage": permissions.can_manage_leads(request.user, track),
        },
        status=400 if form.errors else 200,
    )


def _revoke(request: HttpRequest, track: Track) -> HttpResponse:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(pk=_int_or_none(request.POST.get("user"))).first()
    if user is None:
        messages.error(request, "Choose a lead to revoke.")
        return redirect(request.path)
    try:
        services.track_lead_revoke(track=track, user=user, revoked_by=request.user)
    except services.ServiceError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{user.email} no longer leads {track.title}.")
    return redirect(request.path)
