"""Who may see whose nudges. These decisions belong in `tracker/permissions.py`, the one
permission module, which is being written on another branch; they move there once it lands.

Cohort admins (issue 13) will see the log of, and preview nudges for, the members of the
cohorts they run: `can_view_nudge_log` and `nudge_log_learners` are where that goes.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import QuerySet


def can_view_nudge_log(user, learner=None) -> bool:
    """May `user` open the nudge log (learner None), or see `learner`'s rows in it?"""
    if not user.is_authenticated or not user.is_active:
        return False
    # Cohort admins: True for members of the cohorts they run (none exist yet).
    return user.is_staff


def nudge_log_learners(user) -> QuerySet | None:
    """The learners whose rows `user` sees in the log: None means everyone."""
    if user.is_active and user.is_staff:
        return None
    return get_user_model().objects.none()


def can_preview_nudge(user, learner) -> bool:
    """A learner previews their own nudge; whoever may see a learner's log, theirs."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.pk == learner.pk or can_view_nudge_log(user, learner)
