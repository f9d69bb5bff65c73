from django.apps import AppConfig


class VaultConfig(AppConfig):
    name = "fallback.vault"
    label = "vault"
    verbose_name = "Vault"

    def ready(self) -> None:
        from fallback.vault import destinations, schedule  # noqa: F401  (registers kinds, jobs)
