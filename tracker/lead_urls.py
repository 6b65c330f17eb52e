"""The lead area, mounted at /lead/ (a track's leads page lives under /tracks/<slug>/)."""

from django.urls import path

from .views import lead

app_name = "lead"
urlpatterns = [
    path("", lead.home, name="home"),
    path("reviews/", lead.reviews, name="reviews"),
    path("reviews/<int:pk>/", lead.review, name="review"),
]
