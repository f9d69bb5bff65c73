from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "fallback.accounts"
    label = "accounts"
    verbose_name = "Organisations and access"

    def ready(self) -> None:
        from fallback.accounts import checks  # noqa: F401  (registers the system check)
