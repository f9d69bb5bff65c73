"""The desk's one search box: customers, contacts, suppliers, products, price lists, orders
and invoices, prefix- and typo-tolerant, ranked.

SQLite: an FTS5 table with the trigram tokenizer over SearchEntry.text (migration 0002), so
any three letters of a word find it; PostgreSQL: a pg_trgm GIN index on the same column.
Every word of the query must appear (as a substring) — a query of "smi plumb" finds "Smith
Plumbing"; when that finds too little, each word is tried again as the title words one typo
away from it ("smtih" → "smith": the two share the one-letter deletion "smih", see
models.SearchWord). Candidates are then ranked here: exact title,
title prefix, word prefix, anywhere; then by kind, then alphabetically.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.db import connection

from fallback.desk.models import SearchWord
from fallback.desk.search_index import SEARCHED, WORD_MAX, WORD_MIN, deletions

LIMIT = 20
CANDIDATES = 200  # rows fetched for ranking here
MAX_CORRECTIONS = 3  # nearest words tried for a word with a typo
_WORD = re.compile(r"[\w@.+'-]+", re.UNICODE)
_KIND_ORDER = {entity: i for i, entity in enumerate(SEARCHED)}


@dataclass(frozen=True, slots=True)
class Hit:
    record_id: int
    entity: str
    key: str
    title: str
    subtitle: str
    score: float
    fuzzy: bool = False


def terms(query: str) -> list[str]:
    """The query's words, lower-case, without duplicates (the longest kept first)."""
    words = [w.strip("'.-") for w in _WORD.findall(query.lower())]
    unique = list(dict.fromkeys(w for w in words if w))
    return unique[:8]


def search(
    org_id: int, query: str, entities: tuple[str, ...] | None = None, limit: int = LIMIT
) -> list[Hit]:
    """The best `limit` entries of `org_id` for `query`, best first."""
    words = terms(query)
    if not words:
        return []
    kinds = tuple(e for e in (entities or SEARCHED) if e in _KIND_ORDER)
    if not kinds:
        return []
    hits = _rank(_exact(org_id, words, kinds), words, fuzzy=False)
    if len(hits) < limit:
        # Typos: each word in turn replaced by the nearest words the titles hold.
        seen = {h.record_id for h in hits}
        for i, word in enumerate(words):
            for better in corrections(org_id, word):
                fixed = [*words[:i], better, *words[i + 1 :]]
                for hit in _rank(_exact(org_id, fixed, kinds), fixed, fuzzy=True):
                    if hit.record_id not in seen:
                        seen.add(hit.record_id)
                        hits.append(hit)
    hits.sort(key=lambda h: (h.fuzzy, -h.score, _KIND_ORDER[h.entity], h.title.lower()))
    return hits[:limit]


Row = tuple[int, str, str, str, str, str]


def _in(kinds: tuple[str, ...]) -> str:
    return ", ".join(["%s"] * len(kinds))


def _exact(org_id: int, words: list[str], kinds: tuple[str, ...]) -> list[Row]:
    long = [w for w in words if len(w) >= 3]
    short = [w for w in words if len(w) < 3]
    cols = "e.record_id, e.entity, e.key, e.title, e.subtitle, e.text"
    where = [f"e.org_id = %s AND e.entity IN ({_in(kinds)})"]
    params: list[Any] = [org_id, *kinds]
    if connection.vendor == "sqlite":
        if long:
            # Each word a quoted phrase: with trigrams, a substring match of the whole word.
            match = " AND ".join('"' + w.replace('"', '""') + '"' for w in long)
            sql = (
                f"SELECT {cols} FROM desk_searchentry_fts f"  # noqa: S608 (constant SQL)
                " JOIN desk_searchentry e ON e.id = f.rowid"
                " WHERE desk_searchentry_fts MATCH %s AND "
            )
            params = [match, *params]
        else:
            sql = f"SELECT {cols} FROM desk_searchentry e WHERE "  # noqa: S608
        for w in short:  # too short for trigrams: a word of the title starting with it
            where.append("(e.title LIKE %s ESCAPE '\\' OR e.text LIKE %s ESCAPE '\\')")
            params += [_like(w) + "%", "% " + _like(w) + "%"]
        order = " ORDER BY f.rank" if long else " ORDER BY e.title"
    else:
        sql = f"SELECT {cols} FROM desk_searchentry e WHERE "  # noqa: S608
        for w in long:
            where.append("e.text LIKE %s")
            params.append("%" + _like(w) + "%")
        for w in short:
            where.append("(e.text LIKE %s OR e.text LIKE %s)")
            params += [_like(w) + "%", "% " + _like(w) + "%"]
        order = " ORDER BY length(e.title)"
    sql += " AND ".join(where) + order + f" LIMIT {CANDIDATES}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def distance(a: str, b: str) -> int:
    """Edits (insert, delete, substitute, swap two neighbours) from `a` to `b`."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        row = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                row[j] = min(row[j], previous2[j - 2] + 1)
        previous2, previous = previous, row
    return previous[-1]


def corrections(org_id: int, word: str, limit: int = MAX_CORRECTIONS) -> list[str]:
    """Title words of `org_id` one typo away from `word` (two for long words), nearest first."""
    if not WORD_MIN <= len(word) <= WORD_MAX or not word.isalpha():
        return []
    found = SearchWord.objects.filter(
        org_id=org_id, variant__in=sorted(deletions(word))
    ).values_list("word", flat=True)
    allowed = 1 if len(word) < 8 else 2
    near = {w: d for w in set(found) if w != word and (d := distance(word, w)) <= allowed}
    return sorted(near, key=lambda w: (near[w], w))[:limit]


def _like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _word_score(word: str, title: str, text: str) -> float:
    if title == word:
        return 4.0
    if title.startswith(word):
        return 3.0
    if f" {word}" in f" {title}":
        return 2.5
    if f" {word}" in f" {text}":
        return 2.0
    return 1.0 if word in text else 0.0


def _rank(rows: list[Row], words: list[str], fuzzy: bool) -> list[Hit]:
    hits = []
    for record_id, entity, key, title, subtitle, text in rows:
        lowered = title.lower()
        scores = [_word_score(w, lowered, text) for w in words]
        score = sum(scores) / len(scores)
        hits.append(Hit(record_id, entity, key, title, subtitle, score, fuzzy))
    return hits
