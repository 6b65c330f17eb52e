from django.apps import AppConfig


class TrackerConfig(AppConfig):
    name = "tracker"
    verbose_name = "Learner tracking"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (connects the receivers)
