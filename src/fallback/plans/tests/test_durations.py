"""Durations as people write them, stored as minutes, shown back in words or short form."""

import pytest

from fallback.plans import durations


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("30m", 30),
        ("30 min", 30),
        ("4h", 240),
        ("4 hours", 240),
        ("1d 12h", 2160),
        ("1 day and 12 hours", 2160),
        ("1.5h", 90),
        ("2w", 20160),
        ("2 weeks", 20160),
        ("1h30m", 90),
        ("  3 Days ", 4320),
    ],
)
def test_parse_reads_what_people_write(text, minutes):
    assert durations.parse(text) == minutes


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "give a duration"),
        ("240", "give the unit too"),
        ("4 parsecs", "'parsecs' is not a unit of time"),
        ("soon", "is not a duration"),
        ("4h then", "is not a duration"),
        ("0m", "at least a minute"),
        ("2 years", "'years' is not a unit of time"),
        ("400d", "at most a year"),
    ],
)
def test_parse_says_what_is_wrong(text, message):
    with pytest.raises(durations.BadDuration, match=message):
        durations.parse(text)


@pytest.mark.parametrize("minutes", [1, 59, 60, 90, 1440, 2160, 10080, 20160, 527040])
def test_the_short_form_reads_back_as_the_same_duration(minutes):
    assert durations.parse(durations.short(minutes)) == minutes


def test_words_and_short_forms():
    assert durations.short(2160) == "1d 12h"
    assert durations.short(90) == "1h 30m"
    assert durations.words(2160) == "1 day 12 hours"
    assert durations.words(61) == "1 hour 1 minute"
    assert durations.words(20160) == "2 weeks"
    assert durations.words(None) == durations.short(None) == ""
