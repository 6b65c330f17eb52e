"""Who gets which answer on a cohort page (tracker.permissions decides): outsiders 404, members
on an admin page 403, anonymous people the log-in redirect (login_required on each view)."""

from __future__ import annotations

from datetime import date, datetime
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from tracker import permissions
from tracker.selectors import learner_zone
from tracker.services import profile_get_or_create

from ..models import Cohort
from ..selectors import manage as selectors


def managed_cohort(request: HttpRequest, slug: str, *, with_tracks: bool = False) -> Cohort:
    find = selectors.cohort_with_tracks if with_tracks else selectors.cohort_by_slug
    cohort = find(slug)
    if cohort is None or not permissions.can_view_cohort(request.user, cohort):
        raise Http404("No such cohort.")
    if not permissions.can_manage_cohort(request.user, cohort):
        raise PermissionDenied("Only the cohort's admins can open this page.")
    return cohort


def cohort_home_url(cohort: Cohort) -> str:
    """Where a member goes after joining: the cohort's member page, or the cohort list on a
    site without it."""
    try:
        return reverse("cohorts:home", args=[cohort.slug])
    except NoReverseMatch:
        return reverse("cohorts:list")


def cohort_main_url(cohort: Cohort, *, runs_it: bool) -> str:
    """The page a cohort's name links to: its dashboard for those who run it, its member page
    for members (the settings page / the list on a site without those pages)."""
    name, fallback = ("cohorts:dashboard", "cohorts:settings") if runs_it else ("cohorts:home", "")
    try:
        return reverse(name, args=[cohort.slug])
    except NoReverseMatch:
        return reverse(fallback, args=[cohort.slug]) if fallback else reverse("cohorts:list")


def status_for(request: HttpRequest, form_or_forms) -> int:
    """400 for a page re-shown with errors; 200 for an HTMX fragment (htmx swaps only
    successful answers, and the fragment carries the messages)."""
    forms = form_or_forms if isinstance(form_or_forms, list | tuple) else [form_or_forms]
    refused = any(form.is_bound and not form.is_valid() for form in forms)
    return 400 if refused and not request.htmx else 200


def cohort_for_viewer(user, slug: str) -> Cohort:
    cohort = get_object_or_404(Cohort, slug=slug)
    if not permissions.can_view_cohort(user, cohort):
        raise Http404("No such cohort.")
    return cohort


def cohort_for_manager(user, slug: str) -> Cohort:
    """For admin pages: a member knows the cohort exists, so they get 403, not 404."""
    cohort = cohort_for_viewer(user, slug)
    if not permissions.can_manage_cohort(user, cohort):
        raise PermissionDenied("Only this cohort's admins see this page.")
    return cohort


def in_viewer_time_zone(view):
    """Dates and times on the page in the viewer's own time zone (their profile's), as their
    `/me/` page shows them. The profile stays on `request.user`, so the view's own reads of it
    (`viewer_today`, the header) run no further query."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not request.user.is_authenticated:
            return view(request, *args, **kwargs)
        zone = learner_zone(profile_get_or_create(user=request.user))
        with timezone.override(zone):
            return view(request, *args, **kwargs)

    return wrapper


def viewer_today(user, now: datetime) -> date:
    """The day it is where the viewer lives (their profile's time zone): the cohort week, pace
    and due dates they see on a cohort page match their own `/me/` page and weekly nudge. The
    profile is kept on `user`, so the page header reads it without another query."""
    return now.astimezone(learner_zone(profile_get_or_create(user=user))).date()
