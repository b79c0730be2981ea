"""A compared pair in one line: the difference, its interval over test scenes, its spread over training seeds, the verdict.

Every verdict of the course reads two kinds of noise (``utils.verdicts``):
which test scenes were drawn (the bootstrap interval of seed 0, the shipped
model) and which training run produced the models (the same difference for
seeds 1 and 2, from ``utils/weights/seeds.json``). ``glue_comparison`` glues
both and the verdict under one key; ``draw_comparisons`` shows them side by
side: a bar for the scene interval, a dot per seed. Used by chapters 3, 4, 5,
7, 8 and 9.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from ..bootstrap import scene_noise
from ..verdicts import verdict
from .glue import glue, glue_interval, interval_phrase


@dataclass(frozen=True)
class Comparison:
    """One claim tested: ``interval`` (value, low, high) of seed 0 over scenes, ``seeds`` the difference per seed."""

    interval: tuple[float, float, float]
    seeds: tuple[float, ...]
    claim: str = "greater"

    @property
    def verdict(self) -> str:
        return verdict(self.claim, self.interval, self.seeds)

    def phrase(self, unit: str = "mIoU") -> str:
        """The difference in words, with its scene interval and, where there are several, its seeds' range."""
        if len(self.seeds) < 2:
            return interval_phrase(self.interval, unit)
        value, low, high = self.interval
        return (f"{value:+z.3f} {unit} (95% interval {low:+.3f} to {high:+.3f} over test scenes, "
                f"{scene_noise(low, high)} of the scenes; over {len(self.seeds)} training seeds "
                f"{min(self.seeds):+.3f} to {max(self.seeds):+.3f})")

    @property
    def spread(self) -> str:
        """``lowest -0.010, mean +0.020, highest +0.040 over 3 seeds``, or the one seed there is."""
        if len(self.seeds) < 2:
            return "one seed"
        mean = sum(self.seeds) / len(self.seeds)
        return (f"lowest {min(self.seeds):+.3f}, mean {mean:+.3f}, highest {max(self.seeds):+.3f} "
                f"over {len(self.seeds)} seeds")


def glue_comparison(key: str, interval: tuple[float, float, float], seeds: Sequence[float] = (),
                    claim: str = "greater") -> Comparison:
    """Glue ``key`` (with ``_ci_low``, ``_ci_high``), ``key_seeds`` (the spread in words), ``key_seed_count``.

    ``seeds``: the difference for every training seed, seed 0 (the chapter's
    own measurement) first; empty when only seed 0 was trained.
    """
    glue_interval(key, interval)
    comparison = Comparison(tuple(interval), tuple(seeds) or (interval[0],), claim)
    glue(f"{key}_seeds", comparison.spread)
    glue(f"{key}_seed_count", len(comparison.seeds))
    return comparison


def print_comparisons(rows: dict[str, Comparison], unit: str = "mIoU") -> None:
    """A table: each comparison's difference, its 95% interval over scenes, its range over training seeds."""
    width = max(len(label) for label in rows)
    print(f"{'comparison':<{width}}  {unit + ' diff.':>10}  {'95% over scenes':>17}  seeds: lowest to highest")
    for label, row in rows.items():
        value, low, high = row.interval
        seeds = (f"{min(row.seeds):+.3f} to {max(row.seeds):+.3f} ({len(row.seeds)})" if len(row.seeds) > 1
                 else "one seed")
        print(f"{label:<{width}}  {value:>+10.3f}  {low:>+8.3f} to {high:+.3f}  {seeds}")


def draw_comparisons(rows: dict[str, Comparison], unit: str = "mIoU") -> Figure:
    """Each comparison on a line: its scene interval (bar), seed 0 (filled dot), seeds 1, 2, ... (open dots)."""
    fig, ax = plt.subplots(figsize=(8.0, 0.55 * len(rows) + 1.2), layout="constrained")
    labels = {"interval": "95% interval over test scenes (seed 0)", "seed0": "seed 0 (shipped)",
              "seeds": "other training seeds"}
    for y, (label, row) in enumerate(reversed(rows.items())):
        value, low, high = row.interval
        ax.plot([low, high], [y, y], color="tab:blue", linewidth=5, alpha=0.45, solid_capstyle="butt",
                label=labels.pop("interval", None))
        ax.plot(value, y, "o", color="tab:blue", label=labels.pop("seed0", None))
        if len(row.seeds) > 1:
            ax.plot(row.seeds[1:], [y] * (len(row.seeds) - 1), "o", markerfacecolor="none",
                    markeredgecolor="black", label=labels.pop("seeds", None))
        ax.annotate(row.verdict, (1.01, y), xycoords=("axes fraction", "data"), va="center", fontsize=8)
    ax.axvline(0, color="grey", linewidth=1)
    ax.set_yticks(range(len(rows)), list(reversed(rows)))
    ax.set_xlabel(f"difference in {unit} (first minus second)")
    ax.set_ylim(-0.7, len(rows) - 0.3)
    fig.legend(fontsize=7, loc="outside lower center", ncols=3, frameon=False)
    return fig
