"""Learner actions scoped to a track, mounted under /tracks/<slug>/ next to the track page."""

from django.urls import path

from .views import capstones, lead, notes, pace, track

urlpatterns = [
    path("<slug:slug>/enrol", track.enrol, name="enrol"),
    path("<slug:slug>/leave", track.leave, name="leave"),
    path("<slug:slug>/certificate", track.certificate_claim, name="certificate_claim"),
    path("<slug:slug>/items/<slug:item>/status", track.set_status, name="set_status"),
    path("<slug:slug>/items/<slug:item>/note", notes.note, name="note"),
    path("<slug:slug>/items/<slug:item>/revisit", notes.toggle_revisit, name="toggle_revisit"),
    path("<slug:slug>/plan/", pace.plan, name="pace_plan"),
    path("<slug:slug>/plan.ics", pace.plan_ics, name="pace_plan_ics"),
    path("<slug:slug>/capstones/<slug:item>/", capstones.submission, name="capstone_submission"),
    path("<slug:slug>/leads/", lead.track_leads, name="leads"),
]
