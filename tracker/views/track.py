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
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
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
    """One status click. Its answer says what it did in one sentence (`status_said`): with
    htmx, through the page's one polite region (#announcer) while the progress blocks and
    the header points change silently; without JavaScript, as the flash message of the page
    it redirects to. A refusal is an alert (role="alert"), or the flash message."""
    resource = resource_with_note(learner=request.user, slug=slug, item=item)
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

    notices = _linked_notices(change, resource.track)
    if request.htmx:
        return _status_fragments(
            request, resource=resource, change=change, notices=notices, focus=status
        )
    answer = _answer_state(request, resource=resource, change=change) if change.changed else None
    messages.success(
        request,
        status_said(
            title=resource.title,
            change=change,
            answer=answer,
            points_total=services.profile_get_or_create(user=request.user).points_total,
            notices=notices,
        ),
    )
    return redirect(resource_anchor(resource))


def _points(amount: int) -> str:
    return f"{amount} point{'' if amount == 1 else 's'}"


def _points_moved(amount: int) -> str:
    """A change of points in words, not a sign ("+30", "-30") that screen readers read in
    different ways or not at all."""
    return f"{_points(amount)} earned" if amount > 0 else f"{_points(-amount)} taken back"


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
            points = f" ({_points_moved(done.points_delta)})" if done.points_delta else ""
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


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def status_said(
    *,
    title: str,
    change: services.ProgressChange,
    answer: selectors.StatusAnswer | None,
    points_total: int,
    notices: list,
) -> SafeString:
    """Everything a status click changed, in one sentence (a few short ones): what it did, the
    module's progress (and the modules whose "finish X first" it set or lifted), the track's
    progress, the points and what else followed (`notices`, the certificate's link among
    them). The track page's progress blocks and header points no longer announce themselves,
    so a screen reader hears this once, in this order; the page without JavaScript flashes
    the same words. `answer` is None only when the row is no longer in the track's
    structure: then the first part alone."""
    status = ProgressStatus(change.progress.status).label.lower()
    if not change.changed:
        return format_html("“{}” was already {}: nothing changed.", title, status)
    parts = [format_html("“{}” marked {}.", title, status)]
    if answer is not None:
        parts += _progress_said(answer, issued=change.certificate is not None)
    linked_points = any(done.points_delta for done in change.linked)
    if change.points_delta:
        parts.append(f"{_points_moved(change.points_delta)}, {points_total} in total.")
    elif linked_points:
        parts.append(f"{_points(points_total)} in total.")
    parts += notices
    return format_html_join(" ", "{}", ((part,) for part in parts))


def _progress_said(answer: selectors.StatusAnswer, *, issued: bool) -> list:
    """The module's and the track's progress after a change, and whether the change completed
    them or undid their completion. `issued`: the change issued the track's certificate (its
    notice comes after)."""
    home, *dependents = answer.module_rows
    module, progress, before = home.module, home.progress, answer.home_before
    parts = []
    if progress is None or not progress.total_units:
        parts.append(format_html("Everything in {} is optional.", module.title))
    elif progress.complete:
        parts.append(
            format_html(
                "{} complete: {} of {} done.",
                module.title,
                progress.done_units,
                progress.total_units,
            )
        )
    else:
        parts.append(
            format_html(
                "{}: {} of {} done{}.",
                module.title,
                progress.done_units,
                progress.total_units,
                ", no longer complete" if before.complete else "",
            )
        )
    # The modules whose soft lock the change lifted or set (sent only when it did).
    ready = [row.module.title for row in dependents if not row.unfinished_requires]
    if ready:
        parts.append(format_html("Ready for {}.", _and(ready)))
    for row in dependents:
        if row.unfinished_requires:
            first = _and([required.title for required in row.unfinished_requires])
            parts.append(format_html("{}: finish {} first.", row.module.title, first))

    completion = answer.page.completion
    if completion.total_units:
        others_complete = all(
            other.complete
            for module_id, other in completion.modules.items()
            if module_id != module.id
        )
        was_complete = before.complete and others_complete
        figures = (completion.done_units, completion.total_units, completion.percent)
        if completion.complete and issued:  # the certificate's notice says the rest
            parts.append(format_html("Track: {} of {} done ({}%).", *figures))
        elif completion.complete:
            parts.append(format_html("Track complete: {} of {} done ({}%).", *figures))
        elif was_complete:
            kept = " Your certificate stays yours." if answer.page.certificate else ""
            parts.append(
                format_html("Track: {} of {} done ({}%), no longer complete.{}", *figures, kept)
            )
        else:
            parts.append(format_html("Track: {} of {} done ({}%).", *figures))
    return parts


def _answer_state(
    request: HttpRequest, *, resource: Resource, change: services.ProgressChange | None
) -> selectors.StatusAnswer | None:
    """Where the learner stands after the change (or the refusal), from what the write knows
    (`change.standing`): no query when it succeeded; after a refusal, one. None when the
    resource is no longer in its track's structure."""
    structure = _structure(resource)
    node = structure.resource(resource.pk)
    if node is None:
        return None
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
    return selectors.status_answer_state(
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
    track's progress, the header points, the track's message area (the notices, or the
    refusal as an alert) and, after a change, #announcer with `status_said`: the one thing a
    screen reader says."""
    answer = _answer_state(request, resource=resource, change=change)
    if answer is None:
        # Removed from the track since the page was loaded (the refusal says so): no row, no
        # progress to show; the message alone, and the row on the page is left as it is.
        context = {"oob": True, "status_error": error, "notices": notices}
        reply = render_to_string(f"{TRACK_TEMPLATE}#track-messages", context, request)
        return reswap(HttpResponse(reply), "none")
    points_total = services.profile_get_or_create(user=request.user).points_total
    context = selectors.track_page_context(
        request,
        track=answer.page.track,
        enrolled=True,
        page=answer.page,
        header_points=points_total,
    )
    context.update(
        row=answer.row,
        module_rows=answer.module_rows,
        focus_status=focus,
        status_error=error,
        notices=notices,
    )
    if change is not None:
        context["said"] = status_said(
            title=resource.title,
            change=change,
            answer=answer,
            points_total=points_total,
            notices=notices or [],
        )
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
