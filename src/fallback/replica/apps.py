import os

from django.apps import AppConfig


class ReplicaConfig(AppConfig):
    name = "fallback.replica"
    label = "replica"
    verbose_name = "Replica"

    def ready(self) -> None:
        # dlt must never phone home: Fallback runs when the internet may be gone.
        os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
        from fallback.replica import connectors, schedule  # noqa: F401  (registers kinds, jobs)
