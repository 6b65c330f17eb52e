"""What the cohort services refuse, as `tracker.services.ServiceError` subclasses: views show
`str(error)` (or each of `errors` next to its field) and nothing was written."""

from __future__ import annotations

from enum import StrEnum

from tracker.services import NotAllowed, ServiceError

__all__ = ["CohortInvalid", "InviteUnusable", "InviteProblem", "NotAllowed", "ServiceError"]


class CohortInvalid(ServiceError):
    """Bad input for a cohort, its phases, pace plan, invites, members or teams.

    `errors` maps a field name (the forms use the same names; phases use `phases.<row>.<field>`,
    targets `target.<module id>`) or None (the whole change) to its messages."""

    def __init__(self, errors: dict[str | None, list[str]]):
        self.errors = errors
        super().__init__(" ".join(message for messages in errors.values() for message in messages))

    @classmethod
    def on(cls, field: str | None, message: str) -> CohortInvalid:
        return cls({field: [message]})


class InviteProblem(StrEnum):
    UNKNOWN = "unknown"
    REVOKED = "revoked"
    EXPIRED = "expired"
    USED_UP = "used_up"
    ENDED = "ended"  # the cohort was archived

    @property
    def label(self) -> str:
        return {
            "unknown": "Unknown",
            "revoked": "Revoked",
            "expired": "Expired",
            "used_up": "Used up",
            "ended": "Cohort ended",
        }[self.value]


class InviteUnusable(ServiceError):
    """An invite code that lets nobody in (any more); `problem` says why."""

    def __init__(self, problem: InviteProblem, message: str):
        self.problem = problem
        super().__init__(message)
