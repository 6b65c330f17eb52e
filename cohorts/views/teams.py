"""Project teams of a cohort: create, rename, project title and link, members in and out,
disband. Every form answers with the whole teams section (who is free changes everywhere)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from tracker.models import public_name

from .. import services
from ..forms import TeamForm, TeamMemberForm
from ..selectors import manage as selectors
from .access import managed_cohort, status_for

TEMPLATE = "cohorts/teams.html"


def _render(request, cohort, *, create=None, team_forms=None, saved=""):
    page = selectors.teams_page(cohort)
    team_forms = team_forms or {}
    rows = []
    for row in page.teams:
        edit, add = team_forms.get(row.team.pk, (None, None))
        edit = edit or TeamForm(
            initial={
                "name": row.team.name,
                "project_title": row.team.project_title,
                "project_link": row.team.project_link,
            },
            prefix=f"team-{row.team.pk}",
        )
        add = add or TeamMemberForm(choices=page.free_members, prefix=f"add-{row.team.pk}")
        rows.append((row, edit, add))
    create = create or TeamForm(prefix="new")
    forms = [create, *(f for _, edit, add in rows for f in (edit, add))]
    context = {
        "cohort": cohort,
        "rows": rows,
        "create": create,
        "free_count": len(page.free_members),
        # No one free and no one in a team: the cohort has no members yet.
        "anyone_in_a_team": any(row.members for row, _, _ in rows),
        "saved": saved,
    }
    template = f"{TEMPLATE}#teams" if request.htmx else TEMPLATE
    return render(request, template, context, status=status_for(request, forms))


def _done(request, cohort, message: str, *, level=messages.SUCCESS, at: str = "") -> HttpResponse:
    """Without HTMX, back to the page; a form posted to its section's anchor comes back there
    (a redirect without an anchor keeps the one posted to), unless `at` names another place."""
    if request.htmx:
        return _render(request, cohort, saved=message)
    messages.add_message(request, level, message)
    return redirect(reverse("cohorts:teams", args=[cohort.slug]) + (f"#{at}" if at else ""))


def _team(cohort, pk: int):
    team = selectors.team_of(cohort, pk)
    if team is None:
        raise Http404("No such team.")
    return team


@login_required
@require_http_methods(["GET", "POST"])
def cohort_teams(request: HttpRequest, slug: str) -> HttpResponse:
    """GET: the teams; POST: a new team."""
    cohort = managed_cohort(request, slug)
    if request.method == "GET":
        return _render(request, cohort)
    form = TeamForm(request.POST, prefix="new")
    if form.is_valid():
        try:
            team = services.team_create(by=request.user, cohort=cohort, **form.cleaned_data)
        except services.CohortInvalid as refused:
            form.add_service_errors(refused.errors)
        else:
            return _done(
                request,
                cohort,
                f"Created the team “{team.name}”: now add its members.",
                at=f"team-{team.pk}-title",  # not the emptied "New team" form below it
            )
    return _render(request, cohort, create=form)


@login_required
@require_http_methods(["GET", "POST"])
def teams_update(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """POST saves the team. GET (this address reloaded after a refused post) is the page."""
    cohort = managed_cohort(request, slug)
    team = _team(cohort, pk)
    if request.method == "GET":
        return _render(request, cohort)
    form = TeamForm(request.POST, prefix=f"team-{team.pk}")
    if form.is_valid():
        try:
            services.team_update(by=request.user, team=team, **form.cleaned_data)
        except services.CohortInvalid as refused:
            form.add_service_errors(refused.errors)
        else:
            return _done(request, cohort, f"Saved the team “{team.name}”.")
    return _render(request, cohort, team_forms={team.pk: (form, None)})


@login_required
@require_POST
def teams_delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    cohort = managed_cohort(request, slug)
    team = selectors.team_of(cohort, pk)
    if team is None:  # a second click, or another admin was first
        return _done(request, cohort, "That team no longer exists.", level=messages.INFO)
    services.team_delete(by=request.user, team=team)
    return _done(
        request, cohort, f"Disbanded the team “{team.name}”; its members stay in the cohort."
    )


@login_required
@require_http_methods(["GET", "POST"])
def teams_member_add(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """POST adds a member to the team. GET is the teams page."""
    cohort = managed_cohort(request, slug)
    team = _team(cohort, pk)
    if request.method == "GET":
        return _render(request, cohort)
    page = selectors.teams_page(cohort)
    form = TeamMemberForm(request.POST, choices=page.free_members, prefix=f"add-{team.pk}")
    if form.is_valid():
        user = get_user_model().objects.select_related("profile").get(pk=form.cleaned_data["user"])
        try:
            services.team_member_add(by=request.user, team=team, user=user)
        except services.CohortInvalid as refused:
            form.add_service_errors(refused.errors)
        else:
            return _done(request, cohort, f"{public_name(user)} joined the team “{team.name}”.")
    return _render(request, cohort, team_forms={team.pk: (None, form)})


@login_required
@require_POST
def teams_member_remove(request: HttpRequest, slug: str, pk: int, user_id: int) -> HttpResponse:
    cohort = managed_cohort(request, slug)
    team = _team(cohort, pk)
    user = get_user_model().objects.filter(pk=user_id).select_related("profile").first()
    if user is None:
        raise Http404("No such person.")
    if not team.team_memberships.filter(user=user).exists():  # a second click
        return _done(
            request, cohort, f"{public_name(user)} is not in team {team.name}.", level=messages.INFO
        )
    services.team_member_remove(by=request.user, team=team, user=user)
    return _done(request, cohort, f"{public_name(user)} left team {team.name}.")
