"""Learnable upsampling: transposed convolutions initialised as bilinear interpolation.

Taught in ``lectures/05_upsampling_skip_connections`` (Long et al. 2015, section 3.3).
"""

from __future__ import annotations

import torch
from torch import nn


def bilinear_kernel(size: int) -> torch.Tensor:
    """The (size, size) kernel that makes a transposed convolution interpolate bilinearly.

    With stride ``s``, kernel ``2s`` and padding ``s/2`` a transposed convolution
    with this kernel reproduces bilinear interpolation (``align_corners=False``)
    away from the border. Same formula as the FCN reference code.
    """
    if size < 1:
        raise ValueError(f"size must be a positive kernel size, got {size}")
    factor = (size + 1) // 2
    center = factor - 1 if size % 2 == 1 else factor - 0.5
    og = torch.arange(size, dtype=torch.float32)
    filt = 1 - (og - center).abs() / factor
    return filt[:, None] * filt[None, :]


class Upsample(nn.ConvTranspose2d):
    """``factor``-times upsampling of a (B, C, H, W) score map to (B, C, factor*H, factor*W).

    A ``ConvTranspose2d(C, C, 2*factor, stride=factor, padding=factor//2)``
    whose weights start as the bilinear kernel on each channel (and zero across
    channels). ``learnable=False`` freezes them, giving fixed bilinear upsampling.
    """

    def __init__(self, channels: int, factor: int, learnable: bool = True) -> None:
        if factor < 2 or factor % 2:
            raise ValueError(f"factor must be an even upsampling factor >= 2, got {factor}")
        super().__init__(channels, channels, 2 * factor, stride=factor, padding=factor // 2, bias=False)
        self.factor = factor
        with torch.no_grad():
            self.weight.zero_()
            kernel = bilinear_kernel(2 * factor)
            for c in range(channels):
                self.weight[c, c] = kernel
        self.weight.requires_grad_(learnable)

    @property
    def learnable(self) -> bool:
        return self.weight.requires_grad
