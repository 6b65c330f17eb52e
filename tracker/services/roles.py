"""Track lead roles: granted and revoked by staff (the browser or the admin), and by the
`leads:` emails in a track's YAML (applied at each load, and when a listed person confirms
their email address later).

Roles go by email only to *verified* addresses: with email verification optional, anyone can
sign up under any address, and must not become a lead by doing so.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.db.models.functions import Lower
from django.utils import timezone

from curriculum.models import Track

from .. import permissions
from ..models import LeadSource, TrackLead
from .progress import NotAllowed, ServiceError

__all__ = [
    "track_lead_grant",
    "track_lead_grant_by_email",
    "track_lead_revoke",
    "track_leads_sync",
    "track_leads_apply_for_user",
    "verified_users_by_email",
]


def verified_users_by_email(emails) -> dict[str, object]:
    """{lowercased email: active user} for each email some account has verified."""
    from allauth.account.models import EmailAddress

    wanted = {email.lower() for email in emails}
    if not wanted:
        return {}
    rows = (
        EmailAddress.objects.annotate(lowered=Lower("email"))
        .filter(lowered__in=wanted, verified=True, user__is_active=True)
        .select_related("user")
    )
    return {row.lowered: row.user for row in rows}


def _grant(*, track: Track, user, source: str, granted_by, now: datetime) -> TrackLead:
    """The role, granted now unless it was active already (`lead.newly_granted` says which)."""
    lead = TrackLead.objects.select_for_update().filter(user=user, track=track).first()
    newly_granted = lead is None or lead.revoked_at is not None
    if lead is None:
        lead = TrackLead.objects.create(
            user=user, track=track, source=source, granted_by=granted_by, granted_at=now
        )
    elif lead.revoked_at is not None:
        lead.source, lead.granted_by, lead.granted_at = source, granted_by, now
        lead.revoked_at = lead.revoked_by = None
        lead.save(update_fields=["source", "granted_by", "granted_at", "revoked_at", "revoked_by"])
    permissions.forget_roles(user)
    lead.newly_granted = newly_granted
    return lead


@transaction.atomic
def track_lead_grant(*, track: Track, user, granted_by, now: datetime | None = None) -> TrackLead:
    """Make `user` a lead of `track` (staff only). Granting an active role changes nothing."""
    if not permissions.can_manage_leads(granted_by, track):
        raise NotAllowed("Only staff can grant the track lead role.")
    if not user.is_active:
        raise ServiceError(f"The account {user.email} is deactivated; it can't lead a track.")
    return _grant(
        track=track,
        user=user,
        source=LeadSource.STAFF,
        granted_by=granted_by,
        now=now or timezone.now(),
    )


def track_lead_grant_by_email(
    *, track: Track, email: str, granted_by, now: datetime | None = None
) -> TrackLead:
    """Grant the role to the account that verified `email` (the form on the leads page)."""
    email = (email or "").strip()
    if not email:
        raise ServiceError("Enter the email address of the person to make a lead.")
    user = verified_users_by_email([email]).get(email.lower())
    if user is None:
        raise ServiceError(
            f"No account has confirmed the address {email}. The person signs up (or confirms "
            "their address) first; or list the address under `leads:` in the track's YAML, "
            "which grants the role as soon as they confirm it."
        )
    return track_lead_grant(track=track, user=user, granted_by=granted_by, now=now)


@transaction.atomic
def track_lead_revoke(*, track: Track, user, revoked_by, now: datetime | None = None) -> TrackLead:
    """End `user`'s lead role on `track` (staff only). The row stays, as the record; while the
    track's YAML lists the address, loading it does not grant the role back."""
    if not permissions.can_manage_leads(revoked_by, track):
        raise NotAllowed("Only staff can revoke the track lead role.")
    lead = TrackLead.objects.select_for_update().filter(user=user, track=track).first()
    if lead is None or lead.revoked_at is not None:
        raise ServiceError(f"{user.email} does not lead {track.title}.")
    lead.revoked_at = now or timezone.now()
    lead.revoked_by = revoked_by
    lead.save(update_fields=["revoked_at", "revoked_by"])
    permissions.forget_roles(user)
    return lead


def track_leads_sync(*, track_slugs: list[str], now: datetime | None = None) -> None:
    """Bring the YAML-granted roles of these tracks in step with their `lead_emails`: grant a
    listed, verified address that holds no role yet (or whose YAML role ended when it left the
    file), end YAML-granted roles whose address left the file. Staff grants and staff
    revocations are left alone. Idempotent; a few queries whatever the number of tracks."""
    now = now or timezone.now()
    active_yaml_roles = TrackLead.objects.filter(
        track=OuterRef("pk"), source=LeadSource.YAML, revoked_at__isnull=True
    )
    tracks = [
        track
        for track in Track.objects.filter(slug__in=track_slugs)
        .annotate(has_yaml_leads=Exists(active_yaml_roles))
        .only("id", "lead_emails")
        if track.lead_emails or track.has_yaml_leads
    ]
    if not tracks:  # the usual reload: no `leads:` anywhere, nothing granted by one before
        return
    with transaction.atomic():
        _sync(tracks, now)


def _sync(tracks: list[Track], now: datetime) -> None:
    users = verified_users_by_email({e for track in tracks for e in track.lead_emails})
    leads = {
        (lead.track_id, lead.user_id): lead
        for lead in TrackLead.objects.select_for_update(of=("self",))
        .filter(track__in=tracks)
        .select_related("user")
    }
    for track in tracks:
        wanted_ids = set()
        for email in track.lead_emails:
            user = users.get(email)
            if user is None:
                continue  # granted when the address is confirmed (track_leads_apply_for_user)
            wanted_ids.add(user.pk)
            lead = leads.get((track.pk, user.pk))
            if lead is None or (lead.revoked_at is not None and lead.revoked_by_id is None):
                _grant(track=track, user=user, source=LeadSource.YAML, granted_by=None, now=now)
        for (track_id, user_id), lead in leads.items():
            if (
                track_id == track.pk
                and user_id not in wanted_ids
                and lead.source == LeadSource.YAML
                and lead.revoked_at is None
            ):
                lead.revoked_at = now
                lead.save(update_fields=["revoked_at"])
                permissions.forget_roles(lead.user)


@transaction.atomic
def track_leads_apply_for_user(*, user, now: datetime | None = None) -> list[TrackLead]:
    """Grant the roles the tracks' YAML names this person for, once their address is
    verified (called when an address is confirmed). Returns the roles granted now."""
    if not user.is_active:
        return []
    from allauth.account.models import EmailAddress

    emails = {
        e.lower()
        for e in EmailAddress.objects.filter(user=user, verified=True).values_list(
            "email", flat=True
        )
    }
    if not emails:
        return []
    now = now or timezone.now()
    # Few tracks, short lists: filtering the JSON in Python works the same on every database.
    listed = [
        track
        for track in Track.objects.exclude(lead_emails=[]).only("id", "title", "lead_emails")
        if emails & set(track.lead_emails)
    ]
    existing = {
        lead.track_id: lead for lead in TrackLead.objects.filter(user=user, track__in=listed)
    }
    granted = []
    for track in listed:
        lead = existing.get(track.pk)
        if lead is None or (lead.revoked_at is not None and lead.revoked_by_id is None):
            granted.append(
                _grant(track=track, user=user, source=LeadSource.YAML, granted_by=None, now=now)
            )
    return granted
