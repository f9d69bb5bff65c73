"""Durations as people write them ("4h", "1 day 12 hours", "30 min", "2w"), stored as
minutes, and shown back in words ("1 day 12 hours") or in the config file's short form
("1d 12h")."""

from __future__ import annotations

import re

MINUTE, HOUR, DAY, WEEK = 1, 60, 24 * 60, 7 * 24 * 60
MAX_MINUTES = 366 * DAY  # a year: longer is not a continuity target
UNITS: dict[str, int] = {
    "m": MINUTE,
    "min": MINUTE,
    "mins": MINUTE,
    "minute": MINUTE,
    "minutes": MINUTE,
    "h": HOUR,
    "hr": HOUR,
    "hrs": HOUR,
    "hour": HOUR,
    "hours": HOUR,
    "d": DAY,
    "day": DAY,
    "days": DAY,
    "w": WEEK,
    "wk": WEEK,
    "week": WEEK,
    "weeks": WEEK,
}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]+)")
EXAMPLE = "e.g. 30m, 4h, 1d 12h or 2 weeks"


class BadDuration(ValueError):
    pass


def parse(text: str) -> int:
    """Minutes in `text`; BadDuration saying what is wrong otherwise."""
    cleaned = text.strip().lower().replace(",", " ").replace(" and ", " ")
    if not cleaned:
        raise BadDuration(f"give a duration, {EXAMPLE}")
    if cleaned.isdigit():
        raise BadDuration(f"give the unit too, {EXAMPLE} (got {text.strip()!r})")
    total = 0.0
    position = 0
    for match in _PART.finditer(cleaned):
        if cleaned[position : match.start()].strip():
            break
        number, unit = match.groups()
        if unit not in UNITS:
            raise BadDuration(f"{unit!r} is not a unit of time: {EXAMPLE}")
        total += float(number) * UNITS[unit]
        position = match.end()
    if position == 0 or cleaned[position:].strip():
        raise BadDuration(f"is not a duration: {EXAMPLE} (got {text.strip()!r})")
    minutes = round(total)
    if minutes < 1:
        raise BadDuration("must be at least a minute")
    if minutes > MAX_MINUTES:
        raise BadDuration(f"must be at most a year (got {words(minutes)})")
    return minutes


def _split(minutes: int) -> list[tuple[int, str]]:
    days, rest = divmod(minutes, DAY)
    hours, mins = divmod(rest, HOUR)
    return [(n, unit) for n, unit in ((days, "d"), (hours, "h"), (mins, "m")) if n]


def short(minutes: int | None) -> str:
    """1d 12h, 4h, 30m: the config file's form (parse() reads it back)."""
    if minutes is None:
        return ""
    return " ".join(f"{n}{unit}" for n, unit in _split(minutes)) or "0m"


_WORDS = {"d": ("day", "days"), "h": ("hour", "hours"), "m": ("minute", "minutes")}


def words(minutes: int | None) -> str:
    """1 day 12 hours, 4 hours, 30 minutes; whole weeks as weeks."""
    if minutes is None:
        return ""
    if minutes >= WEEK and minutes % WEEK == 0:
        weeks = minutes // WEEK
        return f"{weeks} week{'s' if weeks != 1 else ''}"
    parts = [f"{n} {_WORDS[unit][n != 1]}" for n, unit in _split(minutes)]
    return " ".join(parts) or "0 minutes"
