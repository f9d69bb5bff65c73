"""Write organisations in the config format, so that applying the text changes nothing.

Stable by construction: organisations by slug, each section in registry order, keys in
schema order, lists in the order each section's export gives (sorted), so that two exports
of the same state are identical and diffs show real changes only.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import yaml

from fallback.configfile.document import VERSION
from fallback.configfile.registry import Registry, registry

if TYPE_CHECKING:
    from fallback.accounts.models import Organisation


class _Dumper(yaml.SafeDumper):
    """Indents list items under their key, as people write YAML by hand."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # Text of several lines (an address, vendor contacts) as a `|` block, as people write
    # it; PyYAML itself falls back to quotes where a block cannot hold the text exactly.
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def export_config(organisations: Iterable[Organisation], sections: Registry = registry) -> str:
    """One YAML document per organisation, separated by `---`; "" for none."""
    texts = []
    for org in sorted(organisations, key=lambda o: o.slug):
        document: dict[str, Any] = {"version": VERSION}
        for section in sections.sections():
            value = section.export(org)
            if value is not None:
                document[section.key] = section.dump(value)
        texts.append(
            yaml.dump(
                document,
                Dumper=_Dumper,
                sort_keys=False,
                allow_unicode=True,
                default_flow_style=False,
                width=4096,  # never fold a long name over two lines
            )
        )
    return "---\n".join(texts)
