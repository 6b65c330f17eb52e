"""Small checks on untrusted text shared by middleware and views."""

from __future__ import annotations

import re

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme

# What no text column can hold: PostgreSQL refuses NUL in text, and a lone surrogate cannot be
# encoded as UTF-8 at all. SQLite would store or quietly match them.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# No address of ours holds a control character.
CONTROL = re.compile("[\x00-\x1f\x7f]")


def same_site_path(request: HttpRequest, url: str) -> str | None:
    """`url` when it is a path on this site ("/tracks/..."), else None. A bare word would be
    taken for a URL pattern name by `redirect()`, and control characters for header tricks."""
    if (
        url.startswith("/")
        and not CONTROL.search(url)
        and url_has_allowed_host_and_scheme(
            url, {request.get_host()}, require_https=request.is_secure()
        )
    ):
        return url
    return None
