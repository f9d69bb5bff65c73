from django.apps import AppConfig


class FrontConfig(AppConfig):
    name = "fallback.front"
    label = "front"
    verbose_name = "Web shell: dashboard and navigation"
