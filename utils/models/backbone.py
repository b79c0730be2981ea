"""The small VGG-like ``Backbone`` shared by the FCN family (chapter 5).

Five stages of 3x3 convolutions, each followed by 2x2 max pooling, as in VGG16
(Simonyan & Zisserman 2015) at a fraction of the width: the outputs of
``pool3``, ``pool4`` and ``pool5`` have strides 8, 16 and 32, the three places
the FCN skip connections tap.
"""

from __future__ import annotations

import torch
from torch import nn

#: Output channels of each stage and the number of 3x3 convolutions in it.
STAGES: tuple[tuple[int, int], ...] = ((16, 1), (32, 1), (64, 2), (96, 2), (128, 2))


def conv_bn_relu(in_channels: int, out_channels: int, dilation: int = 1) -> nn.Sequential:
    """3x3 convolution (padding = ``dilation``, size-preserving), batch norm, ReLU.

    ``dilation`` spaces the kernel's taps (chapter 3's wide single-scale
    control); chapter 4 gives each pass its own batch-norm statistics
    (``utils.models.recurrent.PassNorm``).
    """
    conv = nn.Conv2d(in_channels, out_channels, 3, padding=dilation, dilation=dilation, bias=False)
    return nn.Sequential(conv, nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True))


class Backbone(nn.Module):
    """(B, 3, H, W) image -> dict of feature maps ``pool1`` .. ``pool5``.

    ``pool{k}`` has ``STAGES[k-1][0]`` channels and spatial size ``H / 2**k``
    (H and W must be multiples of 32).
    """

    def __init__(self, stages: tuple[tuple[int, int], ...] = STAGES) -> None:
        super().__init__()
        layers, in_channels = [], 3
        for out_channels, depth in stages:
            convs = [conv_bn_relu(in_channels if i == 0 else out_channels, out_channels) for i in range(depth)]
            layers.append(nn.Sequential(*convs, nn.MaxPool2d(2)))
            in_channels = out_channels
        self.stages = nn.ModuleList(layers)
        self.channels = [c for c, _ in stages]

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        height, width = x.shape[-2:]
        if height % 32 or width % 32:
            raise ValueError(f"image height and width must be multiples of 32, got {height}x{width}")
        features = {}
        for k, stage in enumerate(self.stages, start=1):
            x = stage(x)
            features[f"pool{k}"] = x
        return features
