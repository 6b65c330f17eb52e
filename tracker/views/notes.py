"""Placeholder until this area is built (replaced by its owner)."""
from django.http import Http404


def revisit(request, *args, **kwargs):
    raise Http404("not built yet")

def note(request, *args, **kwargs):
    raise Http404("not built yet")

def toggle_revisit(request, *args, **kwargs):
    raise Http404("not built yet")
