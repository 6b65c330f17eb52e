"""Placeholder until this area is built (replaced by its owner)."""
from django.http import Http404


def enrol(request, *args, **kwargs):
    raise Http404("not built yet")

def leave(request, *args, **kwargs):
    raise Http404("not built yet")

def set_status(request, *args, **kwargs):
    raise Http404("not built yet")
