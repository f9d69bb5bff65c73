from django.apps import AppConfig


class RuntimeConfig(AppConfig):
    name = "fallback.runtime"
    label = "runtime"
    verbose_name = "Processes: web server, worker, schedulers"
