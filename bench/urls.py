"""Every URL of Waymark, plus one trivial view: what any request through the same middleware
costs at least, measured in the same run as the pages (`http_floor_rps`)."""

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.http import require_GET

from config.urls import urlpatterns as waymark_urlpatterns


@require_GET
def floor(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/floor", floor, name="bench_floor"), *waymark_urlpatterns]
