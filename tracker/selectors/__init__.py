"""Every read of learner state, one module per area; import from here:
`from tracker import selectors` then `selectors.active_enrolments(...)`.
Each selector owns its query shape (a fixed number of queries however big the data)."""

from .capstones import *  # noqa: F401,F403
from .core import *  # noqa: F401,F403
from .dashboard import *  # noqa: F401,F403
from .export import *  # noqa: F401,F403
from .reviews import *  # noqa: F401,F403
from .track_page import *  # noqa: F401,F403
