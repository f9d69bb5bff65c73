from django.apps import AppConfig


class CommsConfig(AppConfig):
    name = "fallback.comms"
    label = "comms"
    verbose_name = "Telling people"

    def ready(self) -> None:
        # Registers the stall watch (a scheduler job) and the outbox's `doctor` check.
        # The status page: its publisher and the subscribers' confirmations (scheduler
        # jobs), and the subscribers' audience.
        from fallback.comms import (  # noqa: F401
            publishing,
            subscribers,
            watch,
        )
