"""Checkers for the chapters' exercises: each says "correct" or "not yet", and why.

In the spirit of micrograd's ``cmp``: they never reveal the answer, they say
what is off. Grouped by chapter; every checker names its exercise.
"""

from __future__ import annotations

import torch

from .arithmetic import conv_output_size, conv_transpose_output_size, overlap_ratio
from .patches import receptive_fields
from .tasks import mean_scores


def verdict(ok: bool, why: str) -> str:
    """The checkers' one output format."""
    return f"correct: {why}" if ok else f"not yet: {why}"


def compare(name: str, mine: torch.Tensor, reference: torch.Tensor, atol: float = 1e-6) -> str:
    """``cmp``: is ``mine`` exactly, approximately or not equal to ``reference``, with the largest difference."""
    if mine.shape != reference.shape:
        return verdict(False, f"{name} has shape {tuple(mine.shape)}, expected {tuple(reference.shape)}")
    diff = (mine.double() - reference.double()).abs().max().item() if mine.numel() else 0.0
    if torch.equal(mine, reference):
        return verdict(True, f"{name} is exactly equal")
    return verdict(diff <= atol, f"{name} differs by at most {diff:.2e} (tolerance {atol:.0e})")


# Chapter 1 -------------------------------------------------------------------

def check_iou(answer: float, pred: torch.Tensor, target: torch.Tensor) -> str:
    """Exercise 1.1: the IoU of two boolean masks, computed by hand."""
    inter, union = (pred & target).sum().item(), (pred | target).sum().item()
    ok = abs(answer - inter / union) < 1e-3
    return verdict(ok, "that is |A and B| / |A or B|" if ok else
                   f"count the pixels in both masks ({inter}) and in either mask, then divide")


def check_biggest_drop(answer: str, **degradation) -> str:
    """Exercise 1.2: which of pixel accuracy, mIoU and mask AP75 falls most under ``degradation``.

    Measured on the chapter's 64 validation scenes with ``utils.tasks.degrade``.
    """
    names = ("pixel accuracy", "mIoU", "mask AP75")
    if answer not in names:
        return verdict(False, f"answer with one of {names}")
    drops = {name: 1.0 - value for name, value in mean_scores(**degradation).items() if name in names}
    worst = max(drops, key=drops.get)
    measured = ", ".join(f"{name} -{drop:.3f}" for name, drop in drops.items())
    return verdict(answer == worst, measured if answer == worst else "run the widget with that error and compare")


# Chapter 2 -------------------------------------------------------------------

def check_fc_as_conv(linear: torch.nn.Linear, conv: torch.nn.Conv2d) -> str:
    """Exercise 2.1: ``conv`` computes what ``linear`` computes on the (C, k, k) map it reads."""
    k = conv.kernel_size[0]
    if conv.in_channels * k * k != linear.in_features or conv.out_channels != linear.out_features:
        return verdict(False, f"the convolution reads {conv.in_channels}x{k}x{k} = {conv.in_channels * k * k} "
                              f"numbers and writes {conv.out_channels}; the linear layer reads "
                              f"{linear.in_features} and writes {linear.out_features}")
    x = torch.randn(1, conv.in_channels, k, k, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        return compare("conv output", conv(x).flatten(), linear(x.flatten(1))[0], atol=1e-5)


def check_receptive_field(answer: int, layers: list[tuple[str, int, int]]) -> str:
    """Exercise 2.2: the receptive field of a stack of (name, kernel, stride) layers."""
    field = receptive_fields(layers)[-1][3]
    return verdict(answer == field, "each layer adds (kernel - 1) x the jump so far" if answer == field
                   else "add (kernel - 1) x jump per layer, and multiply the jump by each stride")


# Chapter 6 -------------------------------------------------------------------

def check_doubling(k: int, s: int, p: int, output_padding: int = 0) -> str:
    """Exercise 6.1: a transposed convolution that maps 7x7 to exactly 14x14."""
    try:
        size = conv_transpose_output_size(7, k, s, p, output_padding)
    except ValueError as err:
        return verdict(False, f"PyTorch refuses that setting: {err}")
    doubles_others = all(conv_transpose_output_size(i, k, s, p, output_padding) == 2 * i for i in (3, 8, 16))
    if size != 14:
        return verdict(False, f"7 -> {size}, not 14")
    return verdict(True, "7 -> 14" + (", and it doubles every size" if doubles_others else
                                      ", but not other sizes: try one that doubles any input"))


def check_output_padding(answers: dict[int, int], k: int = 3, s: int = 2, p: int = 1) -> str:
    """Exercise 6.2: the output padding that makes the transposed layer restore each input size."""
    wrong = []
    for size, a in answers.items():
        coarse = conv_output_size(size, k, s, p)
        try:
            restored = conv_transpose_output_size(coarse, k, s, p, a)
        except ValueError as err:
            wrong.append(f"input {size}: {err}")
            continue
        if restored != size:
            wrong.append(f"input {size} -> {coarse} -> {restored}")
    return verdict(not wrong, "every size comes back" if not wrong else "; ".join(wrong))


def check_checkerboard(predictions: dict[tuple[int, int], bool]) -> str:
    """Exercise 6.3: predict, for each (kernel, stride), whether a transposed convolution checkerboards."""
    wrong = [ks for ks, guess in predictions.items() if guess != (overlap_ratio(*ks, ndim=2) > 1)]
    return verdict(not wrong, "uneven overlap exactly when the stride does not divide the kernel" if not wrong
                   else f"look again at (kernel, stride) = {wrong}")
