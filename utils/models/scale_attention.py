"""Chen et al. 2016, "Attention to scale": chapter 3's pyramid, its scales fused by per-pixel weights (chapter 8).

Chapter 3's network concatenates the shared CNN's features from every
pyramid level and classifies the stacked vector. Chen et al. instead score
each scale on its own (one classifier, shared by the scales, at the scale's
own resolution; the score maps are then upsampled to the image) and fuse the
score maps: by their average, by their maximum, or by *attention*: a small
head reads every scale's features at a pixel and predicts a softmax over
the scales there, and the fused scores are the weighted sum. The weights say,
pixel by pixel, which scale the network trusted.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .multiscale import SharedCNN, gaussian_pyramid

FUSIONS = ("average", "max", "attention")


class ScaleFusionCNN(nn.Module):
    """Shared CNN on every level -> shared per-pixel classifier -> fused scores: (B, 3, H, W) -> (B, classes, H, W)."""

    def __init__(self, num_classes: int, fusion: str = "attention", levels: int = 3, hidden: int = 64) -> None:
        super().__init__()
        if fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {FUSIONS}, got {fusion!r}")
        if levels < 1:
            raise ValueError(f"levels must be at least 1 (an empty set of scales has nothing to fuse), got {levels}")
        self.fusion, self.levels = fusion, levels
        self.features = SharedCNN()
        width = self.features.out_channels
        self.classifier = nn.Sequential(nn.Conv2d(width, hidden, 1), nn.ReLU(inplace=True), nn.Conv2d(hidden, num_classes, 1))
        self.scale_head = None
        if fusion == "attention":
            self.scale_head = nn.Sequential(nn.Conv2d(levels * width, hidden, 1), nn.ReLU(inplace=True),
                                            nn.Conv2d(hidden, levels, 1))

    def level_features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The shared CNN on every level, at the level's own resolution: (B, out_channels, H/2, W/2), (.., H/4, ..), ..."""
        return [self.features(level) for level in gaussian_pyramid(x, self.levels)]

    def scale_weights(self, features: list[torch.Tensor], size: tuple[int, int]) -> torch.Tensor:
        """(B, levels, *size) per-pixel weights of the scales, summing to 1 at every pixel.

        The head reads every scale's features at the finest level's grid (the
        coarser ones upsampled to it); its scores are upsampled to ``size``
        before the softmax over the scales.
        """
        if self.scale_head is None:
            return features[0].new_full((features[0].shape[0], self.levels, *size), 1 / self.levels)
        grid = features[0].shape[-2:]
        stacked = torch.cat([F.interpolate(f, size=grid, mode="bilinear", align_corners=False) for f in features], 1)
        scores = F.interpolate(self.scale_head(stacked), size=size, mode="bilinear", align_corners=False)
        return scores.softmax(1)

    def forward(self, x: torch.Tensor, return_weights: bool = False):
        features = self.level_features(x)
        size = x.shape[-2:]
        # Each scale is scored at its own resolution (cheap), then its class scores are upsampled to the image.
        scores = torch.stack([F.interpolate(self.classifier(f), size=size, mode="bilinear", align_corners=False)
                              for f in features], 1)  # (B, levels, classes, H, W)
        weights = self.scale_weights(features, size)
        if self.fusion == "max":
            fused = scores.amax(1)
        else:
            fused = (weights.unsqueeze(2) * scores).sum(1)
        return (fused, weights) if return_weights else fused

    def segment(self, images: torch.Tensor) -> torch.Tensor:
        """Per-pixel class scores (B, num_classes, H, W)."""
        return self(images)
