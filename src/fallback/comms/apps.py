from django.apps import AppConfig


class CommsConfig(AppConfig):
    name = "fallback.comms"
    label = "comms"
    verbose_name = "Telling people"

    def ready(self) -> None:
        # Registers the stall watch (a scheduler job) and the outbox's `doctor` check.
        from fallback.comms import watch  # noqa: F401
