"""Placeholder until this area is built (replaced by its owner)."""
from django.http import Http404


def progress_history(request, *args, **kwargs):
    raise Http404("not built yet")

def export_json(request, *args, **kwargs):
    raise Http404("not built yet")

def export_csv(request, *args, **kwargs):
    raise Http404("not built yet")
