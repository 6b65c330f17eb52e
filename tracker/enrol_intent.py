"""Enrolling in a track, or joining a cohort, before logging in.

A visitor's press of "Log in to enrol" (or "Sign up and enrol") on a track page, or of "Log in
to join" (or "Sign up to join") on a cohort invite, is kept in their session, and the log-in
that brings them back to that page enrols them there or joins them to the cohort
(`AccountAdapter.post_login`): a password log-in, a sign-up that logs in at once, or confirming
the address of a new account in the same browser (allauth then logs in and goes on to the
sign-up's `next`).

Only that log-in: every log-in clears the intent, whatever it did; the intent lasts `LIFETIME`;
and it counts only when the log-in goes back to the page it was made on, so someone else
logging in on a shared browser through the header's plain link enrols nobody. Django keeps an
anonymous session's data when it logs someone in (it cycles the key) and flushes it at
log-out, so an intent never survives into another person's signed-in session.
"""

from __future__ import annotations

from datetime import timedelta

from allauth.account import app_settings as allauth_settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone

from curriculum.models import Track

from . import services

SESSION_KEY = "waymark_enrol_intent"
# Long enough to sign up and open the confirmation email; short enough that a forgotten press
# does not enrol whoever logs in on that browser later.
LIFETIME = timedelta(minutes=30)


def enrolled_message(track: Track) -> str:
    return f"You are enrolled in {track.title}. Mark each resource as you go."


def hint(track: Track, *, signing_up: bool) -> str:
    """What the log-in or sign-up page says the press will do."""
    if not signing_up:
        return f"Log in and you will be enrolled in {track.title}."
    if allauth_settings.EMAIL_VERIFICATION is allauth_settings.EmailVerificationMethod.MANDATORY:
        return (
            "Sign up and confirm your email address (open the link we send in this browser): "
            f"you will then be enrolled in {track.title}."
        )
    return f"Sign up and you will be enrolled in {track.title}."


def join_hint(cohort_name: str, *, signing_up: bool) -> str:
    """What the log-in or sign-up page says a press of "... to join" on an invite will do."""
    if not signing_up:
        return f"Log in and you will join {cohort_name}."
    if allauth_settings.EMAIL_VERIFICATION is allauth_settings.EmailVerificationMethod.MANDATORY:
        return (
            "Sign up and confirm your email address (open the link we send in this browser): "
            f"you will then join {cohort_name}."
        )
    return f"Sign up and you will join {cohort_name}."


def remember(request: HttpRequest, *, track: Track) -> None:
    request.session[SESSION_KEY] = {
        "track": track.pk,
        "path": track.get_absolute_url(),
        "at": timezone.now().timestamp(),
    }


def remember_join(request: HttpRequest, *, code: str, path: str) -> None:
    """A press of "Log in to join" / "Sign up to join" on the invite at `path`."""
    request.session[SESSION_KEY] = {
        "cohort_invite": code,
        "path": path,
        "at": timezone.now().timestamp(),
    }


def carry_out(request: HttpRequest, *, user, response: HttpResponse) -> HttpResponse:
    """After `user` logged in with `response` (allauth's redirect to where they were going):
    enrol them, or join them to the cohort, when a fresh intent names that page; else the
    response unchanged."""
    intent = request.session.pop(SESSION_KEY, None)
    if not isinstance(intent, dict) or getattr(response, "url", None) != intent.get("path"):
        return response
    age = timezone.now().timestamp() - float(intent.get("at") or 0)
    if not 0 <= age <= LIFETIME.total_seconds():
        return response
    if "cohort_invite" in intent:
        from cohorts.views.join import join_after_log_in  # cohorts builds on tracker

        return join_after_log_in(
            request, user=user, code=str(intent["cohort_invite"]), response=response
        )
    track = Track.objects.filter(pk=intent.get("track")).first()
    if track is None:
        messages.error(request, "The track you were enrolling in is no longer here.")
        return redirect("home")
    try:
        services.enrolment_join(learner=user, track=track)
    except services.ServiceError as refused:  # archived since the press: its page is gone
        messages.error(request, str(refused))
        return redirect("home")
    messages.success(request, enrolled_message(track))
    return response
