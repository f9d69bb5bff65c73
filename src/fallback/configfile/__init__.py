"""Config as code: organisations described in YAML files, applied and exported.

- `loader.load_config(text, filename)` parses and validates, or raises `ConfigInvalid`
  carrying every problem as a `ConfigError(file, line, message)`;
- `apply.apply_documents(documents)` makes the database match, in one transaction;
- `export.export_config(orgs)` writes the same format back.

Apps contribute sections (see `registry`) from a `config_sections` module; docs/CONFIG.md
describes the format.
"""
