"""Every write to learner state, one module per area; import from here:
`from tracker import services` then `services.progress_set_status(...)`."""

from .capstones import *  # noqa: F401,F403
from .notes import *  # noqa: F401,F403
from .pace import *  # noqa: F401,F403
from .profile import *  # noqa: F401,F403
from .progress import (  # noqa: F401
    NotAllowed,
    NotEnrolled,
    ProgressChange,
    ServiceError,
    capstone_pass_follow,
    certificate_claim,
    certificate_issue_if_complete,
    enrolment_join,
    enrolment_leave,
    linked_resources_sync,
    linked_resources_sync_enrolled,
    points_award,
    points_reverse,
    profile_get_or_create,
    progress_set_status,
)
from .roles import *  # noqa: F401,F403
from .totals import *  # noqa: F401,F403
