"""Joining a cohort: /join/<code>/ shows the cohort and a "Join" button (anonymous people sign
up or log in and come back here), clear pages for codes that no longer work; /join/ takes a
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

from tracker import permissions

from .. import services
from ..forms import JoinCodeForm
from ..models import CohortRole
from ..selectors import manage as selectors
from .access import cohort_home_url


def _status_for(problem) -> int:
    if problem is None:
        return 200
    return 404 if problem.problem is services.InviteProblem.UNKNOWN else 410


@require_http_methods(["GET", "POST"])
def join(request: HttpRequest, code: str) -> HttpResponse:
    normalised = services.normalise_code(code)
    if normalised != code:  # typed by hand: show the canonical address
        return (
            redirect("cohorts:join", code=normalised)
            if normalised
            else redirect("cohorts:join_code")
        )
    if request.method == "POST":
        return _join(request, code)
    invite = selectors.invite_for_code(code)
    problem = services.invite_problem(invite, now=timezone.now())
    cohort = invite.cohort if invite else None
    here = reverse("cohorts:join", args=[code])
    context = {
        "invite": invite,
        "cohort": cohort,
        "problem": problem,
        "already": cohort is not None and _already_in(request.user, cohort),
        "home_url": cohort_home_url(cohort) if cohort else "",
        "login_url": f"{reverse('account_login')}?{urlencode({'next': here})}",
        "signup_url": f"{reverse('account_signup')}?{urlencode({'next': here})}",
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
    cohort = membership.cohort
    messages.success(
        request,
        f"Welcome to {cohort.name}! You are enrolled in its tracks; anything you had already "
        "done there still counts.",
    )
    return redirect(cohort_home_url(cohort))


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
