"""Pinheiro & Collobert 2014: the same CNN applied again on the image and its own previous labels (chapter 4).

``p_0`` = no labels yet (all zeros); ``scores_t = f(image, p_{t-1})``;
``p_t = softmax(scores_t)``. One network ``f`` with one set of weights, unrolled
over ``instances`` passes at training time, the loss applied after every pass.

``f`` is chapter 3's single-scale CNN with one more input channel per class,
whose batch norms keep one set of statistics *per pass* (``PassNorm``): the
passes see differently distributed inputs (no labels, then confident ones),
which one set of running statistics cannot serve, and a norm that pools over
the image (group norm) would hand every pass the whole image's statistics, so
that every label would depend on every pixel. In eval mode each is a fixed
per-channel affine map: the windows stay windows. It works
on the image halved (chapter 3's 1/2 pyramid level), so one pass sees a window
of a few dozen pixels: more than a full-resolution pass, less than the largest
objects, and at a quarter of the cost. The labels are kept on that half-size
grid between passes; each pass's scores are upsampled to the image's size.

The chapter's controls: ``instances=1`` (the same ``f`` trained for one pass),
``UntiedCNN`` (a different network per pass: the same depth unrolled, without
the weight sharing the paper credits), and ``detach_labels`` (no gradient
flows back through the labels from one pass to the next).
Taught in ``lectures/04_iterative_refinement``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .multiscale import MultiscaleCNN, gaussian_pyramid

#: How far a starting label map's probabilities may be from summing to one at every pixel.
SUM_TOLERANCE = 1e-3


def check_start(start: torch.Tensor, images: torch.Tensor, num_classes: int) -> None:
    """Refuse a starting label map that is not (B, num_classes, H, W) probabilities for ``images``."""
    expected = (images.shape[0], num_classes, *images.shape[-2:])
    if tuple(start.shape) != expected:
        raise ValueError(f"start must have shape {expected} (class probabilities per pixel), got {tuple(start.shape)}")
    if start.min() < 0 or (start.sum(1) - 1).abs().max() > SUM_TOLERANCE:
        raise ValueError("start must hold probabilities: non-negative and summing to one over classes at every pixel")


class PassNorm(nn.Module):
    """Batch norm with its own statistics and affine parameters for each pass; later passes reuse the last."""

    def __init__(self, channels: int, passes: int) -> None:
        super().__init__()
        self.norms = nn.ModuleList(nn.BatchNorm2d(channels) for _ in range(passes))
        self.index = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norms[min(self.index, len(self.norms) - 1)](x)


class PassNetwork(nn.Module):
    """``f(x, t)``: chapter 3's single-scale CNN on (B, 3 + classes, h, w) -> (B, classes, h, w), norms of pass ``t``."""

    def __init__(self, num_classes: int, passes: int) -> None:
        super().__init__()
        self.cnn = MultiscaleCNN(num_classes, levels=1, in_channels=3 + num_classes)
        norms = [(module, name, child) for module in self.cnn.modules() for name, child in module.named_children()
                 if isinstance(child, nn.BatchNorm2d)]
        for module, name, child in norms:
            setattr(module, name, PassNorm(child.num_features, passes))

    def forward(self, x: torch.Tensor, t: int = 0) -> torch.Tensor:
        for module in self.modules():
            if isinstance(module, PassNorm):
                module.index = t
        return self.cnn(x)


class RecurrentCNN(nn.Module):
    """(B, 3, H, W) images -> class scores (B, num_classes, H, W) after each of ``iterations`` passes of ``f``."""

    #: The most passes the model can run (``None``: as many as asked; the untied control has one network a pass).
    max_passes: int | None = None

    def __init__(self, num_classes: int, instances: int = 3, detach_labels: bool = False) -> None:
        super().__init__()
        if instances < 1:
            raise ValueError(f"instances must be at least 1, got {instances}")
        self.num_classes, self.instances, self.detach_labels = num_classes, instances, detach_labels
        self.f = PassNetwork(num_classes, instances)

    def step(self, t: int, x: torch.Tensor) -> torch.Tensor:
        """Pass ``t`` (0-based) on the stacked image and labels ``x``: always the same ``f``."""
        return self.f(x, t)

    def forward(self, images: torch.Tensor, iterations: int | None = None,
                start: torch.Tensor | None = None) -> list[torch.Tensor]:
        """The scores (B, num_classes, H, W) after every pass: ``[scores_1, ..., scores_T]``, T = ``iterations``.

        T defaults to ``instances``. ``start`` (B, num_classes, H, W) probabilities
        stand in for a first pass's labels (averaged down to the half-size
        grid): the T passes that follow use the norms of passes 2, 3, ...
        """
        iterations = self.instances if iterations is None else iterations
        limit = None if self.max_passes is None else self.max_passes - (start is not None)
        if iterations < 1 or (limit is not None and iterations > limit):
            raise ValueError(f"iterations must lie in 1..{limit or 'any'}, got {iterations}")
        small = gaussian_pyramid(images, 2)[1]
        if start is None:
            labels, first = small.new_zeros(small.shape[0], self.num_classes, *small.shape[-2:]), 0
        else:
            check_start(start, images, self.num_classes)
            labels, first = F.adaptive_avg_pool2d(start, small.shape[-2:]), 1
        scores = []
        for t in range(first, first + iterations):
            half = self.step(t, torch.cat([small, labels], 1))
            labels = half.softmax(1).detach() if self.detach_labels else half.softmax(1)
            scores.append(F.interpolate(half, size=images.shape[-2:], mode="bilinear", align_corners=False))
        return scores

    def segment(self, images: torch.Tensor) -> torch.Tensor:
        """Per-pixel class scores (B, num_classes, H, W) after the ``instances`` passes it was trained for."""
        return self(images)[-1]


@torch.no_grad()
def second_pass_on_other_labels(net: RecurrentCNN, images: torch.Tensor) -> torch.Tensor:
    """Scores (B, C, H, W) of pass 2 on ``images`` when it reads pass 1's labels of *another* scene.

    Scene i's second pass gets the first-pass labels of scene i + 1 (the last
    gets the first's): if pass 2 merely smooths its own image, the swap costs
    little; if it leans on the labels, the swap costs a lot.
    """
    small = gaussian_pyramid(images, 2)[1]
    empty = small.new_zeros(len(images), net.num_classes, *small.shape[-2:])
    first = net.step(0, torch.cat([small, empty], 1)).softmax(1)
    second = net.step(1, torch.cat([small, first.roll(-1, dims=0)], 1))
    return F.interpolate(second, size=images.shape[-2:], mode="bilinear", align_corners=False)


class UntiedCNN(RecurrentCNN):
    """The depth control: a different ``f`` for each of the ``instances`` passes, unrolled exactly like ``RecurrentCNN``.

    The same depth and the same label feedback, with ``instances`` times the
    weights: what the paper's weight sharing ("limiting the capacity") is
    measured against.
    """

    def __init__(self, num_classes: int, instances: int = 3) -> None:
        super().__init__(num_classes, instances)
        del self.f
        self.fs = nn.ModuleList(PassNetwork(num_classes, 1) for _ in range(instances))
        self.max_passes = instances

    def step(self, t: int, x: torch.Tensor) -> torch.Tensor:
        return self.fs[t](x)
