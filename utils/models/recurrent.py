"""Pinheiro & Collobert 2014: the same CNN applied again on the image and its own previous labels (chapter 4).

``p_0`` = no labels yet (all zeros); ``scores_t = f(image, p_{t-1})``;
``p_t = softmax(scores_t)``. One network ``f`` with one set of weights, unrolled
over ``instances`` passes at training time, the loss applied after every pass.

``f`` is chapter 3's single-scale CNN with one more input channel per class
and group norm in place of batch norm (see ``conv_bn_relu``). It works on the
image halved (chapter 3's 1/2 pyramid level), so one pass sees a 31-pixel
window: more than a full-resolution pass, less than the largest objects, and
at a quarter of the cost. The labels are kept on that half-size grid between
passes; each pass's scores are upsampled to the image's size.
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


class RecurrentCNN(nn.Module):
    """(B, 3, H, W) images -> class scores (B, num_classes, H, W) after each of ``iterations`` passes of ``f``."""

    def __init__(self, num_classes: int, instances: int = 3) -> None:
        super().__init__()
        if instances < 1:
            raise ValueError(f"instances must be at least 1, got {instances}")
        self.num_classes, self.instances = num_classes, instances
        self.f = MultiscaleCNN(num_classes, levels=1, in_channels=3 + num_classes, norm="group")

    def forward(self, images: torch.Tensor, iterations: int | None = None,
                start: torch.Tensor | None = None) -> list[torch.Tensor]:
        """The scores (B, num_classes, H, W) after every pass: ``[scores_1, ..., scores_T]``, T = ``iterations``.

        T defaults to ``instances``. ``start`` (B, num_classes, H, W) probabilities
        replaces ``p_0`` (zeros: no labels yet); it is averaged down to the half-size grid.
        """
        iterations = self.instances if iterations is None else iterations
        if iterations < 1:
            raise ValueError(f"iterations must be at least 1, got {iterations}")
        small = gaussian_pyramid(images, 2)[1]
        if start is None:
            labels = small.new_zeros(small.shape[0], self.num_classes, *small.shape[-2:])
        else:
            check_start(start, images, self.num_classes)
            labels = F.adaptive_avg_pool2d(start, small.shape[-2:])
        scores = []
        for _ in range(iterations):
            half = self.f(torch.cat([small, labels], 1))
            labels = half.softmax(1)
            scores.append(F.interpolate(half, size=images.shape[-2:], mode="bilinear", align_corners=False))
        return scores

    def segment(self, images: torch.Tensor) -> torch.Tensor:
        """Per-pixel class scores (B, num_classes, H, W) after the ``instances`` passes it was trained for."""
        return self(images)[-1]
