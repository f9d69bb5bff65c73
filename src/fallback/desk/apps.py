from django.apps import AppConfig


class DeskConfig(AppConfig):
    name = "fallback.desk"
    label = "desk"
    verbose_name = "Fallback desk"

    def ready(self) -> None:
        from fallback.desk import mode, receivers  # noqa: F401  (registers jobs and receivers)
