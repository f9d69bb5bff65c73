from django.apps import AppConfig


class MonitorConfig(AppConfig):
    name = "fallback.monitor"
    label = "monitor"
    verbose_name = "Systems and checks"

    def ready(self) -> None:
        # Periodic jobs register themselves on import; every process must see them.
        from fallback.monitor import rollups, system_state  # noqa: F401
