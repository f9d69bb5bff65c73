"""The connector examples in the guides are valid: a newcomer can copy them."""

import re
import textwrap
from pathlib import Path

import pytest
import yaml

from fallback.replica.editing import validate

DOCS = Path(__file__).resolve().parents[4] / "docs"


def _connectors(name: str) -> list[dict]:
    text = (DOCS / name).read_text(encoding="utf-8")
    found = []
    for block in re.findall(r"```yaml\n(.*?)```", text, flags=re.DOTALL):
        for data in yaml.safe_load_all(textwrap.dedent(block)):
            if isinstance(data, dict) and isinstance(data.get("connectors"), list):
                found.extend(data["connectors"])
            elif isinstance(data, dict) and "kind" in data and "config" in data:
                found.append(data)  # a fragment: one connector's kind and config
    return found


@pytest.mark.parametrize("guide", ["REPLICA.md", "CONFIG.md"])
def test_every_connector_example_in_the_guide_is_valid(guide):
    examples = _connectors(guide)
    assert examples
    for example in examples:
        validate(example["kind"], example["config"], example.get("mapping") or {})


def test_the_replica_guide_shows_a_rest_and_a_files_connector():
    kinds = {c["kind"] for c in _connectors("REPLICA.md")}
    assert {"rest", "files"} <= kinds
