from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "fallback.plans"
    label = "plans"
    verbose_name = "Continuity plan"

    def ready(self) -> None:
        from fallback.plans import staleness  # noqa: F401  (registers the reminder job)
