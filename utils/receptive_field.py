"""Receptive fields measured by autograd: which input pixels can change one output label (chapters 2, 3 and 4).

Chapter 2's layer-by-layer rule derives a network's window from its kernels
and strides. The measurement asks the network itself: back-propagate from the
scores at one output position to the input and see which pixels receive a
gradient. For a plain stack of convolutions and pools the two agree; they
part where the rule leaves a layer out (the bilinear upsampling that brings a
coarse pyramid level back to the image's grid adds a little) or where a layer
pools over the whole image (a normalisation over all positions makes every
label depend on every pixel, and the measured window is the whole canvas).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

#: The canvas the measurement runs on: larger than any of the course's windows, so none is clipped.
CANVAS = 192


def input_gradient(run: Callable[[torch.Tensor], torch.Tensor], images: torch.Tensor, y: int, x: int) -> torch.Tensor:
    """|d (sum of the scores at output pixel (y, x)) / d input|, summed over images and channels: (H, W).

    ``run`` maps (B, C, H, W) images to (B, K, H', W') scores; ``images`` is
    not changed.
    """
    with torch.enable_grad():
        images = images.detach().clone().requires_grad_(True)
        run(images)[:, :, y, x].sum().backward()
    return images.grad.abs().sum((0, 1))


def measured_field(run: Callable[[torch.Tensor], torch.Tensor], channels: int = 3, canvas: int = CANVAS,
                   samples: int = 2, seed: int = 0) -> int:
    """The side, in input pixels, of the smallest box holding every pixel that can change the centre label.

    ``run`` must keep the image's grid (output H' = H): the course's
    segmentation models do. Measured on ``samples`` random images of
    ``canvas`` x ``canvas`` (a ReLU that is off for one image is on for another).
    A result equal to ``canvas`` means the window is the whole image.
    """
    if canvas < 16 or samples < 1:
        raise ValueError(f"canvas must be at least 16 pixels and samples at least 1, got {canvas}, {samples}")
    images = torch.rand(samples, channels, canvas, canvas, generator=torch.Generator().manual_seed(seed))
    reached = input_gradient(run, images, canvas // 2, canvas // 2) > 0
    rows, cols = reached.any(1).nonzero().flatten(), reached.any(0).nonzero().flatten()
    if len(rows) == 0:
        raise ValueError("no input pixel reaches the centre label: is run's output on the input's grid?")
    return int(max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1))
