"""Receivers: what tracker does when the curriculum is loaded or an address is confirmed."""

from __future__ import annotations

from allauth.account.signals import email_confirmed, user_signed_up
from django.db.models.signals import post_migrate
from django.dispatch import receiver

from curriculum.signals import curriculum_loaded, structures_changed

from . import services


@receiver(curriculum_loaded, dispatch_uid="tracker.track_leads_sync")
def _sync_track_leads(sender, track_slugs, **kwargs) -> None:
    services.track_leads_sync(track_slugs=track_slugs)


@receiver(structures_changed, dispatch_uid="tracker.enrolment_units_recompute")
def _recompute_enrolment_units(sender, track_ids, **kwargs) -> None:
    # In the curriculum write's transaction: totals commit or roll back with it.
    services.enrolment_units_recompute(track_ids=track_ids)


# The migrations after which existing enrolments' totals are worked out once (see their
# docstrings): the totals themselves, then the units per module.
TOTALS_MIGRATION = ("tracker", "0007_repair_enrolment_totals")
MODULE_UNITS_MIGRATION = ("tracker", "0012_enrolment_module_units")


@receiver(post_migrate, dispatch_uid="tracker.totals_after_upgrade")
def _repair_totals_after_upgrade(sender, plan=None, using="default", **kwargs) -> None:
    applied = {
        (migration.app_label, migration.name)
        for migration, backwards in plan or ()
        if not backwards
    }
    if applied & {TOTALS_MIGRATION, MODULE_UNITS_MIGRATION} and sender.name == "tracker":
        report = services.totals_repair(fix=True)
        if report.drift and kwargs.get("verbosity", 1):
            print(f"  Enrolment totals worked out from progress: {report.summary_line()}")


@receiver(email_confirmed, dispatch_uid="tracker.leads_on_email_confirmed")
def _leads_on_email_confirmed(sender, request, email_address, **kwargs) -> None:
    services.track_leads_apply_for_user(user=email_address.user)


@receiver(user_signed_up, dispatch_uid="tracker.leads_on_sign_up")
def _leads_on_sign_up(sender, request, user, **kwargs) -> None:
    # An address can arrive verified (an invitation link, a provider that vouches for it).
    services.track_leads_apply_for_user(user=user)
