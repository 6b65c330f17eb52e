"""Every write to cohorts, one module per area; import from here:
`from cohorts import services` then `services.cohort_join(...)`.

Keyword-only, typed, atomic; refusals are `ServiceError`s (`CohortInvalid` carries the message
of each field) and leave the database as it was. Every change to who is in a cohort forgets the
person's cached role facts (`tracker.permissions.forget_roles`)."""

from .cohorts import *  # noqa: F401,F403
from .errors import *  # noqa: F401,F403
from .invites import *  # noqa: F401,F403
from .members import *  # noqa: F401,F403
from .messages import *  # noqa: F401,F403
from .teams import *  # noqa: F401,F403
