from django.contrib import admin
from django.urls import include, path

from curriculum import views as curriculum_views
from tracker.views import certificates

urlpatterns = [
    path("", curriculum_views.home, name="home"),
    path("healthz", curriculum_views.healthz, name="healthz"),
    path("tracks/", include("curriculum.urls")),
    path("tracks/", include(("tracker.track_urls", "track"))),
    path("me/", include("tracker.urls")),
    path("certificates/<str:code>/", certificates.certificate, name="certificate"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
]
