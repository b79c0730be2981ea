"""Farabet et al. 2013: one CNN, one set of weights, applied to every level of an image pyramid (chapter 3).

The image is blurred and halved twice (a Gaussian pyramid: scales 1, 1/2,
1/4). The same small CNN, ``features`` (the paper's :math:`f_s`), runs on
each level; its feature maps are upsampled back to the image's grid and
concatenated, and a per-pixel ``classifier`` (1x1 convolutions) labels every
pixel from the stacked vector. With ``levels=1`` the very same class is the
single-scale baseline. Taught in ``lectures/03_multiscale``; chapter 4's
recurrent network reuses it as its per-pass network.

The chapter's controls ask what the pyramid buys beyond a coarser view or a
larger window: ``OneLevelCNN`` is the same CNN and classifier on one coarse
level alone; ``DilatedCNN`` a single-scale CNN whose dilated convolutions give
it about the pyramid's receptive field at about its parameter count; and
``level_dropout`` trains the pyramid with levels switched off at random, so
that switching one off at test time asks a question the model was trained for.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.transforms.v2.functional import gaussian_blur

from .backbone import conv_bn_relu

#: The Gaussian each pyramid level is blurred with before it is halved (Burt & Adelson's 5-tap reduce).
BLUR_KERNEL, BLUR_SIGMA = 5, 1.0
#: The smallest side a pyramid level may have: below it the CNN's two pooled 3x3 layers see mostly padding.
MIN_LEVEL_SIZE = 8
#: Channels of the shared CNN's two stages.
WIDTHS = (24, 48)
#: The wide single-scale control's dilations (second stage): a window about as wide as the 1/4 level's.
DILATIONS = (2, 4, 10)


def dropout_mask(batch: int, levels: int, rate: float, device: torch.device) -> torch.Tensor:
    """(batch, levels) of 0. and 1.: each level off with probability ``rate``, at least one on per image."""
    keep = torch.rand(batch, levels, device=device) >= rate
    rescue = torch.randint(levels, (batch,), device=device)
    keep[torch.arange(batch, device=device), rescue] |= ~keep.any(1)
    return keep.float()


def gaussian_pyramid(images: torch.Tensor, levels: int) -> list[torch.Tensor]:
    """``levels`` images, each the previous one blurred and halved: (B, C, H, W) -> [(B, C, H/2**k, W/2**k)].

    Level 0 is ``images`` itself. Raises ``ValueError`` for ``levels < 1`` or a
    level smaller than ``MIN_LEVEL_SIZE`` pixels.
    """
    if levels < 1:
        raise ValueError(f"levels must be at least 1, got {levels}")
    smallest = min(images.shape[-2:]) // 2 ** (levels - 1)
    if smallest < MIN_LEVEL_SIZE:
        raise ValueError(f"levels={levels} would shrink a {tuple(images.shape[-2:])} image to {smallest} pixels; "
                         f"each level must keep at least {MIN_LEVEL_SIZE}")
    pyramid = [images]
    for _ in range(levels - 1):
        blurred = gaussian_blur(pyramid[-1], [BLUR_KERNEL, BLUR_KERNEL], [BLUR_SIGMA, BLUR_SIGMA])
        pyramid.append(blurred[..., ::2, ::2])
    return pyramid


class SharedCNN(nn.Sequential):
    """:math:`f_s`: (B, C_in, h, w) -> (B, WIDTHS[-1], h/2, w/2); a receptive field of 14 pixels of its input.

    Two 3x3 convolutions, a 2x2 max pool, two more 3x3 convolutions: kept small on
    purpose, so that at full resolution it cannot see a large object whole.
    """

    def __init__(self, in_channels: int = 3, widths: tuple[int, int] = WIDTHS) -> None:
        first, second = widths
        super().__init__(
            conv_bn_relu(in_channels, first), conv_bn_relu(first, first), nn.MaxPool2d(2),
            conv_bn_relu(first, second), conv_bn_relu(second, second),
        )
        self.out_channels = second


class DilatedCNN(nn.Sequential):
    """A single-scale CNN with a pyramid-sized window: (B, 3, h, w) -> (B, widths[-1], h/2, w/2).

    ``SharedCNN``'s first stage, then three 3x3 convolutions whose taps are
    ``dilations`` pixels apart (of the pooled grid): the window grows to about
    the 1/4 level's without pooling further, at about the pyramid's parameter count.
    """

    def __init__(self, in_channels: int = 3, widths: tuple[int, int] = (24, 40),
                 dilations: tuple[int, ...] = DILATIONS) -> None:
        first, second = widths
        stage2 = [conv_bn_relu(first if k == 0 else second, second, dilation=d) for k, d in enumerate(dilations)]
        super().__init__(conv_bn_relu(in_channels, first), conv_bn_relu(first, first), nn.MaxPool2d(2), *stage2)
        self.out_channels = second


class MultiscaleCNN(nn.Module):
    """(B, in_channels, H, W) -> per-pixel class scores (B, num_classes, H, W) from ``levels`` pyramid levels.

    ``forward(x, use_levels)`` can switch levels off (their features set to zero,
    as chapter 5 silences a skip branch); by default every level is used.
    ``level_dropout`` > 0 switches each level off at random while training (each
    image keeps at least one). ``features`` replaces the shared CNN (``DilatedCNN``).
    """

    def __init__(self, num_classes: int, levels: int = 3, in_channels: int = 3, hidden: int = 64,
                 level_dropout: float = 0.0, features: nn.Module | None = None) -> None:
        super().__init__()
        if levels < 1:
            raise ValueError(f"levels must be at least 1, got {levels}")
        if not 0 <= level_dropout < 1:
            raise ValueError(f"level_dropout must lie in [0, 1), got {level_dropout}")
        self.levels, self.num_classes, self.level_dropout = levels, num_classes, level_dropout
        self.features = SharedCNN(in_channels) if features is None else features
        self.classifier = nn.Sequential(
            nn.Conv2d(levels * self.features.out_channels, hidden, 1), nn.ReLU(inplace=True),
            nn.Conv2d(hidden, num_classes, 1),
        )

    def level_features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The shared CNN on every level, upsampled to x's grid: ``levels`` maps (B, out_channels, H, W)."""
        size = x.shape[-2:]
        return [F.interpolate(self.features(level), size=size, mode="bilinear", align_corners=False)
                for level in gaussian_pyramid(x, self.levels)]

    def forward(self, x: torch.Tensor, use_levels: Sequence[bool] | None = None) -> torch.Tensor:
        features = self.level_features(x)
        if use_levels is not None:
            if len(use_levels) != self.levels or not any(use_levels):
                raise ValueError(f"use_levels must switch on at least one of the {self.levels} levels, got {use_levels}")
            features = [f if use else torch.zeros_like(f) for f, use in zip(features, use_levels)]
        elif self.training and self.level_dropout:
            keep = dropout_mask(x.shape[0], self.levels, self.level_dropout, x.device)
            features = [f * keep[:, level, None, None, None] for level, f in enumerate(features)]
        return self.classifier(torch.cat(features, 1))

    def segment(self, images: torch.Tensor) -> torch.Tensor:
        """Per-pixel class scores (B, num_classes, H, W)."""
        return self(images)


class OneLevelCNN(MultiscaleCNN):
    """The pyramid's control: the same shared CNN and classifier on pyramid ``level`` alone, upsampled.

    ``level=1`` is the image blurred and halved once, ``level=2`` twice: a
    coarser view with no full-resolution detail and no fusion of scales.
    """

    def __init__(self, num_classes: int, level: int) -> None:
        if level < 1:
            raise ValueError(f"level must be 1 (scale 1/2) or more, got {level}")
        super().__init__(num_classes, levels=1)
        self.level = level

    def level_features(self, x: torch.Tensor) -> list[torch.Tensor]:
        coarse = gaussian_pyramid(x, self.level + 1)[-1]
        return [F.interpolate(self.features(coarse), size=x.shape[-2:], mode="bilinear", align_corners=False)]
