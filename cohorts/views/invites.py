"""Invite links and codes of a cohort: create, list (link to copy, uses, expiry), revoke."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from .. import services
from ..forms import InviteForm
from ..models import CohortInvite
from ..selectors import manage as selectors
from .access import in_viewer_time_zone, managed_cohort, status_for

TEMPLATE = "cohorts/invites.html"


def _render(request, cohort, *, form=None, saved=""):
    now = timezone.now()
    rows = [
        (invite, services.invite_problem(invite, now=now))
        for invite in selectors.invites_of(cohort)
    ]
    context = {
        "cohort": cohort,
        "form": form or InviteForm(),
        "rows": rows,
        "site_url": settings.SITE_URL,
        "saved": saved,
    }
    template = f"{TEMPLATE}#invites" if request.htmx else TEMPLATE
    return render(request, template, context, status=status_for(request, context["form"]))


@login_required
@require_http_methods(["GET", "POST"])
@in_viewer_time_zone
def cohort_invites(request: HttpRequest, slug: str) -> HttpResponse:
    cohort = managed_cohort(request, slug)
    if request.method == "GET":
        return _render(request, cohort)
    form = InviteForm(request.POST)
    if form.is_valid():
        days = form.cleaned_data["expires_in_days"]
        try:
            invite = services.invite_create(
                by=request.user,
                cohort=cohort,
                expires_at=timezone.now() + timedelta(days=days) if days else None,
                max_uses=form.cleaned_data["max_uses"],
            )
        except services.CohortInvalid as refused:
            form.add_service_errors(refused.errors)
        else:
            done = f"New invite {invite.code} created: share its link or its code."
            if request.htmx:
                return _render(request, cohort, saved=done)
            messages.success(request, done)
            return redirect("cohorts:invites", slug=cohort.slug)
    return _render(request, cohort, form=form)


@login_required
@require_POST
@in_viewer_time_zone
def invites_revoke(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    cohort = managed_cohort(request, slug)
    invite = CohortInvite.objects.filter(cohort=cohort, pk=pk).select_related("cohort").first()
    if invite is None:
        raise Http404("No such invite.")
    services.invite_revoke(by=request.user, invite=invite)
    done = f"Invite {invite.code} is revoked: nobody else can join with it."
    if request.htmx:
        return _render(request, cohort, saved=done)
    messages.success(request, done)
    return redirect("cohorts:invites", slug=cohort.slug)
