"""The search engines behind desk_searchentry.text (see fallback.desk.search).

SQLite: an external-content FTS5 table with the trigram tokenizer, kept in step by triggers.
PostgreSQL: the pg_trgm extension and a GIN trigram index (creating the extension needs a
role allowed to; on a managed database, create it once as its owner).
"""

from typing import Any

from django.db import migrations

_SQLITE = [
    "CREATE VIRTUAL TABLE desk_searchentry_fts USING fts5("
    " text, content='desk_searchentry', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER desk_searchentry_ai AFTER INSERT ON desk_searchentry BEGIN"
    " INSERT INTO desk_searchentry_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER desk_searchentry_ad AFTER DELETE ON desk_searchentry BEGIN"
    " INSERT INTO desk_searchentry_fts(desk_searchentry_fts, rowid, text)"
    " VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER desk_searchentry_au AFTER UPDATE ON desk_searchentry BEGIN"
    " INSERT INTO desk_searchentry_fts(desk_searchentry_fts, rowid, text)"
    " VALUES ('delete', old.id, old.text);"
    " INSERT INTO desk_searchentry_fts(rowid, text) VALUES (new.id, new.text); END",
]
_SQLITE_UNDO = [
    "DROP TRIGGER IF EXISTS desk_searchentry_au",
    "DROP TRIGGER IF EXISTS desk_searchentry_ad",
    "DROP TRIGGER IF EXISTS desk_searchentry_ai",
    "DROP TABLE IF EXISTS desk_searchentry_fts",
]
_POSTGRES = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS desk_searchentry_text_trgm"
    " ON desk_searchentry USING gin (text gin_trgm_ops)",
]
_POSTGRES_UNDO = ["DROP INDEX IF EXISTS desk_searchentry_text_trgm"]


def _run(statements: dict[str, list[str]]) -> Any:
    def run(apps: Any, schema_editor: Any) -> None:
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("desk", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": _SQLITE, "postgresql": _POSTGRES}),
            _run({"sqlite": _SQLITE_UNDO, "postgresql": _POSTGRES_UNDO}),
        )
    ]
