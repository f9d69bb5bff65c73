from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "fallback.plans"
    label = "plans"
    verbose_name = "Continuity plan"

    def ready(self) -> None:
        # Register the reminder job and the plan as a source of replica freshness targets.
        from fallback.plans import rpo, staleness  # noqa: F401
