from django import template

from .. import permissions

register = template.Library()


@register.filter
def may_view_nudge_log(user) -> bool:
    return permissions.can_view_nudge_log(user)
