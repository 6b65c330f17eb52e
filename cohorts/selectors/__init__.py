"""Every read of a cohort for its pages, one module per area; import from here:
`from cohorts import selectors`. Each selector owns its query shape: a fixed number of queries
whatever the number of members, modules and progress rows. Per-member figures come from the
totals kept on `tracker.Enrolment`; nothing here aggregates a member's progress rows."""

from .context import *  # noqa: F401,F403
from .members import *  # noqa: F401,F403
from .panels import *  # noqa: F401,F403
