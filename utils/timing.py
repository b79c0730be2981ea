"""Timing that a busy machine cannot fool: interleaved repeats, the fastest run of each kept.

A laptop or a shared CI machine slows down in spells. Timing A five times and
then B five times lets a spell hit only one of them; interleaving (A, B, A, B,
...) spreads it over both, and the minimum of each is the run least disturbed.
Ratios of such times are what the chapters print; the claims they support are
about work done, which the timings illustrate. Used by chapters 2, 3, 4 and 7.
"""

from __future__ import annotations

import time
from collections.abc import Callable


def best_seconds(works: dict[str, Callable[[], object]], repeats: int = 5) -> dict[str, float]:
    """Fastest wall time of each ``works[name]()`` over ``repeats`` interleaved rounds, after one warm-up round."""
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    best = {name: float("inf") for name in works}
    for round_ in range(repeats + 1):
        for name, work in works.items():
            start = time.perf_counter()
            work()
            if round_:  # round 0 warms caches and allocators up
                best[name] = min(best[name], time.perf_counter() - start)
    return best
