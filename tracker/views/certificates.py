"""The public certificate page: anyone with the unguessable link can verify it."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .. import permissions, selectors


@require_GET
def certificate(request: HttpRequest, code: str) -> HttpResponse:
    found = selectors.certificate_by_code(code=code)
    if found is None:
        raise Http404("No certificate has this code.")
    summary = found.summary or {}
    capstones = selectors.certificate_capstones(certificate=found)
    context = {
        "certificate": found,
        "verification_url": settings.SITE_URL + found.get_absolute_url(),
        # The required items' count ("units") is left out: beside resources done, optional
        # ones included, it read as "28 of 28 and one more". No capstone row for none passed.
        "summary_rows": [
            (summary.get("modules"), "module", "modules"),
            (summary.get("resources_done"), "resource done", "resources done"),
            # Counted from the list below, which also holds those passed after the issue.
            (len(capstones) or None, "capstone passed", "capstones passed"),
        ],
        "capstones": capstones,
        "is_owner": permissions.is_owner(request.user, found),
        "zone": _learner_zone(found),
    }
    response = render(request, "tracker/certificate.html", context)
    response["X-Robots-Tag"] = "noindex"
    return response


def _learner_zone(found) -> str:
    """The learner's time zone, so the date is the day it was where they were."""
    try:
        return found.learner.profile.time_zone
    except ObjectDoesNotExist:
        return "UTC"
