from django.core import checks
from django.db import models

from fallback.accounts.checks import _has_org_field, check_org_scoping
from fallback.accounts.scoping import OrgOwned


def test_project_models_are_all_org_scoped_or_declared_global():
    assert check_org_scoping() == []


def test_model_without_org_is_flagged():
    class Stray(models.Model):
        class Meta:
            app_label = "accounts"

    Stray.__module__ = "fallback.accounts.models"
    try:
        errors = [e for e in checks.run_checks() if e.id == "fallback.E001"]
        assert [e.obj for e in errors] == [Stray]
    finally:
        from django.apps import apps

        del apps.all_models["accounts"]["stray"]
        apps.clear_cache()


def test_org_owned_base_gives_org_field():
    class Owned(OrgOwned):
        class Meta:
            app_label = "accounts"

    try:
        assert _has_org_field(Owned)
    finally:
        from django.apps import apps

        del apps.all_models["accounts"]["owned"]
        apps.clear_cache()
