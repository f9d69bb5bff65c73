import pytest
from pydantic import BaseModel, ConfigDict

from fallback.configfile.registry import Registry, Section, registry


class Thing(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    note: str | None = None


def section(key, order=100):
    return Section(
        key=key, schema=list[Thing], export=lambda org: None, apply=lambda c, v: None, order=order
    )


def test_sections_come_in_order_then_by_key():
    reg = Registry()
    for key, order in [("b", 20), ("a", 20), ("first", 0)]:
        reg.register(section(key, order))
    assert [s.key for s in reg.sections()] == ["first", "a", "b"]
    assert reg.get("a") is not None
    assert reg.get("zzz") is None


@pytest.mark.parametrize("key", ["version", "taken"])
def test_a_key_can_be_registered_once_and_version_never(key):
    reg = Registry()
    reg.register(section("taken"))
    with pytest.raises(ValueError, match="already taken"):
        reg.register(section(key))


def test_apps_sections_are_discovered_from_their_config_sections_module():
    keys = [s.key for s in registry.sections()]
    assert keys[:2] == ["organisation", "members"]


def test_dump_leaves_unset_optional_fields_out():
    s = section("things")
    assert s.dump([Thing(name="a"), Thing(name="b", note="n")]) == [
        {"name": "a"},
        {"name": "b", "note": "n"},
    ]
