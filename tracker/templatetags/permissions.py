"""Permission checks in templates, answered by `tracker.permissions` (the only place that
knows the rules):

    {% load permissions %}
    {% can "review_submission" submission as may_review %}
    {% if may_review %}...{% endif %}
    {% can "use_lead_area" as lead %}            {# checks that take only the person #}

The person is the request's user. The name is a `can_<name>` function of the module; an
unknown name is an error, not a silent False."""

from __future__ import annotations

from django import template

from .. import permissions
from ..models import public_name as _public_name

register = template.Library()


@register.simple_tag(takes_context=True)
def can(context, name: str, *objects) -> bool:
    check = getattr(permissions, f"can_{name}", None)
    if check is None or not callable(check):
        raise template.TemplateSyntaxError(f"tracker.permissions has no can_{name}()")
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    return check(user, *objects)


@register.filter
def public_name(user) -> str:
    """A person's public name (never their email address)."""
    return _public_name(user)
