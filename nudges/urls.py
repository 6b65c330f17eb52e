from django.urls import path

from . import views

app_name = "nudges"
urlpatterns = [
    path("log/", views.nudge_log, name="log"),
    path("preview/", views.preview, name="preview_own"),
    path("preview/<int:learner_id>/", views.preview, name="preview"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
