from django.apps import AppConfig


class MonitorConfig(AppConfig):
    name = "fallback.monitor"
    label = "monitor"
    verbose_name = "Systems and checks"
