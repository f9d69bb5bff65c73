import time

from fallback.monitor.models import State
from fallback.monitor.transitions import next_check_status

UP, DEGRADED, DOWN, UNKNOWN = State.UP, State.DEGRADED, State.DOWN, State.UNKNOWN


def run(start: str, outcomes: list[str], n: int = 3, m: int = 2) -> list[str]:
    status, failures, successes = start, 0, 0
    seen = []
    for outcome in outcomes:
        status, failures, successes = next_check_status(status, failures, successes, outcome, n, m)
        seen.append(status)
    return seen


def test_down_after_three_failures():
    assert run(UP, [DOWN, DOWN, DOWN]) == [UP, UP, DOWN]


def test_a_success_between_failures_restarts_the_count():
    assert run(UP, [DOWN, DOWN, UP, DOWN, DOWN, DOWN]) == [UP, UP, UP, UP, UP, DOWN]


def test_up_again_only_after_two_successes():
    assert run(DOWN, [UP, UP]) == [DOWN, UP]


def test_a_failure_between_successes_keeps_it_down():
    assert run(DOWN, [UP, DOWN, UP, UP]) == [DOWN, DOWN, DOWN, UP]


def test_degraded_counts_as_a_success_but_marks_the_check_degraded():
    assert run(DOWN, [DEGRADED, DEGRADED]) == [DOWN, DEGRADED]
    assert run(UP, [DEGRADED, DOWN, DOWN, UP]) == [DEGRADED, DEGRADED, DEGRADED, UP]


def test_up_and_degraded_follow_each_result_at_once():
    assert run(UP, [DEGRADED, UP, DEGRADED]) == [DEGRADED, UP, DEGRADED]


def test_unknown_leaves_status_and_counters_untouched():
    assert next_check_status(UP, 2, 0, UNKNOWN, 3, 2) == (UP, 2, 0)
    assert next_check_status(DOWN, 0, 1, UNKNOWN, 3, 2) == (DOWN, 0, 1)
    # So an unknown in the middle neither breaks nor completes a run of failures.
    assert run(UP, [DOWN, DOWN, UNKNOWN, DOWN]) == [UP, UP, UP, DOWN]


def test_new_check_needs_m_successes_to_be_up():
    assert run(UNKNOWN, [UP, UP]) == [UNKNOWN, UP]


def test_new_check_needs_n_failures_to_be_down():
    assert run(UNKNOWN, [DOWN, DOWN, DOWN]) == [UNKNOWN, UNKNOWN, DOWN]


def test_thresholds_of_one_react_to_the_first_result():
    assert run(UP, [DOWN, UP], n=1, m=1) == [DOWN, UP]
    # Zero is treated as one, not as "always".
    assert run(UP, [DOWN], n=0, m=0) == [DOWN]


def test_counters_are_returned_for_storage():
    assert next_check_status(UP, 0, 5, DOWN, 3, 2) == (UP, 1, 0)
    assert next_check_status(DOWN, 4, 0, UP, 3, 2) == (DOWN, 0, 1)


def test_is_fast_enough_for_every_result():
    started = time.perf_counter()
    for _ in range(100_000):
        next_check_status(UP, 1, 0, DOWN, 3, 2)
    # The engine's budget is thousands of results a second; this leaves it ~100x headroom.
    assert time.perf_counter() - started < 1.0
