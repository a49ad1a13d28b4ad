"""The balancing bench's pure helpers and its boxes' slot queue (bench/fleet.py, bench/balance_bench.py)."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from balance_bench import capacity, ideal_split, percentile, shares  # noqa: E402
from fleet import BoxKilled, BoxSpec, Slots  # noqa: E402


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(1, 11)]  # 1..10
    assert percentile(values, 50) == 5.0
    assert percentile(values, 90) == 9.0
    assert percentile(values, 99) == 10.0
    assert percentile(list(reversed(values)), 10) == 1.0
    assert percentile([], 90) is None


def test_capacity_and_shares_follow_slots_over_service_time():
    fast = BoxSpec("A", ttft=0.3, tok_rate=50, parallel=2)
    slow = BoxSpec("C", ttft=1.5, tok_rate=10, parallel=1)
    # 10 tokens: the first after the TTFT, nine more at the token rate
    assert capacity([fast], 10) == pytest.approx(2 / 0.48)
    assert capacity([slow], 10) == pytest.approx(1 / 2.4)
    split = shares([fast, slow], 10, 10)
    assert split["A"] == pytest.approx(10 * (2 / 0.48) / (2 / 0.48 + 1 / 2.4))
    assert sum(split.values()) == pytest.approx(10)


def test_the_ideal_split_of_a_burst_fills_the_fast_boxes_before_the_slow_one():
    fast_a = BoxSpec("A", ttft=0.3, tok_rate=50, parallel=2)
    fast_b = BoxSpec("B", ttft=0.3, tok_rate=50, parallel=2)
    slow = BoxSpec("C", ttft=1.5, tok_rate=10, parallel=1)
    # A's 5th and 6th start after two services (1.26 s) < C's 1.5 s; A's 7th would wait 1.74 s
    assert ideal_split([fast_a, fast_b, slow], 10, 10) == {"A": 5, "B": 5, "C": 0}
    assert ideal_split([fast_a, fast_b, slow], 10, 13) == {"A": 6, "B": 6, "C": 1}


def _waiter(slots: Slots, order: list, name: str, alive=lambda: True) -> threading.Thread:
    def run():
        try:
            slots.acquire(alive)
            order.append(name)
        except BoxKilled:
            order.append(name + " gave up")

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _until(condition) -> None:
    """Wait for another thread's progress (a generous bound, not a timed assertion)."""
    event = threading.Event()
    for _ in range(2000):
        if condition():
            return
        event.wait(0.005)
    raise AssertionError("the other thread made no progress")


def test_a_chat_waits_for_a_free_slot_and_the_queue_is_first_come_first_served():
    slots = Slots(parallel=1)
    slots.acquire()
    order: list = []
    first = _waiter(slots, order, "first")
    _until(lambda: slots.waiting == 1)
    second = _waiter(slots, order, "second")
    _until(lambda: slots.waiting == 2)
    assert order == [] and slots.free == 0
    slots.release()
    first.join(5)
    assert order == ["first"] and slots.waiting == 1
    slots.release()
    second.join(5)
    assert order == ["first", "second"] and slots.in_use == 1


def test_a_killed_box_drops_its_queue_and_the_turn_passes_on():
    slots = Slots(parallel=1)
    slots.acquire()
    order: list = []
    alive = {"first": True}
    first = _waiter(slots, order, "first", lambda: alive["first"])
    _until(lambda: slots.waiting == 1)
    second = _waiter(slots, order, "second")
    _until(lambda: slots.waiting == 2)
    alive["first"] = False  # the first waiter's box went away: it gives up its place
    first.join(5)
    slots.release()
    second.join(5)
    assert order == ["first gave up", "second"]
