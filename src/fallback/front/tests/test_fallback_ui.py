from __future__ import annotations

import zoneinfo
from datetime import timedelta

from django.template import Context, Template
from django.test import RequestFactory
from django.urls import resolve
from django.utils import timezone

from fallback.accounts.models import Organisation
from fallback.front.templatetags.fallback_ui import action_label, audit_value, duration, org_zone


def test_duration_reads_in_words():
    assert duration(timedelta(minutes=15)) == "15 minutes"
    assert duration(timedelta(hours=1)) == "1 hour"
    assert duration(timedelta(minutes=90)) == "1 hour 30 minutes"
    assert duration(timedelta(seconds=10)) == "1 minute"
    assert duration(None) == ""


def test_action_label_reads_as_a_phrase():
    assert action_label("member.role_changed") == "Member role changed"
    assert action_label("plans.plan.changed") == "Plan changed"  # not "Plans plan changed"
    assert action_label("desk.settings.changed") == "Desk settings changed"
    assert action_label("monitor.sla_claim.created") == "Monitor SLA claim created"
    assert action_label("api_token.revoked") == "API token revoked"


def test_audit_value_spells_out_empty_and_booleans():
    assert audit_value(None) == "—"
    assert audit_value("") == "—"
    assert audit_value(True) == "yes"
    assert audit_value(3) == "3"


def test_org_zone_uses_the_organisations_zone():
    assert org_zone(Organisation(time_zone="Asia/Tokyo")) == zoneinfo.ZoneInfo("Asia/Tokyo")


def test_org_zone_falls_back_for_a_bad_zone_or_no_org():
    assert org_zone(Organisation(time_zone="Nowhere/Special")) == timezone.get_default_timezone()
    assert org_zone("") == timezone.get_default_timezone()


def test_nav_section_follows_the_url_name():
    request = RequestFactory().get("/o/acme/settings/members/")
    request.resolver_match = resolve("/o/acme/settings/members/")
    out = Template("{% load fallback_ui %}{% nav_section as s %}{{ s }}").render(
        Context({"request": request})
    )
    assert out == "settings"
