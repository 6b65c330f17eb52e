"""Weekly nudges: one delivery row per learner and ISO week, addresses that bounced for good,
and the dispatcher's mark of how far it has looked. Written only through `nudges.services`
(and the generic claim protocol in `nudges.outbox`).

Exactly once is a database rule: the unique constraint on (learner, week) means a learner's
week can only ever have one row, and a row only moves to "sent" once.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Waiting"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    SKIPPED = "skipped", "Skipped"
    FAILED = "failed", "Failed"


# A row in one of these states is never sent (again).
FINAL_STATUSES = (DeliveryStatus.SENT, DeliveryStatus.SKIPPED, DeliveryStatus.FAILED)


class OutboundEmail(models.Model):
    """The state of one email that must go out at most once: the claim-with-lease, send,
    mark-sent protocol in `nudges.outbox` works on any subclass (the weekly nudge here; a
    cohort's message to its members can be another subclass with its own unique key)."""

    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    # Who holds the claim (a random token per claiming task) and until when.
    claim_token = models.CharField(max_length=32, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # After a transient SMTP failure: not before this instant.
    retry_at = models.DateTimeField(null=True, blank=True)
    recipient = models.EmailField(max_length=254, blank=True)
    message_id = models.CharField(max_length=255, blank=True)
    # Why it was skipped, or the last SMTP error.
    reason = models.CharField(max_length=500, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        abstract = True
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=DeliveryStatus.values),
                name="%(app_label)s_%(class)s_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status=DeliveryStatus.SENT)
                | (Q(sent_at__isnull=False) & ~Q(message_id="")),
                name="%(app_label)s_%(class)s_sent_has_time_and_id",
            ),
            models.CheckConstraint(
                condition=~Q(status=DeliveryStatus.SENDING) | Q(lease_until__isnull=False),
                name="%(app_label)s_%(class)s_sending_has_lease",
            ),
        ]


class NudgeDelivery(OutboundEmail):
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="nudge_deliveries"
    )
    # The ISO week in the learner's time zone, as "2026-W05".
    week = models.CharField(max_length=8)
    # When it fell due: the learner's weekday and hour that week, in their time zone.
    due_at = models.DateTimeField()

    class Meta(OutboundEmail.Meta):
        verbose_name = "nudge delivery"
        verbose_name_plural = "nudge deliveries"
        constraints = [
            *OutboundEmail.Meta.constraints,
            models.UniqueConstraint(fields=["learner", "week"], name="nudge_once_per_learner_week"),
            models.CheckConstraint(
                condition=Q(week__regex=r"^[0-9]{4}-W[0-9]{2}$"), name="nudge_week_format"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_at"]),
            models.Index(fields=["week", "status"]),
            models.Index(fields=["-updated_at", "-id"]),
        ]

    def __str__(self) -> str:
        return f"{self.week} nudge for learner {self.learner_id}: {self.status}"


class BouncedAddress(models.Model):
    """An address the mail server refused for good (a 5xx for the recipient): nothing more is
    sent to it until staff clear the flag or the learner changes their address."""

    email = models.EmailField(max_length=254, unique=True)  # stored lower-cased
    code = models.PositiveSmallIntegerField()
    error = models.CharField(max_length=500)
    flagged_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "bounced addresses"

    def __str__(self) -> str:
        return f"{self.email} ({self.code})"


class DispatchMark(models.Model):
    """How far the dispatcher has looked: due times up to `covered_until` were turned into
    delivery rows. The next run starts there, so a run the broker missed is made up."""

    name = models.CharField(max_length=50, unique=True)
    covered_until = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} up to {self.covered_until:%Y-%m-%d %H:%M}"
