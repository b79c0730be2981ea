"""Chapter 8's classifiers of cluttered scenes (``utils.data.Cluttered``): where a network looks.

- ``PooledClassifier``: a small CNN's feature grid, reduced to one vector by
  global average pooling, global max pooling or *soft attention* (Xu et al.
  2015 on images: a score per location, a softmax over the locations, the
  weighted sum), then a linear classifier over the target's class.
- ``GlimpseClassifier``: a *spatial transformer* (Jaderberg et al. 2015). A
  localisation network reads the scene at low resolution and predicts a
  scale and a translation; ``affine_grid`` / ``grid_sample`` cut a small
  glimpse from the full-resolution scene; the classifier sees only the
  glimpse.

Each model's ``where(images)`` returns where it looked; the chapter measures
it against the target's mask and box.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..data import NUM_CLASSES

#: The target's class is one of the shapes: background is never a label.
LABELS = NUM_CLASSES - 1
POOLS = ("average", "max", "attention")


def conv_stack(widths: tuple[int, ...]) -> nn.Sequential:
    """3x3 convolutions, each halving the resolution (stride 2), GroupNorm, ReLU: (B, 3, H, W) -> (B, C, H/2^n, W/2^n)."""
    layers, channels = [], 3
    for width in widths:
        layers += [nn.Conv2d(channels, width, 3, stride=2, padding=1), nn.GroupNorm(8, width), nn.ReLU()]
        channels = width
    return nn.Sequential(*layers)


class SoftAttentionPool(nn.Module):
    """A score per location, a softmax over the locations, the weighted sum: (B, C, h, w) -> (B, C)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.score = nn.Conv2d(channels, 1, 1)

    def weights(self, features: torch.Tensor) -> torch.Tensor:
        """(B, C, h, w) -> (B, h, w) attention weights, summing to 1 over each map."""
        scores = self.score(features).flatten(1)  # (B, h*w)
        return scores.softmax(1).view(features.shape[0], *features.shape[2:])

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return (self.weights(features).unsqueeze(1) * features).sum((2, 3))


class PooledClassifier(nn.Module):
    """CNN -> one of ``POOLS`` -> linear: (B, 3, H, W) -> (B, LABELS) logits (class k+1 at index k)."""

    def __init__(self, pool: str = "attention", widths: tuple[int, ...] = (32, 64, 64)) -> None:
        super().__init__()
        if pool not in POOLS:
            raise ValueError(f"pool must be one of {POOLS}, got {pool!r}")
        self.pool_name = pool
        self.features = conv_stack(widths)
        self.attention = SoftAttentionPool(widths[-1]) if pool == "attention" else None
        self.classifier = nn.Linear(widths[-1], LABELS)

    def pool(self, features: torch.Tensor) -> torch.Tensor:
        """(B, C, h, w) -> (B, C)."""
        if self.attention is not None:
            return self.attention(features)
        return features.mean((2, 3)) if self.pool_name == "average" else features.amax((2, 3))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.pool(self.features(images)))

    def where(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) -> (B, h, w): the share of the pooled vector each location supplies.

        Attention: its weights. Max pooling: the share of channels whose
        maximum lies there. Average pooling: uniform.
        """
        features = self.features(images)
        if self.attention is not None:
            return self.attention.weights(features)
        batch, channels, h, w = features.shape
        if self.pool_name == "average":
            return features.new_full((batch, h, w), 1 / (h * w))
        winners = features.flatten(2).argmax(2)  # (B, C): where each channel's maximum lies
        counts = torch.zeros(batch, h * w, device=features.device)
        counts.scatter_add_(1, winners, torch.ones(batch, channels, device=features.device))
        return (counts / channels).view(batch, h, w)


def glimpse_theta(log_scale: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """(B,) log scale and (B, 2) unbounded shift -> (B, 2, 3) affine matrices for ``F.affine_grid``.

    The scale is ``exp(log_scale)``: its gradient is the scale itself, so it
    never vanishes as a clamped or sigmoid scale's does at its bounds. The
    centre is ``(1 - s) tanh(shift)``, which keeps a glimpse smaller than the
    scene inside it (normalised coordinates, -1 to 1).
    """
    scale = log_scale.exp()
    centre = (1 - scale).unsqueeze(1) * shift.tanh()
    zeros = torch.zeros_like(scale)
    return torch.stack([torch.stack([scale, zeros, centre[:, 0]], 1), torch.stack([zeros, scale, centre[:, 1]], 1)], 1)


class GlimpseClassifier(nn.Module):
    """A spatial transformer: locate at low resolution, classify a full-resolution glimpse.

    (B, 3, H, W) -> (B, LABELS) logits. The localisation network sees the
    scene resized to ``glimpse`` pixels; its last layer starts at zero, so
    the first glimpse is the whole scene (scale 1, centred): the same view as
    the downsampled baseline, which training then learns to narrow.
    """

    def __init__(self, glimpse: int = 32, widths: tuple[int, ...] = (32, 64, 64),
                 padding_mode: str = "border") -> None:
        super().__init__()
        if glimpse < 8:
            raise ValueError(f"glimpse must be at least 8 pixels, got {glimpse}")
        self.glimpse, self.padding_mode = glimpse, padding_mode
        self.locator = nn.Sequential(conv_stack((16, 32)), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 3))
        nn.init.zeros_(self.locator[-1].weight)
        nn.init.zeros_(self.locator[-1].bias)
        self.classifier = PooledClassifier("average", widths)

    def theta(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) -> (B, 2, 3): where to look, predicted from the scene at the glimpse's resolution."""
        if images.shape[-1] < self.glimpse:
            raise ValueError(f"glimpse: {self.glimpse} pixels is larger than the {images.shape[-1]}-pixel scene")
        small = F.interpolate(images, size=self.glimpse, mode="bilinear", antialias=True, align_corners=False)
        out = self.locator(small)
        return glimpse_theta(out[:, 0], out[:, 1:])

    def cut(self, images: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W), (B, 2, 3) -> (B, 3, glimpse, glimpse), sampled bilinearly from the full-resolution scene."""
        grid = F.affine_grid(theta, [images.shape[0], 3, self.glimpse, self.glimpse], align_corners=False)
        return F.grid_sample(images, grid, mode="bilinear", padding_mode=self.padding_mode, align_corners=False)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.cut(images, self.theta(images)))

    def where(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) -> (B, 4) the glimpse's box, xyxy in pixels of the scene."""
        return theta_box(self.theta(images), images.shape[-1])


def theta_box(theta: torch.Tensor, size: int) -> torch.Tensor:
    """(B, 2, 3) scale-and-shift matrices -> (B, 4) the boxes they sample, xyxy pixel edges on a ``size`` canvas."""
    scale, cx, cy = theta[:, 0, 0], theta[:, 0, 2], theta[:, 1, 2]
    to_pixels = lambda v: (v + 1) * size / 2  # noqa: E731  (align_corners=False: -1 and 1 are the outer edges)
    return torch.stack([to_pixels(cx - scale), to_pixels(cy - scale), to_pixels(cx + scale), to_pixels(cy + scale)], 1)

