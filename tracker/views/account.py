"""Placeholder until this area is built (replaced by its owner)."""
from django.http import Http404


def profile(request, *args, **kwargs):
    raise Http404("not built yet")
