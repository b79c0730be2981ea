"""The course's one rule for a verdict on a claim, read from intervals (every chapter from chapter 2 on).

A chapter measures a difference (ours: model A minus model B) with a 95%
bootstrap interval over test scenes (``utils.bootstrap``) and, where it was
trained more than once, the difference for each training seed. A paper's
claim is one of three kinds, and the verdict follows from the numbers alone:

- ``"greater"`` (A beats B): *direction reproduced* when the interval lies
  above zero and the difference of each of at least ``MIN_SEEDS`` training
  seeds is positive; *consistent with* when the interval lies above zero but
  fewer seeds were trained (one training run cannot rule out that another
  would reverse it); *not reproduced* when the interval lies below zero and
  every seed's is negative (the opposite holds); otherwise *inside the
  noise* (the interval contains zero, or the seeds disagree on the sign).
- ``"equal"`` (no difference): *reproduced* when the interval lies within
  plus or minus ``NARROW`` and so does the difference of each of at least
  ``MIN_SEEDS`` training seeds: a difference that small is ruled out, over
  scenes and over training runs; *consistent with* when the interval
  contains zero but is wider, or was measured on fewer seeds (no difference
  shown, none ruled out); *not reproduced* when it excludes zero.
- ``"exact"`` (a number computed exactly, as an overlap ratio or an output
  size): *reproduced* or *not reproduced*.

The book's glossary and ``book/reproductions.md`` state the same rule.
"""

from __future__ import annotations

from collections.abc import Sequence

#: The five verdicts, strongest first.
VERDICTS = ("reproduced", "direction reproduced", "consistent with", "inside the noise", "not reproduced")
#: How narrow an interval must be to show "no difference": within +-0.01 (one point of mIoU or of AP).
NARROW = 0.01
#: How many training seeds a claim needs before it can be "reproduced" or "direction reproduced" (seed 0 counts).
MIN_SEEDS = 3
CLAIMS = ("greater", "equal", "exact")


def verdict(claim: str, interval: tuple[float, float, float] | None = None, seeds: Sequence[float] = (),
            holds: bool | None = None, narrow: float = NARROW, trained: bool = True) -> str:
    """The verdict on a ``claim`` ("greater", "equal" or "exact") from an ``interval`` (value, low, high).

    ``seeds``: the same difference measured for each training seed, seed 0's included (none: one run, seed 0).
    ``holds``: for an ``"exact"`` claim, whether our computed number equals the paper's.
    ``trained``: False for a quantity no training run changes (a time, a count
    of operations), which needs no seeds.
    """
    if claim not in CLAIMS:
        raise ValueError(f"claim must be one of {CLAIMS}, got {claim!r}")
    if claim == "exact":
        if holds is None:
            raise ValueError("holds: an exact claim needs holds=True or False")
        return "reproduced" if holds else "not reproduced"
    if interval is None:
        raise ValueError(f"interval: a {claim!r} claim needs the (value, low, high) of the difference")
    _, low, high = interval
    if claim == "greater":
        if low > 0 and all(s > 0 for s in seeds):
            return "direction reproduced" if len(seeds) >= MIN_SEEDS or not trained else "consistent with"
        if high < 0 and all(s < 0 for s in seeds):
            return "not reproduced"
        return "inside the noise"
    if low > 0 or high < 0:
        return "not reproduced"
    seeds_agree = len(seeds) >= MIN_SEEDS and all(abs(s) <= narrow for s in seeds)
    within = -narrow <= low and high <= narrow and seeds_agree
    return "reproduced" if within else "consistent with"


def count_phrase(verdicts: Sequence[str]) -> str:
    """``"12 claims tested: 2 reproduced, 6 direction reproduced, ..., 1 not reproduced."``, every kind listed.

    Raises ``ValueError`` naming a verdict that is not one of ``VERDICTS``.
    """
    unknown = sorted(set(verdicts) - set(VERDICTS))
    if unknown:
        raise ValueError(f"verdicts: {unknown} are not among {VERDICTS}")
    counts = ", ".join(f"{sum(v == kind for v in verdicts)} {kind}" for kind in VERDICTS)
    return f"{len(verdicts)} claims tested: {counts}."
