from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "fallback.audit"
    label = "audit"
    verbose_name = "Audit trail"
