"""Waymark's allauth adapter: one change to allauth's behaviour.

The confirmation link in the sign-up email carries where the person was going (`next`, such
as a cohort invite's `/join/<code>/`). The link is often opened in another browser (a phone's
mail app), where the sign-up's session is not: without it, confirming there lost the invite.
"""

from __future__ import annotations

from urllib.parse import urlencode

from allauth.account.adapter import DefaultAccountAdapter

from ops.safety import same_site_path


class AccountAdapter(DefaultAccountAdapter):
    def get_email_confirmation_url(self, request, emailconfirmation) -> str:
        url = super().get_email_confirmation_url(request, emailconfirmation)
        if request is None:
            return url
        going_to = request.POST.get("next") or request.GET.get("next") or ""
        if going_to and same_site_path(request, going_to):
            return f"{url}?{urlencode({'next': going_to})}"
        return url
