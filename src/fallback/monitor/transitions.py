"""A check's status from its latest outcome: the debounce of the state machine.

The engine calls `next_check_status` for every result, so it is pure and cheap: plain string
comparisons, no database, no allocation beyond the returned tuple.

The rules, per check:

- A failure (outcome DOWN) counts; the check is DOWN once `failures_to_down` failures come
  in a row. Until then it keeps the status it had (UP stays UP while failures mount).
- A success (outcome UP or DEGRADED) counts; a DOWN check comes back only after
  `successes_to_up` successes in a row, and comes back as what the last one said (UP or
  DEGRADED). A check that is UP or DEGRADED follows each success at once: UP ↔ DEGRADED
  is a change of quality, not of availability, so it needs no debounce.
- A new check (UNKNOWN: no history yet) needs the same evidence as a recovering one:
  `successes_to_up` successes make it UP (or DEGRADED), `failures_to_down` failures make
  it DOWN. One lucky or unlucky first result does not decide it.
- An UNKNOWN outcome (we could not tell, e.g. our own link is down) changes nothing: not
  the status, not the counters, so it neither breaks nor extends a run.
"""

from __future__ import annotations

from fallback.monitor.models import State

_UP = State.UP.value
_DEGRADED = State.DEGRADED.value
_DOWN = State.DOWN.value
_UNKNOWN = State.UNKNOWN.value


def next_check_status(
    status: str,
    consecutive_failures: int,
    consecutive_successes: int,
    outcome_status: str,
    failures_to_down: int,
    successes_to_up: int,
) -> tuple[str, int, int]:
    """(status, consecutive_failures, consecutive_successes) after one outcome."""
    if outcome_status == _DOWN:
        failures = consecutive_failures + 1
        if failures >= max(failures_to_down, 1):
            return _DOWN, failures, 0
        return status, failures, 0
    if outcome_status in (_UP, _DEGRADED):
        successes = consecutive_successes + 1
        if status in (_UP, _DEGRADED):
            return outcome_status, 0, successes
        if successes >= max(successes_to_up, 1):
            return outcome_status, 0, successes
        return status, 0, successes
    # UNKNOWN (or anything a kind should not report): no evidence either way.
    return status, consecutive_failures, consecutive_successes
