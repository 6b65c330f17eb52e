"""The cohort list, a new cohort, and a cohort's settings (details, phases, pace plan)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tracker import permissions

from .. import services
from ..forms import CohortArchiveForm, CohortDetailsForm, PacePlanForm, PhaseFormSet
from ..selectors import manage as selectors
from .access import cohort_main_url, in_viewer_time_zone, managed_cohort, status_for

SETTINGS = "cohorts/settings.html"


@login_required
@require_GET
def cohort_list(request: HttpRequest) -> HttpResponse:
    admin_ids = permissions.role_facts(request.user).admin_cohort_ids
    cohorts = list(selectors.cohorts_for(request.user))
    for cohort in cohorts:
        cohort.runs_it = cohort.pk in admin_ids
        cohort.link = cohort_main_url(
            cohort, runs_it=cohort.runs_it or permissions.is_staff(request.user)
        )
    return render(
        request,
        "cohorts/list.html",
        {"cohorts": cohorts, "can_create": permissions.can_create_cohort(request.user)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def cohort_new(request: HttpRequest) -> HttpResponse:
    if not permissions.can_create_cohort(request.user):
        raise PermissionDenied("Staff and cohort admins create cohorts.")
    form = CohortDetailsForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        details = form.service_kwargs()
        try:
            cohort = services.cohort_create(by=request.user, **details)
        except services.CohortInvalid as refused:
            sent_twice = "slug" in refused.errors and selectors.cohort_just_created(
                by=request.user,
                **{key: details[key] for key in ("slug", "name", "starts_on", "ends_on")},
            )
            if sent_twice:  # the first copy made it: say so, as the first answer would have
                messages.success(request, f"{sent_twice.name} is created.")
                return redirect("cohorts:settings", slug=sent_twice.slug)
            form.add_service_errors(refused.errors)
        else:
            messages.success(
                request,
                f"{cohort.name} is created. Check its pace plan, add phases, then invite members.",
            )
            return redirect("cohorts:settings", slug=cohort.slug)
    return render(request, "cohorts/new.html", {"form": form}, status=status_for(request, form))


def _phase_initial(cohort) -> list[dict]:
    return [
        {"name": p.name, "starts_on": p.starts_on, "ends_on": p.ends_on}
        for p in cohort.phases.all()
    ]


def _details_initial(cohort) -> dict:
    return {
        "name": cohort.name,
        "slug": cohort.slug,
        "description": cohort.description,
        "starts_on": cohort.starts_on,
        "ends_on": cohort.ends_on,
        "tracks": [link.track for link in cohort.cohort_tracks.all()],
    }


def _render_settings(
    request,
    cohort,
    *,
    details=None,
    phases=None,
    plan=None,
    archive=None,
    partial=None,
    saved="",
    confirm_reset=False,
    focus_reset=False,
):
    """The whole page, or (for HTMX) the one section `partial` that was posted; `saved` is the
    confirmation shown in that section; `confirm_reset` asks before the pace plan's own target
    weeks are dropped."""
    rows = selectors.pace_plan_rows(cohort)
    own_weeks = sum(1 for row in rows if row.target_week != row.default_week)
    details = details or CohortDetailsForm(initial=_details_initial(cohort), cohort=cohort)
    phases = phases or PhaseFormSet(initial=_phase_initial(cohort), prefix="phases")
    plan = plan or PacePlanForm(rows=rows)
    archive = archive or CohortArchiveForm(cohort=cohort)
    context = {
        "cohort": cohort,
        "details": details,
        "phases": phases,
        "plan": plan,
        "tracks": [link.track for link in cohort.cohort_tracks.all()],
        "saved": saved,
        "saved_section": partial,
        "reset_weeks": own_weeks if confirm_reset else 0,
        "focus_reset": focus_reset,
        "archive": archive,
        "can_archive": permissions.can_archive_cohort(request.user, cohort),
        "can_restore": permissions.can_restore_cohort(request.user, cohort),
    }
    template = f"{SETTINGS}#{partial}" if partial and request.htmx else SETTINGS
    return render(
        request, template, context, status=status_for(request, [details, phases, plan, archive])
    )


@login_required
@require_http_methods(["GET", "POST"])
@in_viewer_time_zone
def cohort_settings(request: HttpRequest, slug: str) -> HttpResponse:
    """The details form posts here; phases and the pace plan post to their own actions."""
    cohort = managed_cohort(request, slug, with_tracks=True)
    if request.method == "GET":
        return _render_settings(
            request,
            cohort,
            confirm_reset="confirm-reset" in request.GET,
            focus_reset="kept" in request.GET,  # back from the reset question: where it was
        )
    form = CohortDetailsForm(request.POST, cohort=cohort)
    if form.is_valid():
        try:
            cohort = services.cohort_update(by=request.user, cohort=cohort, **form.service_kwargs())
        except services.CohortInvalid as refused:
            form.add_service_errors(refused.errors)
        else:
            messages.success(request, f"{cohort.name}'s details are saved.")
            return redirect("cohorts:settings", slug=cohort.slug)
    return _render_settings(request, cohort, details=form)


@login_required
@require_http_methods(["GET", "POST"])
@in_viewer_time_zone
def settings_phases(request: HttpRequest, slug: str) -> HttpResponse:
    """POST saves the phases. GET (this address reloaded after a refused post) is the page."""
    cohort = managed_cohort(request, slug, with_tracks=True)
    if request.method == "GET":
        return _render_settings(request, cohort)
    formset = PhaseFormSet(request.POST, prefix="phases")
    if formset.is_valid():
        rows = formset.phase_rows()
        phases = [
            services.PhaseInput(
                name=form.cleaned_data["name"],
                starts_on=form.cleaned_data["starts_on"],
                ends_on=form.cleaned_data["ends_on"],
            )
            for _, form in rows
        ]
        try:
            services.cohort_phases_set(by=request.user, cohort=cohort, phases=phases)
        except services.CohortInvalid as refused:
            _phase_errors(formset, rows, refused.errors)
        else:
            done = "Phases saved." if phases else "The cohort has no phases now."
            if request.htmx:
                cohort = selectors.cohort_with_tracks(cohort.slug)
                return _render_settings(request, cohort, partial="phases", saved=done)
            messages.success(request, done)
            return redirect(reverse("cohorts:settings", args=[cohort.slug]) + "#phases")
    return _render_settings(request, cohort, phases=formset, partial="phases")


def _phase_errors(formset, rows, errors) -> None:
    """Put `phases.<n>.<field>` messages on the n-th kept row's field."""
    for key, messages_ in errors.items():
        parts = (key or "").split(".")
        if (
            len(parts) == 3
            and parts[1].isascii()
            and parts[1].isdigit()
            and int(parts[1]) < len(rows)
        ):
            form = rows[int(parts[1])][1]
            for message in messages_:
                form.add_error(parts[2] if parts[2] in form.fields else None, message)
        else:
            formset._non_form_errors = formset.error_class([*formset.non_form_errors(), *messages_])


@login_required
@require_http_methods(["GET", "POST"])
@in_viewer_time_zone
def settings_targets(request: HttpRequest, slug: str) -> HttpResponse:
    """POST saves (or resets) the pace plan. GET is the settings page."""
    cohort = managed_cohort(request, slug, with_tracks=True)
    if request.method == "GET":
        return _render_settings(request, cohort)
    here = reverse("cohorts:settings", args=[cohort.slug]) + "#pace-plan"
    action = request.POST.get("action")
    if action == "reset":  # asks first: the admin's own target weeks would be gone
        rows = selectors.pace_plan_rows(cohort)
        if any(row.target_week != row.default_week for row in rows):
            if request.htmx:
                return _render_settings(request, cohort, partial="pace-plan", confirm_reset=True)
            return redirect(
                reverse("cohorts:settings", args=[cohort.slug]) + "?confirm-reset#pace-plan"
            )
        services.cohort_targets_reset(by=request.user, cohort=cohort)  # drops nothing
        done = "The pace plan already follows the modules' own pacing."
    elif action == "reset-confirmed":
        services.cohort_targets_reset(by=request.user, cohort=cohort)
        done = "The pace plan is back to the modules' own pacing."
    else:
        form = PacePlanForm(request.POST, rows=selectors.pace_plan_rows(cohort))
        if not form.is_valid():
            return _render_settings(request, cohort, plan=form, partial="pace-plan")
        try:
            services.cohort_targets_set(
                by=request.user, cohort=cohort, target_weeks=form.target_weeks()
            )
        except services.CohortInvalid as refused:
            form.add_service_errors(refused.errors)
            return _render_settings(request, cohort, plan=form, partial="pace-plan")
        done = "Pace plan saved."
    if request.htmx:
        return _render_settings(request, cohort, partial="pace-plan", saved=done)
    messages.success(request, done)
    return redirect(here)


@login_required
@require_POST
@in_viewer_time_zone
def settings_archive(request: HttpRequest, slug: str) -> HttpResponse:
    """Archive the cohort once its admin ticked that it is over; then the cohort list, where
    (for its admins) it is gone."""
    archived = selectors.cohort_by_slug(slug)
    if (
        archived is not None
        and permissions.ran_archived_cohort(request.user, archived)
        and not permissions.can_manage_cohort(request.user, archived)  # staff still manage it
    ):
        messages.info(request, f"{archived.name} is archived already.")
        return redirect(reverse("cohorts:list") + "#main")  # not the form's #archive (below)
    cohort = managed_cohort(request, slug, with_tracks=True)
    form = CohortArchiveForm(request.POST, cohort=cohort)
    if not form.is_valid():
        return _render_settings(request, cohort, archive=form)
    try:
        services.cohort_archive(by=request.user, cohort=cohort)
    except services.ServiceError as refused:
        form.add_error(None, str(refused))
        return _render_settings(request, cohort, archive=form)
    messages.success(
        request,
        f"{cohort.name} is archived: its members and admins no longer see it, and its invites "
        "let nobody in. Progress, points and certificates stay. Staff can restore it.",
    )
    # At the list's content, where this message is: a redirect without an anchor would keep the
    # form's #archive (posted to so that a refusal opens at the form), which the list has not.
    return redirect(reverse("cohorts:list") + "#main")


@login_required
@require_POST
@in_viewer_time_zone
def settings_restore(request: HttpRequest, slug: str) -> HttpResponse:
    cohort = managed_cohort(request, slug)
    if cohort.archived_at is None:  # restored already (another tab): nothing to do
        return redirect("cohorts:settings", slug=cohort.slug)
    if not permissions.can_restore_cohort(request.user, cohort):
        raise PermissionDenied("Only staff can restore an archived cohort.")
    services.cohort_restore(by=request.user, cohort=cohort)
    messages.success(request, f"{cohort.name} is restored: its members and admins see it again.")
    return redirect("cohorts:settings", slug=cohort.slug)
