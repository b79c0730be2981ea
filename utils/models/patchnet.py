"""``PatchNet``: label a pixel by classifying the patch around it (chapter 2).

A small classifier with *unpadded* convolutions, so that its fully connected
layers can be turned into convolutions and the whole network slid over an
image in one pass (Long et al. 2015, section 3.1; Sermanet et al. 2014).
Taught in ``lectures/02_patches_to_fcn``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

#: Side of the square patch the classifier looks at; the label is that of pixel (PATCH_SIZE // 2, PATCH_SIZE // 2).
PATCH_SIZE = 30
#: Two 2x2 max pools: neighbouring outputs of the dense network are 4 pixels apart.
OUTPUT_STRIDE = 4
#: Spatial side of the feature map that ``fc1`` reads.
FC_INPUT = 3


class PatchNet(nn.Module):
    """(B, 3, 30, 30) patches -> (B, num_classes) scores for each patch's centre pixel."""

    def __init__(self, num_classes: int, width: int = 64, hidden: int = 128) -> None:
        super().__init__()
        # Batch norm makes this small network train in minutes; in eval mode it is a fixed
        # per-channel scale and shift, so the network stays exactly convolutionalisable.
        self.features = nn.Sequential(
            nn.Conv2d(3, 24, 5), nn.BatchNorm2d(24), nn.ReLU(inplace=True),  # 30 -> 26
            nn.Conv2d(24, 32, 3), nn.BatchNorm2d(32), nn.ReLU(inplace=True),  # 26 -> 24
            nn.MaxPool2d(2),  # 24 -> 12
            nn.Conv2d(32, width, 3), nn.BatchNorm2d(width), nn.ReLU(inplace=True),  # 12 -> 10
            nn.MaxPool2d(2),  # 10 -> 5
            nn.Conv2d(width, width, 3), nn.BatchNorm2d(width), nn.ReLU(inplace=True),  # 5 -> 3
        )
        self.fc1 = nn.Linear(width * FC_INPUT * FC_INPUT, hidden)
        self.fc2 = nn.Linear(hidden, num_classes)

    def forward(self, patches: torch.Tensor) -> torch.Tensor:
        if patches.shape[-2:] != (PATCH_SIZE, PATCH_SIZE):
            raise ValueError(f"patches must be {PATCH_SIZE}x{PATCH_SIZE}, got {tuple(patches.shape[-2:])}")
        x = self.features(patches).flatten(1)
        return self.fc2(F.relu(self.fc1(x)))

    def segment(self, images: torch.Tensor) -> torch.Tensor:
        """Scores for every pixel (B, num_classes, H, W): the sliding window, computed by ``shift_and_stitch``."""
        return shift_and_stitch(self, images)

    def dense(self, image: torch.Tensor) -> torch.Tensor:
        """The same network as a fully convolutional one, applied to a whole padded image.

        ``image`` (B, 3, H, W) with H, W >= PATCH_SIZE -> scores (B, num_classes,
        (H - PATCH_SIZE) // 4 + 1, (W - PATCH_SIZE) // 4 + 1); output (i, j) equals
        ``forward`` of the patch whose top-left corner is (4i, 4j). ``fc1`` becomes
        a 3x3 convolution and ``fc2`` a 1x1 convolution with the same weights.
        """
        x = self.features(image)
        fc1 = self.fc1.weight.view(self.fc1.out_features, -1, FC_INPUT, FC_INPUT)
        x = F.relu(F.conv2d(x, fc1, self.fc1.bias))
        return F.conv2d(x, self.fc2.weight[:, :, None, None], self.fc2.bias)


def pad_for_patches(image: torch.Tensor) -> torch.Tensor:
    """Pad (B, 3, H, W) so that every pixel gets a full patch around it (replicating the border).

    The patch of pixel (y, x) is then rows y .. y + PATCH_SIZE - 1 of the padded image.
    """
    before = PATCH_SIZE // 2
    return F.pad(image, (before, PATCH_SIZE - 1 - before) * 2, mode="replicate")


def shift_and_stitch(net: PatchNet, image: torch.Tensor) -> torch.Tensor:
    """Scores for every pixel, (B, 3, H, W) -> (B, num_classes, H, W), from OUTPUT_STRIDE**2 dense passes.

    Each pass shifts the image by (dy, dx) so the dense grid lands on the pixels
    y = 4i + dy, x = 4j + dx; stitching the passes gives the sliding-window
    result at every pixel (OverFeat's "shift-and-stitch").
    """
    padded = pad_for_patches(image)
    height, width = image.shape[-2:]
    out = None
    for dy in range(OUTPUT_STRIDE):
        for dx in range(OUTPUT_STRIDE):
            scores = net.dense(padded[..., dy:, dx:])
            if out is None:
                out = scores.new_zeros(scores.shape[:2] + (height, width))
            rows, cols = out[..., dy::OUTPUT_STRIDE, dx::OUTPUT_STRIDE].shape[-2:]
            out[..., dy::OUTPUT_STRIDE, dx::OUTPUT_STRIDE] = scores[..., :rows, :cols]
    return out
