"""Joining a cohort: /join/<code>/ shows the cohort and a "Join" button (anonymous people sign
up or log in and come back joined: tracker/enrol_intent.py), clear pages for codes that no longer work; /join/ takes a
typed code."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from tracker import enrol_intent, permissions

from .. import services
from ..forms import JoinCodeForm
from ..models import CohortRole
from ..selectors import manage as selectors
from .access import cohort_home_url, in_viewer_time_zone


def _status_for(problem) -> int:
    if problem is None:
        return 200
    return 404 if problem.problem is services.InviteProblem.UNKNOWN else 410


@require_http_methods(["GET", "POST"])
@in_viewer_time_zone
def join(request: HttpRequest, code: str) -> HttpResponse:
    normalised = services.normalise_code(code)
    if normalised != code:  # typed by hand: show the canonical address
        return (
            redirect("cohorts:join", code=normalised)
            if normalised
            else redirect("cohorts:join_code")
        )
    if request.method == "POST":
        if not request.user.is_authenticated and not request.htmx:
            return _join_after_log_in_or_sign_up(request, code)
        return _join(request, code)
    invite = selectors.invite_for_code(code)
    problem = services.invite_problem(invite, now=timezone.now())
    cohort = invite.cohort if invite else None
    context = {
        "invite": invite,
        "cohort": cohort,
        "problem": problem,
        "already": cohort is not None and _already_in(request.user, cohort),
        "home_url": cohort_home_url(cohort) if cohort else "",
    }
    status = 200 if context["already"] else _status_for(problem)
    return render(request, "cohorts/join.html", context, status=status)


def _already_in(user, cohort) -> str:
    if permissions.is_cohort_member(user, cohort):
        return CohortRole.MEMBER
    if permissions.is_cohort_admin(user, cohort):
        return CohortRole.ADMIN
    return ""


@login_required
def _join(request: HttpRequest, code: str) -> HttpResponse:
    try:
        membership = services.cohort_join(user=request.user, code=code)
    except services.InviteUnusable:
        return redirect("cohorts:join", code=code)  # the page says what is wrong
    except services.ServiceError as refused:
        messages.error(request, str(refused))
        return redirect("cohorts:join", code=code)
    return _welcome(request, membership)


def _welcome(request: HttpRequest, membership) -> HttpResponse:
    cohort = membership.cohort
    messages.success(
        request,
        f"Welcome to {cohort.name}! You are enrolled in its tracks; anything you had already "
        "done there still counts.",
    )
    return redirect(cohort_home_url(cohort))


def _join_after_log_in_or_sign_up(request: HttpRequest, code: str) -> HttpResponse:
    """A visitor's "Log in to join" / "Sign up to join": remember the press, then log in or
    sign up and come back to the invite, joined (tracker/enrol_intent.py)."""
    here = reverse("cohorts:join", args=[code])
    invite = selectors.invite_for_code(code)
    if invite is None or services.invite_problem(invite, now=timezone.now()):
        return redirect(here)  # the invite page says what is wrong
    signing_up = request.POST.get("account") == "new"
    enrol_intent.remember_join(request, code=code, path=here)
    messages.info(request, enrol_intent.join_hint(invite.cohort.name, signing_up=signing_up))
    where = reverse("account_signup" if signing_up else "account_login")
    return redirect(f"{where}?{urlencode({'next': here})}")


def join_after_log_in(request: HttpRequest, *, user, code: str, response) -> HttpResponse:
    """The log-in that followed a press of "... to join" on this invite: join, and go to the
    cohort; when the invite no longer lets anyone in, its page (`response`) says why."""
    try:
        membership = services.cohort_join(user=user, code=code)
    except services.InviteUnusable:
        return response
    except services.ServiceError as refused:
        messages.error(request, str(refused))
        return response
    return _welcome(request, membership)


@require_http_methods(["GET", "POST"])
def join_code(request: HttpRequest) -> HttpResponse:
    """Type a code (GET with ?code= works too, so the form works from anywhere)."""
    data = (
        request.POST
        if request.method == "POST"
        else (request.GET if "code" in request.GET else None)
    )
    form = JoinCodeForm(data)
    if data is not None and form.is_valid():
        code = services.normalise_code(form.cleaned_data["code"])
        if not code:
            form.add_error("code", "Type the letters and digits of your invite code.")
        elif selectors.invite_code_known(code):
            return redirect("cohorts:join", code=code)
        else:  # asked here, next to what was typed, so one wrong character is not all retyped
            form.add_error(
                "code",
                f"No invite has the code {code}. Check it against your invite, or ask whoever "
                "sent it to you.",
            )
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "cohorts/join_code.html", {"form": form}, status=status)
