"""Keeping the desk's search index in step with the replica's current records.

One SearchEntry per current record of the entities the desk looks up. A sync's new versions
get entries, its closed versions lose theirs, in the sync's own transaction (the receiver
of replica.signals.records_applied). `rebuild` makes an organisation's index from scratch
(after an upgrade, or from `fallback desk reindex`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from django.db import connection, transaction

from fallback.desk.models import SearchEntry, SearchWord
from fallback.replica.models import Record

# The entities the search box finds, in the order results are grouped.
SEARCHED = ("customer", "contact", "supplier", "product", "price_list", "order", "invoice")
BATCH = 2000

# Per entity: the fields whose words find it, and those shown under the title.
_WORDS: dict[str, tuple[str, ...]] = {
    "customer": ("name", "contact_name", "email", "phone", "city", "postcode", "tax_number"),
    "contact": ("name", "email", "phone", "role"),
    "supplier": ("name", "contact_name", "email", "phone", "account_number", "city"),
    "product": ("sku", "name", "description"),
    "price_list": ("sku", "name", "list"),
    "order": ("number", "customer_name", "status"),
    "invoice": ("number", "customer_name", "status"),
}
_SUBTITLE: dict[str, tuple[str, ...]] = {
    "customer": ("contact_name", "city", "email", "phone"),
    "contact": ("role", "email", "phone"),
    "supplier": ("contact_name", "city", "phone"),
    "product": ("sku", "price", "unit"),
    "price_list": ("list", "sku", "price"),
    "order": ("customer_name", "status", "due_date", "total"),
    "invoice": ("customer_name", "status", "due_date", "total"),
}
DESCRIPTION_WORDS = 200  # characters of a product description worth searching
# Title words this long get typo variants: shorter ones are found by prefix anyway, and
# longer ones are codes and e-mail addresses, typed by copying.
WORD_MIN, WORD_MAX = 4, 24
_TITLE_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def _text(value: Any) -> str:
    return "" if value is None or isinstance(value, (dict, list)) else str(value).strip()


def entry_values(entity: str, name: str, key: str, data: dict[str, Any]) -> tuple[str, str, str]:
    """(title, subtitle, search text) of one record."""
    title = (name or _text(data.get("name")) or _text(data.get("number")) or key)[:300]
    subtitle = " · ".join(v for f in _SUBTITLE.get(entity, ()) if (v := _text(data.get(f))))
    words = [title]
    for field in _WORDS.get(entity, ()):
        value = _text(data.get(field))
        if field == "description":
            value = value[:DESCRIPTION_WORDS]
        if value and value not in words:
            words.append(value)
    words.append(key)
    return title, subtitle[:300], " ".join(words).lower()


def _rows(records: Iterable[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    for pk, org_id, entity, key, name, data in records:
        title, subtitle, text = entry_values(entity, name, key, data or {})
        yield (org_id, pk, entity, key, title, subtitle, text)


_INSERT = (
    "INSERT INTO desk_searchentry (org_id, record_id, entity, key, title, subtitle, text)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s)"
)


def deletions(word: str) -> set[str]:
    """`word` and every string one letter shorter than it."""
    return {word} | {word[:i] + word[i + 1 :] for i in range(len(word))}


def title_words(title: str) -> set[str]:
    return {w for w in _TITLE_WORD.findall(title.lower()) if WORD_MIN <= len(w) <= WORD_MAX}


_INSERT_WORD = (
    "INSERT INTO desk_searchword (org_id, variant, word) VALUES (%s, %s, %s)"
    " ON CONFLICT (org_id, variant, word) DO NOTHING"
)


def _add_words(cursor: Any, org_words: dict[int, set[str]]) -> None:
    for org_id, words in org_words.items():
        listed = sorted(words)
        known: set[str] = set()
        for start in range(0, len(listed), 500):
            chunk = listed[start : start + 500]
            pairs = SearchWord.objects.filter(org_id=org_id, variant__in=chunk, word__in=chunk)
            known.update(w for v, w in pairs.values_list("variant", "word") if v == w)
        rows = [(org_id, v, w) for w in sorted(words - known) for v in sorted(deletions(w))]
        for start in range(0, len(rows), BATCH):
            cursor.executemany(_INSERT_WORD, rows[start : start + BATCH])


def _insert(records: Iterable[tuple[Any, ...]]) -> int:
    count = 0
    batch: list[tuple[Any, ...]] = []
    words: dict[int, set[str]] = {}
    with connection.cursor() as cursor:
        for row in _rows(records):
            batch.append(row)
            words.setdefault(row[0], set()).update(title_words(row[4]))
            if len(batch) >= BATCH:
                cursor.executemany(_INSERT, batch)
                count += len(batch)
                batch = []
        if batch:
            cursor.executemany(_INSERT, batch)
            count += len(batch)
        # Words stay when their entries go: a stale word costs a look-up, never a wrong hit.
        _add_words(cursor, words)
    return count


_FIELDS = ("pk", "org_id", "entity", "key", "name", "data")


def on_applied(connector_id: int, at: datetime) -> int:
    """Entries for the versions a sync of `connector_id` started at `at`, none for those it
    closed; returns how many entries were added."""
    closed = Record.objects.filter(connector_id=connector_id, valid_to=at).values("pk")
    SearchEntry.objects.filter(record_id__in=closed).delete()
    indexed = SearchEntry.objects.filter(record__connector_id=connector_id, record__valid_from=at)
    added = (
        Record.objects.filter(
            connector_id=connector_id, valid_from=at, valid_to__isnull=True, entity__in=SEARCHED
        )
        .exclude(pk__in=indexed.values("record_id"))  # told twice: indexed once
        .values_list(*_FIELDS)
    )
    return _insert(added.iterator(chunk_size=BATCH))


def rebuild(org_id: int) -> int:
    """The organisation's whole index anew, from its current records."""
    with transaction.atomic():
        SearchEntry.objects.filter(org_id=org_id).delete()
        SearchWord.objects.filter(org_id=org_id).delete()
        current = Record.objects.filter(
            org_id=org_id, valid_to__isnull=True, entity__in=SEARCHED
        ).values_list(*_FIELDS)
        return _insert(current.iterator(chunk_size=BATCH))
