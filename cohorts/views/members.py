"""A cohort's members (joined when, with which invite; remove with confirmation) and its
admins (add a co-admin by email, remove one)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tracker.models import public_name

from .. import services
from ..forms import AdminAddForm
from ..models import CohortRole
from ..selectors import manage as selectors
from .access import in_viewer_time_zone, managed_cohort, status_for

TEMPLATE = "cohorts/members.html"


def _render(request, cohort, *, admin_form=None, saved="", partial=None):
    form = admin_form or AdminAddForm()
    context = {
        "cohort": cohort,
        "page": selectors.members_page(cohort, page=request.GET.get("page")),
        "admin_form": form,
        "saved": saved,
    }
    template = f"{TEMPLATE}#{partial}" if partial and request.htmx else TEMPLATE
    return render(request, template, context, status=status_for(request, form))


@login_required
@require_GET
@in_viewer_time_zone
def cohort_members(request: HttpRequest, slug: str) -> HttpResponse:
    return _render(request, managed_cohort(request, slug))


@login_required
@require_http_methods(["GET", "POST"])
@in_viewer_time_zone
def members_remove(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """GET asks "are you sure?"; POST removes."""
    cohort = managed_cohort(request, slug)
    membership = selectors.membership_of(cohort, pk, role=CohortRole.MEMBER)
    if membership is None:
        raise Http404("No such member.")
    if request.method == "GET":
        return render(
            request, "cohorts/member_remove.html", {"cohort": cohort, "membership": membership}
        )
    name = public_name(membership.user)
    if membership.removed_at is not None:
        messages.info(request, f"{name} had already been removed from {cohort.name}.")
    else:
        services.member_remove(by=request.user, membership=membership)
        messages.success(
            request,
            f"{name} is no longer a member of {cohort.name}. "
            "Their progress in the tracks stays theirs.",
        )
    return redirect("cohorts:members", slug=cohort.slug)


@login_required
@require_http_methods(["GET", "POST"])
@in_viewer_time_zone
def members_admin_add(request: HttpRequest, slug: str) -> HttpResponse:
    """POST adds a co-admin. GET (this address reloaded after a refused post) is the page."""
    cohort = managed_cohort(request, slug)
    if request.method == "GET":
        return _render(request, cohort)
    form = AdminAddForm(request.POST)
    if form.is_valid():
        try:
            membership = services.cohort_admin_add(
                by=request.user, cohort=cohort, user_email=form.cleaned_data["email"]
            )
        except services.CohortInvalid as refused:
            form.add_service_errors(refused.errors)
        else:
            done = f"{public_name(membership.user)} is now an admin of {cohort.name}."
            if request.htmx:
                return _render(request, cohort, saved=done, partial="admins")
            messages.success(request, done)
            return redirect("cohorts:members", slug=cohort.slug)
    return _render(request, cohort, admin_form=form, partial="admins")


@login_required
@require_POST
@in_viewer_time_zone
def members_admin_remove(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    cohort = managed_cohort(request, slug)
    membership = selectors.membership_of(cohort, pk, role=CohortRole.ADMIN)
    if membership is None:
        raise Http404("No such admin.")
    if membership.removed_at is not None:
        messages.info(request, f"{public_name(membership.user)} no longer runs {cohort.name}.")
        return redirect("cohorts:members", slug=cohort.slug)
    try:
        services.cohort_admin_remove(by=request.user, membership=membership)
    except services.CohortInvalid as refused:
        messages.error(request, str(refused))
        return redirect("cohorts:members", slug=cohort.slug)
    messages.success(request, f"{public_name(membership.user)} no longer runs {cohort.name}.")
    if membership.user_id == request.user.pk and not request.user.is_staff:
        return redirect("cohorts:list")  # their own role ended: the page is not theirs now
    return redirect("cohorts:members", slug=cohort.slug)
