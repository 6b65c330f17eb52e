from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.urls import include, path

from curriculum import views as curriculum_views
from tracker.views import certificates

# Staff log in like everyone else: by email, through allauth (with its rate limits). The admin's
# own form asks for a username, which nobody here knows.
admin.site.login = login_required(admin.site.login)
admin.site.site_header = admin.site.site_title = "Waymark administration"

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
