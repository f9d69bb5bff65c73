from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "fallback.incidents"
    label = "incidents"
    verbose_name = "Incidents and staff alerts"

    def ready(self) -> None:
        # Periodic jobs register themselves on import; every process must see them.
        from fallback.incidents import alerts, trigger  # noqa: F401
