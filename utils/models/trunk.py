"""The trained FCN-8s, frozen, as the feature extractor of chapter 7's instance models.

SDS, the mask heads and the small Mask R-CNN all read features from one
trained network instead of training their own: the shared "trunk" keeps the
chapter cheap (only small heads are trained) and makes the comparison fair
(every head sees the same features). Taught in ``lectures/07_instance_segmentation``.
"""

from __future__ import annotations

import torch
from torch import nn

from ..data import NUM_CLASSES
from .fcn import FCN8s

#: The shipped model whose weights the trunk holds.
TRUNK_SOURCE = "fcn8s"
#: Output stride of each feature map the trunk returns.
STRIDES = {"pool1": 2, "pool2": 4, "pool3": 8, "pool4": 16, "pool5": 32, "fc7": 32}


class FrozenTrunk(nn.Module):
    """(B, 3, H, W) -> ``{"pool1": ..., "pool5": ..., "fc7": ...}``: FCN-8s's backbone and ``fc6``/``fc7``, frozen.

    ``fc7`` (256 channels, stride 32) is the classifier's last hidden layer, the
    features R-CNN and SDS classify. The trunk never trains: its parameters do
    not require gradients and it stays in eval mode (batch norm uses its
    running statistics, dropout is off) even inside a model being trained.
    """

    def __init__(self, fcn: FCN8s | None = None) -> None:
        super().__init__()
        fcn = FCN8s(NUM_CLASSES) if fcn is None else fcn
        self.backbone, self.fc6, self.fc7 = fcn.backbone, fcn.head.fc6, fcn.head.fc7
        self.channels = {f"pool{k + 1}": c for k, c in enumerate(self.backbone.channels)}
        self.channels["fc7"] = self.fc7[0].out_channels
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> FrozenTrunk:
        return super().train(False)

    @torch.no_grad()
    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        features = self.backbone(images)
        features["fc7"] = self.fc7(self.fc6(features["pool5"]))
        return features

