"""FCN-32s, FCN-16s and FCN-8s (Long, Shelhamer & Darrell 2015, figure 3).

All three share the ``Backbone`` and the convolutionalised classifier head
(``fc6``, ``fc7``, ``score_fr``). They differ only in where the class scores
are upsampled and which pooling layers are fused in on the way:

- FCN-32s: ``score_fr`` (stride 32) -> upsample x32.
- FCN-16s: upsample x2, add ``score_pool4`` (stride 16) -> upsample x16.
- FCN-8s: as 16s, then upsample x2, add ``score_pool3`` (stride 8) -> upsample x8.

Taught in ``lectures/05_upsampling_skip_connections``.
"""

from __future__ import annotations

import torch
from torch import nn

from .backbone import Backbone
from .upsampling import Upsample


class ClassifierHead(nn.Module):
    """``fc6`` / ``fc7`` as convolutions, then ``score_fr``: (B, C_in, h, w) -> (B, num_classes, h, w)."""

    def __init__(self, in_channels: int, num_classes: int, width: int = 256) -> None:
        super().__init__()
        self.fc6 = nn.Sequential(nn.Conv2d(in_channels, width, 3, padding=1), nn.ReLU(inplace=True), nn.Dropout2d(0.1))
        self.fc7 = nn.Sequential(nn.Conv2d(width, width, 1), nn.ReLU(inplace=True), nn.Dropout2d(0.1))
        self.score_fr = nn.Conv2d(width, num_classes, 1)

    def forward(self, pool5: torch.Tensor) -> torch.Tensor:
        return self.score_fr(self.fc7(self.fc6(pool5)))


def score_layer(in_channels: int, num_classes: int) -> nn.Conv2d:
    """1x1 class-score layer for a skip branch, zero-initialised as in the paper.

    Zero weights make a freshly added skip contribute nothing: FCN-16s's
    ``fuse_pool4`` starts as FCN-32s's ``score_fr`` upsampled x2 (and 8s's
    ``fuse_pool3`` as 16s's ``fuse_pool4`` upsampled). Its output does not start
    exactly where FCN-32s stopped, though: the last upsampling layer is new
    (``upscore16`` in place of ``upscore32``, whose weights are not carried
    over), initialised bilinear.
    """
    layer = nn.Conv2d(in_channels, num_classes, 1)
    nn.init.zeros_(layer.weight)
    nn.init.zeros_(layer.bias)
    return layer


class FCN(nn.Module):
    """Shared parts of the family. ``forward`` (B, 3, H, W) -> class scores (B, num_classes, H, W)."""

    def __init__(self, num_classes: int, learnable_upsampling: bool = True) -> None:
        super().__init__()
        self.backbone = Backbone()
        self.head = ClassifierHead(self.backbone.channels[-1], num_classes)
        self.num_classes, self.learnable_upsampling = num_classes, learnable_upsampling

    def stages(self, x: torch.Tensor, **skips: bool) -> dict[str, torch.Tensor]:
        """Every score map on the way to the output, coarsest first; ``"out"`` is the result."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor, **skips: bool) -> torch.Tensor:
        return self.stages(x, **skips)["out"]

    def segment(self, images: torch.Tensor) -> torch.Tensor:
        """Per-pixel class scores (B, num_classes, H, W): the network's output itself."""
        return self(images)


class FCN32s(FCN):
    """Scores at stride 32, upsampled x32 in one step."""

    def __init__(self, num_classes: int, learnable_upsampling: bool = True) -> None:
        super().__init__(num_classes, learnable_upsampling)
        self.upscore32 = Upsample(num_classes, 32, learnable_upsampling)

    def stages(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        score_fr = self.head(self.backbone(x)["pool5"])
        return {"score_fr": score_fr, "out": self.upscore32(score_fr)}


class FCN16s(FCN):
    """Scores at stride 32, x2, plus ``score_pool4``; the sum upsampled x16."""

    def __init__(self, num_classes: int, learnable_upsampling: bool = True) -> None:
        super().__init__(num_classes, learnable_upsampling)
        self.upscore2 = Upsample(num_classes, 2, learnable_upsampling)
        self.score_pool4 = score_layer(self.backbone.channels[3], num_classes)
        self.upscore16 = Upsample(num_classes, 16, learnable_upsampling)

    def stages(self, x: torch.Tensor, skip_pool4: bool = True) -> dict[str, torch.Tensor]:
        features = self.backbone(x)
        score_fr = self.head(features["pool5"])
        fuse_pool4 = self.upscore2(score_fr) + skip_pool4 * self.score_pool4(features["pool4"])
        return {"score_fr": score_fr, "fuse_pool4": fuse_pool4, "out": self.upscore16(fuse_pool4)}


class FCN8s(FCN):
    """As FCN-16s, then x2 plus ``score_pool3``; the sum upsampled x8."""

    def __init__(self, num_classes: int, learnable_upsampling: bool = True) -> None:
        super().__init__(num_classes, learnable_upsampling)
        self.upscore2 = Upsample(num_classes, 2, learnable_upsampling)
        self.score_pool4 = score_layer(self.backbone.channels[3], num_classes)
        self.upscore_pool4 = Upsample(num_classes, 2, learnable_upsampling)
        self.score_pool3 = score_layer(self.backbone.channels[2], num_classes)
        self.upscore8 = Upsample(num_classes, 8, learnable_upsampling)

    def stages(self, x: torch.Tensor, skip_pool4: bool = True, skip_pool3: bool = True) -> dict[str, torch.Tensor]:
        features = self.backbone(x)
        score_fr = self.head(features["pool5"])
        fuse_pool4 = self.upscore2(score_fr) + skip_pool4 * self.score_pool4(features["pool4"])
        fuse_pool3 = self.upscore_pool4(fuse_pool4) + skip_pool3 * self.score_pool3(features["pool3"])
        return {"score_fr": score_fr, "fuse_pool4": fuse_pool4, "fuse_pool3": fuse_pool3, "out": self.upscore8(fuse_pool3)}
