"""Track-page actions: enrol, leave, and the one-click status control.

Every action is a plain form POST that redirects back to the track page; with HTMX the status
change answers with the resource row plus out-of-band updates of the progress blocks, the
header points and the track's message area.
"""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST
from django_htmx.http import reswap

from curriculum.models import Resource, Track
from curriculum.structure import TrackStructure, structure_of
from ops.safety import same_site_path

from .. import enrol_intent, selectors, services
from ..models import ProgressStatus, ResourceNote
from ..sql import Statement, model_columns

TRACK_TEMPLATE = "curriculum/track_detail.html"


def learner_required(view):
    """`login_required`, except that an HTMX request from a logged-out browser (an expired
    session) sends the whole page to the log-in form instead of swapping it into a fragment."""
    protected = login_required(view)

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.htmx and not request.user.is_authenticated:
            back_to = request.htmx.current_url_abs_path or request.get_full_path()
            response = HttpResponse("Please log in again.", status=401)
            response["HX-Redirect"] = redirect_to_login(back_to)["Location"]
            return response
        return protected(request, *args, **kwargs)

    return wrapper


def not_enrolled_answer(request: HttpRequest, refusal: services.NotEnrolled) -> HttpResponse:
    """The answer when a service refused because the learner is not enrolled: back to the
    track page, which shows the message and the Enrol button."""
    message = str(refusal)
    track_url = refusal.track.get_absolute_url()
    messages.error(request, message)
    if request.htmx:
        # htmx does not swap a 403; send the browser to the page that shows the message.
        response = HttpResponse(message, status=403)
        response["HX-Redirect"] = track_url
        return response
    return redirect(track_url)


def resource_anchor(resource: Resource) -> str:
    """Where the resource's row is shown (its module may load only when asked for)."""
    structure = _structure(resource)
    node = structure.resource(resource.pk)
    if node is None:  # archived: its track page, without an anchor that is gone
        return structure.urls.page
    return selectors.resource_page_url(structure, node)


def _structure(resource: Resource) -> TrackStructure:
    """The resource's track structure (cached; the track row came with the resource)."""
    return structure_of(resource.track)


# Every status click starts here, so it is written out (tracker.sql): the ORM's compiling of
# the note's filtered join cost several times what PostgreSQL took to answer.
_RESOURCE_COLUMNS = model_columns(Resource, "resource")
_RESOURCE_WITH_NOTE = Statement(
    f"""
SELECT {_RESOURCE_COLUMNS}, track.title AS track_title, track.structure_version AS track_version,
       note.body AS note_body, note.body_html AS note_body_html, note.revisit AS note_revisit
  FROM {{resource}} resource
  JOIN {{track}} track ON track.id = resource.track_id
  LEFT JOIN {{note}} note ON note.resource_id = resource.id AND note.learner_id = %(learner)s
 WHERE track.slug = %(slug)s AND track.archived_at IS NULL AND resource.slug = %(item)s
""",
    resource=Resource,
    track=Track,
    note=ResourceNote,
)
_TRACK_FIELDS = [field.attname for field in Track._meta.concrete_fields]


def resource_with_note(*, learner, slug: str, item: str) -> Resource:
    """The resource `item` of the active track `slug` with its track row (the fields a status
    change reads; any other is loaded if asked for) and the learner's note on it
    (`note_state`): one query (404 when absent)."""
    found = _RESOURCE_WITH_NOTE.instances(
        Resource, {"learner": learner.pk, "slug": slug, "item": item}
    )
    if not found:
        raise Http404("No such resource in this track.")
    resource = found[0]
    known = {
        "id": resource.track_id,
        "slug": slug,
        "title": resource.track_title,
        "structure_version": resource.track_version,
        "archived_at": None,
    }
    # from_db takes the values in the model's field order; the others load if asked for.
    names = [name for name in _TRACK_FIELDS if name in known]
    resource.track = Track.from_db(resource._state.db, names, [known[n] for n in names])
    resource.note_state = selectors.NoteState(
        resource.note_body or "", resource.note_body_html or "", bool(resource.note_revisit)
    )
    return resource


def enrol(request: HttpRequest, slug: str) -> HttpResponse:
    if request.method == "POST" and not request.user.is_authenticated and not request.htmx:
        return _enrol_after_log_in(request, slug)
    return _enrol(request, slug)


@learner_required
@require_POST
def _enrol(request: HttpRequest, slug: str) -> HttpResponse:
    track = get_object_or_404(Track, slug=slug)
    try:
        services.enrolment_join(learner=request.user, track=track)
    except services.ServiceError as error:
        messages.error(request, str(error))
        return redirect("home")
    messages.success(request, enrol_intent.enrolled_message(track))
    return redirect(safe_next(request) or track.get_absolute_url())


def _enrol_after_log_in(request: HttpRequest, slug: str) -> HttpResponse:
    """A visitor's "Log in to enrol" / "Sign up and enrol": remember the press, then log in or
    sign up and come back to the track page, enrolled (tracker/enrol_intent.py)."""
    track = get_object_or_404(Track, slug=slug)
    if track.archived_at is not None:
        messages.error(request, f"The track '{track.title}' is archived and takes no new learners.")
        return redirect("home")
    signing_up = request.POST.get("account") == "new"
    enrol_intent.remember(request, track=track)
    messages.info(request, enrol_intent.hint(track, signing_up=signing_up))
    where = reverse("account_signup" if signing_up else "account_login")
    return redirect(f"{where}?{urlencode({'next': track.get_absolute_url()})}")


def safe_next(request: HttpRequest) -> str | None:
    """The form's `next` when it is a path on this site (a capstone page, say)."""
    return same_site_path(request, request.POST.get("next", ""))


@learner_required
@require_POST
def leave(request: HttpRequest, slug: str) -> HttpResponse:
    track = get_object_or_404(Track, slug=slug)
    services.enrolment_leave(learner=request.user, track=track)
    messages.success(
        request,
        f"You left {track.title}. Your progress, notes and points are kept if you enrol again.",
    )
    if track.archived_at is not None:  # its page is gone: back to the learner's own
        return redirect("tracker:dashboard")
    return redirect(track.get_absolute_url())


@learner_required
@require_POST
def set_status(request: HttpRequest, slug: str, item: str) -> HttpResponse:
    resource = resource_with_note(learner=request.user, slug=slug, item=item)
    track = resource.track
    status = request.POST.get("status", "")
    try:
        change = services.progress_set_status(
            learner=request.user, resource=resource, status=status
        )
    except services.NotEnrolled as refusal:
        return not_enrolled_answer(request, refusal)
    except services.ServiceError as error:
        if request.htmx:
            return _status_fragments(request, resource=resource, error=str(error))
        messages.error(request, str(error))
        return redirect(resource_anchor(resource))

    notices = _linked_notices(change, track)
    if request.htmx:
        return _status_fragments(
            request, resource=resource, change=change, notices=notices, focus=status
        )
    label = ProgressStatus(status).label.lower()
    points = f" ({change.points_delta:+d} points)" if change.points_delta else ""
    messages.success(request, f"“{resource.title}” is now {label}{points}.")
    for notice in notices:
        messages.success(request, notice)
    return redirect(resource_anchor(resource))


def _linked_notices(change: services.ProgressChange, track: Track) -> list:
    """What else the change did: the certificate it issued, and resources of kind track (in
    other tracks) that followed this track's completion, with their own certificates."""
    notices = []
    for done in (change, *change.linked):
        owner = track if done is change else done.progress.resource.track
        if done is not change:
            if done.progress.status == ProgressStatus.DONE:
                why = "is done too: it follows a track you just completed"
            else:
                why = "is open again: it follows a track that is no longer complete"
            points = f" ({done.points_delta:+d} points)" if done.points_delta else ""
            notices.append(
                format_html(
                    "“{}” in {} {}{}.", done.progress.resource.title, owner.title, why, points
                )
            )
        if done.certificate is not None:
            notices.append(
                format_html(
                    'You completed {}! <a href="{}">See your certificate</a>.',
                    owner.title,
                    done.certificate.get_absolute_url(),
                )
            )
    return notices


def _status_fragments(
    request: HttpRequest,
    *,
    resource: Resource,
    change: services.ProgressChange | None = None,
    focus: str | None = None,
    error: str | None = None,
    notices: list | None = None,
) -> HttpResponse:
    """The changed resource row, then out-of-band only what the change can have changed: its
    module's progress block (and the blocks of modules whose soft lock it set or lifted), the
    track's progress, the header points and the track's message area. Built from what the
    write knows (`change.standing`, the locked profile's total): no query when it succeeded;
    after a refusal, one to read where the learner stands."""
    structure = _structure(resource)
    node = structure.resource(resource.pk)
    flash = [("error", error)] if error else [("success", n) for n in notices or []]
    if node is None:
        # Removed from the track since the page was loaded (the refusal says so): no row, no
        # progress to show; the message alone, and the row on the page is left as it is.
        context = {"oob": True, "flash": flash}
        answer = render_to_string(f"{TRACK_TEMPLATE}#track-messages", context, request)
        return reswap(HttpResponse(answer), "none")
    if change is not None and change.standing is not None:
        standing = change.standing
        status, completed_at = change.progress.status, change.progress.completed_at
        done_before, done_after = standing.done_before, standing.done_after
        passed, certificate = standing.passed, standing.certificate
        completion = standing.completion
    else:
        state = selectors.learner_track_state(
            learner=request.user, track_id=resource.track_id, resource_id=resource.pk
        )
        status = state.progress.status if state.progress else ProgressStatus.NOT_STARTED
        completed_at = state.progress.completed_at if state.progress else None
        done_before = done_after = state.done_ids
        passed, certificate = state.passed_ids, state.certificate
        completion = None
    page, row, module_rows = selectors.status_answer_state(
        structure=structure,
        resource=node,
        status=status,
        completed_at=completed_at,
        note=resource.note_state,
        done_before=done_before,
        done_after=done_after,
        passed=passed,
        certificate_code=certificate.code if certificate else None,
        completion=completion,
    )
    context = selectors.track_page_context(
        request,
        track=structure,
        enrolled=True,
        page=page,
        header_points=services.profile_get_or_create(user=request.user).points_total,
    )
    context.update(row=row, module_rows=module_rows, focus_status=focus, flash=flash)
    return HttpResponse(render_to_string(f"{TRACK_TEMPLATE}#status-answer", context, request))


@learner_required
@require_POST
def certificate_claim(request: HttpRequest, slug: str) -> HttpResponse:
    """For a track that became complete without a click of the learner's (a lead removed or
    made optional the last item they had left): issue the certificate on request."""
    track = get_object_or_404(Track, slug=slug, archived_at__isnull=True)
    try:
        certificate = services.certificate_claim(learner=request.user, track=track)
    except services.NotEnrolled as refusal:
        return not_enrolled_answer(request, refusal)
    if certificate is None:
        messages.error(request, f"{track.title} is not complete yet: finish its required items.")
        return redirect(track.get_absolute_url())
    return redirect(certificate.get_absolute_url())
