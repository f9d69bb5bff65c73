from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "fallback.incidents"
    label = "incidents"
    verbose_name = "Incidents and staff alerts"
