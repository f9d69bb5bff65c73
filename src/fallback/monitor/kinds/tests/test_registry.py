"""The registry: lookup, registration, and validation of whole check definitions."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from fallback.monitor.kinds import (
    CheckKind,
    InvalidCheckConfig,
    Outcome,
    RunContext,
    UnknownCheckKind,
    all_kinds,
    get,
    register,
    registry,
    validate_config,
)
from fallback.monitor.models import State

SAMPLES: dict[str, dict[str, Any]] = {
    "http": {
        "url": "https://crm.example.com/health",
        "method": "post",
        "headers": {"Authorization": "Bearer t"},
        "body": {"ping": True},
        "expected_status": [200, "2xx", "300-302"],
        "keyword": "ok",
        "keyword_absent": "error",
        "json_condition": {"path": "$.db.up", "op": "==", "value": True},
        "max_response_ms": 1500,
        "follow_redirects": False,
        "tls_expiry_warn_days": 21,
        "verify_tls": False,
    },
    "tcp": {"host": "mail.example.com", "port": 587, "max_response_ms": 500},
    "dns": {
        "name": "example.com",
        "record_type": "mx",
        "expected": "10 mail.example.com",
        "nameservers": ["192.0.2.53:5353"],
    },
    "heartbeat": {"period_seconds": 86400, "grace_seconds": 3600},
    "statuspage": {"url": "https://status.ledgerly.test", "component": "Invoicing"},
}


def test_every_kind_is_registered_in_the_order_the_ui_offers_them() -> None:
    kinds = all_kinds()
    assert [kind.key for kind in kinds] == ["http", "tcp", "dns", "heartbeat", "statuspage"]
    assert all(kind.label and issubclass(kind.Config, BaseModel) for kind in kinds)
    assert get("dns") is kinds[2]


def test_get_of_an_unknown_kind_raises_a_key_error_that_says_what_exists() -> None:
    with pytest.raises(KeyError) as caught:
        get("htp")
    assert isinstance(caught.value, UnknownCheckKind)
    assert str(caught.value) == (
        "unknown check kind 'htp'; did you mean 'http'? "
        "(known kinds: http, tcp, dns, heartbeat, statuspage)"
    )


def test_an_unknown_kind_is_an_invalid_definition_at_kind() -> None:
    with pytest.raises(InvalidCheckConfig) as caught:
        validate_config("ping", {"host": "example.com"})
    assert caught.value.errors == [
        ("kind", "unknown check kind 'ping' (known kinds: http, tcp, dns, heartbeat, statuspage)")
    ]
    assert caught.value.locs == [("kind",)]


def test_config_must_be_a_mapping() -> None:
    with pytest.raises(InvalidCheckConfig) as caught:
        validate_config("http", ["https://example.com"])  # type: ignore[arg-type]
    assert caught.value.errors == [("config", "must be a mapping of keys to values (got a list)")]


def test_every_problem_is_reported_at_once_with_paths_and_locations() -> None:
    with pytest.raises(InvalidCheckConfig) as caught:
        validate_config(
            "http",
            {"url": "gopher://x", "expected_status": [200, 700], "json_condition": {"path": "$["}},
        )
    assert [path for path, _ in caught.value.errors] == [
        "config.url",
        "config.expected_status[1]",
        "config.json_condition.path",
    ]
    assert caught.value.locs[1] == ("config", "expected_status", 1)
    assert str(caught.value).startswith("config.url: must start with http:// or https://")


def test_unknown_options_are_named_with_the_known_ones() -> None:
    with pytest.raises(InvalidCheckConfig) as caught:
        validate_config("tcp", {"host": "db.example.com", "port": 5432, "prot": 1})
    assert caught.value.errors == [
        (
            "config.prot",
            "unknown key (known keys: host, port, max_response_ms); did you mean 'port'?",
        )
    ]


@pytest.mark.parametrize("key", list(SAMPLES))
def test_a_validated_config_survives_a_round_trip_through_json(key: str) -> None:
    model = validate_config(key, SAMPLES[key])
    again = validate_config(key, model.model_dump(mode="json"))
    assert again == model


def test_registering_another_kind_under_a_taken_key_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(registry, "_KINDS", dict(registry._KINDS))

    class Impostor(CheckKind[BaseModel]):
        key = "http"
        label = "Not HTTP"
        Config = BaseModel

    with pytest.raises(ValueError, match="already registered"):
        register(Impostor())
    assert type(get("http")).__name__ == "HttpKind"
    register(type(get("http"))())  # the same kind again is harmless (a module re-imported)


def test_a_new_kind_can_be_registered_and_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_KINDS", dict(registry._KINDS))

    class AlwaysUpConfig(BaseModel):
        model_config = {"extra": "forbid"}
        note: str = ""

    class AlwaysUp(CheckKind[AlwaysUpConfig]):
        key = "always-up"
        label = "Always up"
        Config = AlwaysUpConfig

        async def run(self, config: AlwaysUpConfig, ctx: RunContext) -> Outcome:
            return Outcome(State.UP, None, config.note)

    register(AlwaysUp())
    assert all_kinds()[-1].key == "always-up"
    assert validate_config("always-up", {"note": "fine"}) == AlwaysUpConfig(note="fine")


def _checks_in(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        found = [node] if "kind" in node and "config" in node else []
        return found + [c for value in node.values() for c in _checks_in(value)]
    if isinstance(node, list):
        return [c for item in node for c in _checks_in(item)]
    return []


def test_every_example_in_the_checks_guide_is_valid() -> None:
    guide = Path(__file__).resolve().parents[5] / "docs" / "CHECKS.md"
    blocks = re.findall(r"```yaml\n(.*?)```", guide.read_text(), flags=re.DOTALL)
    examples = [c for block in blocks for c in _checks_in(yaml.safe_load(block))]
    assert {c["kind"] for c in examples} == {kind.key for kind in all_kinds()}
    for check in examples:
        validate_config(check["kind"], check["config"])
