from django.contrib import admin
from django.urls import include, path

from curriculum import views as curriculum_views
from ops import views as ops_views
from tracker.views import certificates

# Staff log in like everyone else: by email, through allauth and its rate limits. The admin's
# own log-in and password forms would try passwords without any limit: they never run.
admin.site.login = ops_views.admin_login
admin.site.password_change = ops_views.admin_password_change
admin.site.site_header = admin.site.site_title = "Waymark administration"

urlpatterns = [
    path("", curriculum_views.home, name="home"),
    path("healthz", ops_views.healthz, name="healthz"),
    path("tracks/", include("curriculum.urls")),
    path("tracks/", include(("tracker.track_urls", "track"))),
    path("tracks/", include("curriculum.curation.urls")),
    path("me/", include("tracker.urls")),
    path("nudges/", include("nudges.urls")),
    path("", include("cohorts.urls")),
    path("lead/", include("tracker.lead_urls")),
    path("certificates/<str:code>/", certificates.certificate, name="certificate"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
]

handler500 = ops_views.server_error
