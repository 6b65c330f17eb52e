"""Receivers: what tracker does when the curriculum is loaded or an address is confirmed."""

from __future__ import annotations

from allauth.account.signals import email_confirmed, user_signed_up
from django.dispatch import receiver

from curriculum.signals import curriculum_loaded

from . import services


@receiver(curriculum_loaded, dispatch_uid="tracker.track_leads_sync")
def _sync_track_leads(sender, track_slugs, **kwargs) -> None:
    services.track_leads_sync(track_slugs=track_slugs)


@receiver(email_confirmed, dispatch_uid="tracker.leads_on_email_confirmed")
def _leads_on_email_confirmed(sender, request, email_address, **kwargs) -> None:
    services.track_leads_apply_for_user(user=email_address.user)


@receiver(user_signed_up, dispatch_uid="tracker.leads_on_sign_up")
def _leads_on_sign_up(sender, request, user, **kwargs) -> None:
    # An address can arrive verified (an invitation link, a provider that vouches for it).
    services.track_leads_apply_for_user(user=user)
