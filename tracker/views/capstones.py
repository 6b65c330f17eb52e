"""The capstone page: the brief, and the learner's submission (draft, submit, resubmit)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from curriculum.models import ReviewMode

from .. import permissions, selectors, services
from ..forms_capstones import CapstoneSubmissionForm
from ..models import SubmissionStatus


@login_required
@require_http_methods(["GET", "POST"])
def submission(request: HttpRequest, slug: str, item: str) -> HttpResponse:
    page = selectors.capstone_page(learner=request.user, track_slug=slug, capstone_slug=item)
    if page is None or not permissions.can_view_capstone(
        request.user, page.capstone, page.submission
    ):
        raise Http404("No such capstone in this track.")
    capstone = page.capstone
    if request.method == "GET":
        form = CapstoneSubmissionForm(capstone=capstone, submission=page.submission)
        return _render(request, page, form)

    if page.removed:  # read-only: the service would refuse it too, whatever the fields say
        messages.error(request, services.capstone_removed_message(capstone))
        return redirect(request.path)
    form = CapstoneSubmissionForm(request.POST, capstone=capstone)
    if not form.is_valid():
        return _render(request, page, form, status=400)
    save = services.capstone_submit if form.submitting else services.capstone_submission_save
    try:
        saved = save(learner=request.user, capstone=capstone, **form.service_kwargs())
    except services.NotEnrolled:
        messages.error(request, f"Enrol in {page.track.title} before you submit its capstone.")
        return redirect(request.path)
    except services.SubmissionInvalid as exc:
        form.add_service_errors(exc.errors)
        return _render(request, page, form, status=400)
    except services.ServiceError as exc:
        messages.error(request, str(exc))
        return redirect(request.path)
    messages.success(request, _success_message(saved, capstone))
    return redirect(request.path)


def _success_message(saved, capstone) -> str:
    if saved.status == SubmissionStatus.PASSED:
        return f"Passed: you vouched for your capstone and earned {capstone.points} points."
    if saved.status == SubmissionStatus.SUBMITTED:
        return "Submitted for review. You'll get an email when it has been reviewed."
    return "Draft saved. Submit it for review when it's ready."


def _render(request, page, form, status: int = 200) -> HttpResponse:
    context = {
        "page": page,
        "capstone": page.capstone,
        "track": page.track,
        "submission": page.submission,
        "form": form,
        "ticked": form.ticked(),
        "review_self": page.capstone.review == ReviewMode.SELF,
        "review_peer": page.capstone.review == ReviewMode.PEER,
        "Status": SubmissionStatus,
        "zone": services.profile_get_or_create(user=request.user).time_zone,
    }
    return render(request, "tracker/capstone_submission.html", context, status=status)
