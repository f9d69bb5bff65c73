"""The desk's one search box: customers, contacts, suppliers, products, price lists, orders
and invoices, prefix- and typo-tolerant, ranked.

SQLite: an FTS5 table with the trigram tokenizer over SearchEntry.text (migration 0001), so
any three letters of a word find it; PostgreSQL: a pg_trgm GIN index on the same column.
Every word of the query must appear (as a substring) — a query of "smi plumb" finds "Smith
Plumbing"; when that finds too little, a typo pass looks for entries sharing most of the
query's letter triples ("smtih" → "smith"). Candidates are then ranked here: exact title,
title prefix, word prefix, anywhere; then by kind, then alphabetically.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

from django.db import connection

from fallback.desk.search_index import SEARCHED

LIMIT = 20
CANDIDATES = 200  # rows fetched for ranking here
FUZZY_CANDIDATES = 400
FUZZY_FLOOR = 0.55  # similarity below which a typo match is not shown
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
    rows = _exact(org_id, words, kinds)
    hits = _rank(rows, words, fuzzy=False)
    if len(hits) < limit and any(len(w) >= 4 for w in words):
        seen = {h.record_id for h in hits}
        extra = _rank(_fuzzy(org_id, words, kinds), words, fuzzy=True)
        hits += [h for h in extra if h.record_id not in seen and h.score >= FUZZY_FLOOR]
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


def _trigrams(word: str) -> list[str]:
    padded = word if len(word) >= 3 else word + "  "
    return list(dict.fromkeys(padded[i : i + 3] for i in range(len(padded) - 2)))


def _fuzzy(org_id: int, words: list[str], kinds: tuple[str, ...]) -> list[Row]:
    cols = "e.record_id, e.entity, e.key, e.title, e.subtitle, e.text"
    longest = max(words, key=len)
    params: list[Any]
    if connection.vendor == "sqlite":
        grams = _trigrams(longest)
        match = " OR ".join('"' + g.replace('"', '""') + '"' for g in grams)
        sql = (
            f"SELECT {cols} FROM desk_searchentry_fts f"  # noqa: S608 (constant SQL)
            " JOIN desk_searchentry e ON e.id = f.rowid"
            f" WHERE desk_searchentry_fts MATCH %s AND e.org_id = %s AND e.entity IN ({_in(kinds)})"
            f" ORDER BY f.rank LIMIT {FUZZY_CANDIDATES}"
        )
        params = [match, org_id, *kinds]
    else:
        sql = (
            f"SELECT {cols} FROM desk_searchentry e"  # noqa: S608 (constant SQL)
            f" WHERE e.org_id = %s AND e.entity IN ({_in(kinds)}) AND %s <%% e.text"
            f" ORDER BY word_similarity(%s, e.text) DESC LIMIT {FUZZY_CANDIDATES}"
        )
        params = [org_id, *kinds, longest, longest]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def _like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _word_score(word: str, title: str, text: str, fuzzy: bool) -> float:
    if title == word:
        return 4.0
    if title.startswith(word):
        return 3.0
    if f" {word}" in f" {title}":
        return 2.5
    if f" {word}" in f" {text}":
        return 2.0
    if word in text:
        return 1.0
    if not fuzzy:
        return 0.0
    # A typo: how close the word is to the nearest word of the entry.
    best = 0.0
    for candidate in text.split():
        if abs(len(candidate) - len(word)) <= 2:
            best = max(best, SequenceMatcher(None, word, candidate).ratio())
    return best


def _rank(rows: list[Row], words: list[str], fuzzy: bool) -> list[Hit]:
    hits = []
    for record_id, entity, key, title, subtitle, text in rows:
        lowered = title.lower()
        scores = [_word_score(w, lowered, text, fuzzy) for w in words]
        score = sum(scores) / len(scores)
        hits.append(Hit(record_id, entity, key, title, subtitle, score, fuzzy))
    return hits
