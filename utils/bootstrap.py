"""Noise scales for the course's comparisons: bootstrap intervals over test scenes.

A difference of 0.01 mIoU between two models means something only if
resampling the test scenes would not swing it by as much. Every chapter that
compares models scores them scene by scene (one confusion matrix per scene),
then resamples the scenes with replacement: the spread of the resampled mIoU
(or of the resampled difference, the same scenes drawn for both models) is
the noise scale the prose quotes. First used in ``lectures/03_multiscale``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from .data import VOID
from .metrics import ap_from_matches, confusion_matrix, iou_from_confusion, scene_matches

#: Bootstrap draws per interval, everywhere in the course (the chapters glue it).
RESAMPLES = 1000


def scene_confusions(predictions: torch.Tensor, targets: torch.Tensor, num_classes: int) -> torch.Tensor:
    """One confusion matrix per scene: (N, H, W) label maps -> int64 (N, num_classes, num_classes); ``VOID`` left out."""
    if predictions.shape != targets.shape or predictions.dim() != 3:
        raise ValueError(f"predictions and targets must both be (N, H, W), got {tuple(predictions.shape)} "
                         f"and {tuple(targets.shape)}")
    return torch.stack([confusion_matrix(p, t, num_classes, ignore_index=VOID) for p, t in zip(predictions, targets)])


def miou_of(confusions: torch.Tensor) -> float:
    """mIoU of the summed (N, C, C) per-scene confusion matrices: the data set's mIoU."""
    return iou_from_confusion(confusions.sum(0)).nanmean().item()


def pixel_accuracy_of(confusions: torch.Tensor) -> float:
    """Pixel accuracy of the summed (N, C, C) per-scene confusion matrices."""
    total = confusions.sum(0)
    return (total.diag().sum() / total.sum()).item()


def bootstrap(value: Callable[[torch.Tensor | slice], float], n: int, resamples: int = RESAMPLES, level: float = 0.95,
              seed: int = 0) -> tuple[float, float, float]:
    """(value, low, high): ``value(slice(None))`` on all ``n`` scenes and its percentile interval at ``level``.

    ``value(rows)`` computes the statistic on the scenes ``rows`` (a slice or an
    index tensor, repeats allowed); it is called on ``resamples`` draws of ``n``
    scenes with replacement. Seeded, so the same call gives the same interval.
    """
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    if resamples < 1:
        raise ValueError(f"resamples must be positive, got {resamples}")
    generator = torch.Generator().manual_seed(seed)
    draws = torch.tensor([value(torch.randint(n, (n,), generator=generator)) for _ in range(resamples)])
    tail = (1 - level) / 2
    low, high = torch.quantile(draws.double(), torch.tensor([tail, 1 - tail], dtype=torch.float64)).tolist()
    return value(slice(None)), low, high


def bootstrap_interval(
    confusions: torch.Tensor, baseline: torch.Tensor | None = None, statistic: Callable[[torch.Tensor], float] = miou_of,
    resamples: int = RESAMPLES, level: float = 0.95, seed: int = 0,
) -> tuple[float, float, float]:
    """(value, low, high): ``statistic`` of ``confusions`` (N, C, C) and its bootstrap interval over scenes.

    With ``baseline`` (N, C, C) on the same N scenes, the value is the
    difference ``statistic(confusions) - statistic(baseline)`` and both are
    resampled with the same scenes (a paired bootstrap).
    """
    if baseline is not None and baseline.shape != confusions.shape:
        raise ValueError(f"baseline must score the same scenes: shape {tuple(baseline.shape)} != {tuple(confusions.shape)}")

    def value(rows: torch.Tensor | slice) -> float:
        own = statistic(confusions[rows])
        return own if baseline is None else own - statistic(baseline[rows])

    return bootstrap(value, len(confusions), resamples, level, seed)


def contrast_interval(confusions: dict[str, torch.Tensor], weights: dict[str, float],
                      statistic: Callable[[torch.Tensor], float] = miou_of, resamples: int = RESAMPLES,
                      level: float = 0.95, seed: int = 0) -> tuple[float, float, float]:
    """(value, low, high) of ``sum(weights[m] * statistic(confusions[m]))``, every model's (N, C, C) on the same scenes.

    A difference of differences is a contrast: ``{"fcn16s": 2, "fcn8s": -1,
    "fcn32s": -1}`` is the pool4 skip's gain minus the pool3 skip's. All
    models are resampled with the same scenes (paired), like
    ``bootstrap_interval``'s two.
    """
    sizes = {tuple(confusions[name].shape) for name in weights}
    if len(sizes) != 1:
        raise ValueError(f"confusions must score the same scenes for every model in weights, got shapes {sizes}")

    def value(rows: torch.Tensor | slice) -> float:
        return sum(weight * statistic(confusions[name][rows]) for name, weight in weights.items())

    return bootstrap(value, len(confusions[next(iter(weights))]), resamples, level, seed)


def binned_mean_interval(values: torch.Tensor, keys: torch.Tensor, low: float, high: float,
                         resamples: int = RESAMPLES) -> tuple[int, float, float, float]:
    """(count, mean, 95% low, high) of ``values`` (N,) whose ``keys`` (N,) lie in [low, high): a bootstrap over items.

    NaNs for an empty bin. Chapters 3 and 5 bin objects by size.
    """
    inside = values[(keys >= low) & (keys < high)].double()
    if len(inside) == 0:
        return 0, float("nan"), float("nan"), float("nan")
    return (len(inside), *bootstrap(lambda rows: inside[rows].mean().item(), len(inside), resamples))


def bin_contrast_interval(values: torch.Tensor, keys: torch.Tensor, first: tuple[float, float],
                          second: tuple[float, float], resamples: int = RESAMPLES) -> tuple[float, float, float]:
    """(value, low, high): mean of ``values`` with keys in bin ``first`` minus the mean in bin ``second``.

    Items (e.g. objects, by size) are resampled together, so both means move
    with one draw; e.g. "the skips help small objects more than large ones".
    """
    in_first, in_second = ((keys >= low) & (keys < high) for low, high in (first, second))
    if not in_first.any() or not in_second.any():
        raise ValueError(f"first and second must each hold at least one item, got bins {first} and {second}")
    values = values.double()

    def value(rows: torch.Tensor | slice) -> float:
        a, b = values[rows][in_first[rows]], values[rows][in_second[rows]]
        return (a.mean() - b.mean()).item()

    return bootstrap(value, len(values), resamples)


def ap_interval(predictions: Sequence[dict], targets: Sequence[dict], baseline: Sequence[dict] | None = None,
                threshold: float = 0.5, resamples: int = RESAMPLES, level: float = 0.95,
                seed: int = 0) -> tuple[float, float, float]:
    """Mask AP at IoU ``threshold`` over scenes, or its difference from ``baseline``'s, with a bootstrap interval.

    ``predictions``, ``baseline`` and ``targets`` are per-scene lists (torchvision
    conventions, as ``metrics.mask_average_precision`` takes them). Each scene
    is matched once (``metrics.scene_matches``); a resample pools the matches.
    """
    if len(predictions) != len(targets) or (baseline is not None and len(baseline) != len(targets)):
        raise ValueError("predictions, baseline and targets must list the same scenes")
    ours = [scene_matches(p, t, (threshold,)) for p, t in zip(predictions, targets)]
    theirs = None if baseline is None else [scene_matches(p, t, (threshold,)) for p, t in zip(baseline, targets)]

    def value(rows: torch.Tensor | slice) -> float:
        rows = list(range(len(targets)))[rows] if isinstance(rows, slice) else rows.tolist()
        ap = ap_from_matches([ours[i] for i in rows], 1)[0]
        return float(ap - (0.0 if theirs is None else ap_from_matches([theirs[i] for i in rows], 1)[0]))

    return bootstrap(value, len(targets), resamples, level, seed)


def ap_gap_interval(predictions: Sequence[dict], baseline: Sequence[dict], targets: Sequence[dict],
                    thresholds: tuple[float, float] = (0.5, 0.75), resamples: int = RESAMPLES, level: float = 0.95,
                    seed: int = 0) -> tuple[float, float, float]:
    """How much a gap in mask AP widens at a stricter IoU, with a bootstrap interval over scenes (chapter 7).

    The value is ``(AP(t2) - AP_baseline(t2)) - (AP(t1) - AP_baseline(t1))`` for
    ``thresholds`` (t1, t2), every term from the same resampled scenes: the
    claim "the gap widens at strict IoU" gets an interval of its own.
    """
    if len(predictions) != len(targets) or len(baseline) != len(targets):
        raise ValueError("predictions, baseline and targets must list the same scenes")
    ours = [scene_matches(p, t, thresholds) for p, t in zip(predictions, targets)]
    theirs = [scene_matches(p, t, thresholds) for p, t in zip(baseline, targets)]

    def value(rows: torch.Tensor | slice) -> float:
        rows = list(range(len(targets)))[rows] if isinstance(rows, slice) else rows.tolist()
        gap = ap_from_matches([ours[i] for i in rows], 2) - ap_from_matches([theirs[i] for i in rows], 2)
        return float(gap[1] - gap[0])

    return bootstrap(value, len(targets), resamples, level, seed)


def inside_noise(low: float, high: float) -> bool:
    """Whether a difference's interval [low, high] contains zero: the difference is inside the noise."""
    return low <= 0.0 <= high


def scene_noise(low: float, high: float) -> str:
    """The phrase the prose puts after a difference's interval [low, high]: ``inside the noise`` or ``outside the noise``.

    Chapter 3 defines it for the reader: inside the noise means the interval
    contains zero, so the test scenes cannot tell the difference from none.
    It describes one interval over scenes; a verdict on a claim, which reads
    the training seeds too, comes only from ``utils.verdicts.verdict``.
    """
    return "inside the noise" if inside_noise(low, high) else "outside the noise"


def share_interval(hits: torch.Tensor, level: float = 0.95) -> tuple[float, float, float]:
    """(share, low, high): the share of True in ``hits`` (N,) bool, with Wilson's score interval.

    Not a bootstrap: resampling a sample with no misses always gives 1.0, an
    interval of zero width. Wilson's interval says what 44 hits in 44 tries
    rule out (a share below about 0.92), which is what a reader needs from a
    recall of 1.00.
    """
    n = len(hits)
    if n == 0:
        raise ValueError("hits must hold at least one trial")
    share = hits.double().mean().item()
    z = torch.distributions.Normal(0.0, 1.0).icdf(torch.tensor(0.5 + level / 2, dtype=torch.float64)).item()
    centre = (share + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * (share * (1 - share) / n + z * z / (4 * n * n)) ** 0.5
    return share, max(0.0, centre - half), min(1.0, centre + half)
