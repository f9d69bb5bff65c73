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
CANDIDATES = 200  # rows holding the words, fetched for ranking here
PREFIX_CANDIDATES = 50  # rows whose title starts with the first word
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
    """Entries holding every word: those whose title starts with the first word (by index),
    then up to CANDIDATES others in no particular order — ranking is done here, and asking
    the database to rank every match of a common word ("leeds") is what made it slow."""
    rows = _title_prefix(org_id, words, kinds)
    seen = {row[0] for row in rows}
    return rows + [row for row in _substring(org_id, words, kinds) if row[0] not in seen]


_COLUMNS = "e.record_id, e.entity, e.key, e.title, e.subtitle, e.text"


def _contains(words: list[str]) -> tuple[list[str], list[Any]]:
    """SQL conditions (over `e`) that the entry's text holds each word; short words (too
    short for trigrams) at the start of one of its words."""
    where: list[str] = []
    params: list[Any] = []
    for w in words:
        if len(w) >= 3:
            where.append("e.text LIKE %s ESCAPE '\\'")
            params.append("%" + _like(w) + "%")
        else:
            where.append("(e.text LIKE %s ESCAPE '\\' OR e.text LIKE %s ESCAPE '\\')")
            params += [_like(w) + "%", "% " + _like(w) + "%"]
    return where, params


def _title_prefix(org_id: int, words: list[str], kinds: tuple[str, ...]) -> list[Row]:
    first = words[0]
    upper = first[:-1] + chr(ord(first[-1]) + 1)
    where, params = _contains(words[1:])
    sql = (
        f"SELECT {_COLUMNS} FROM desk_searchentry e"  # noqa: S608 (constant SQL)
        f" WHERE e.org_id = %s AND LOWER(e.title) >= %s AND LOWER(e.title) < %s"
        f" AND e.entity IN ({_in(kinds)})"
        + "".join(f" AND {w}" for w in where)
        + f" LIMIT {PREFIX_CANDIDATES}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [org_id, first, upper, *kinds, *params])
        return list(cursor.fetchall())


def _substring(org_id: int, words: list[str], kinds: tuple[str, ...]) -> list[Row]:
    long = [w for w in words if len(w) >= 3]
    params: list[Any] = []
    if connection.vendor == "sqlite" and long:
        # Each word a quoted phrase: with trigrams, a substring match of the whole word.
        match = " AND ".join('"' + w.replace('"', '""') + '"' for w in long)
        # CROSS JOIN keeps the full-text match the outer loop: left to itself, SQLite may
        # walk the organisation's entries and run the match once for each of them.
        source = (
            "desk_searchentry_fts f CROSS JOIN desk_searchentry e ON e.id = f.rowid"
            " WHERE desk_searchentry_fts MATCH %s AND"
        )
        params.append(match)
        where, more = _contains([w for w in words if len(w) < 3])
    else:  # PostgreSQL: LIKE '%word%' is served by the trigram index
        source = "desk_searchentry e WHERE"
        where, more = _contains(words)
    sql = (
        f"SELECT {_COLUMNS} FROM {source}"  # noqa: S608 (constant SQL)
        f" e.org_id = %s AND e.entity IN ({_in(kinds)})"
        + "".join(f" AND {w}" for w in where)
        + f" LIMIT {CANDIDATES}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, org_id, *kinds, *more])
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
