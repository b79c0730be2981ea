"""Chapter 8's classifiers of cluttered scenes (``utils.data.Cluttered``): where a network looks.

Every classifier reads the scene through chapter 3's trained shared CNN
(``features``, frozen: the ``singlescale`` model's, copied in by the zoo's
``init_from``), so what differs between them is only how they pool and where
they look. On top: two stride-2 convolutions (``head``), a pooling, a linear
classifier.

- ``PooledClassifier``: the feature grid reduced to one vector by global
  average pooling, global max pooling or *soft attention* (Xu et al. 2015 on
  images: a score per location, a softmax over the locations, the weighted
  sum).
- ``GlimpseClassifier``: a *spatial transformer* (Jaderberg et al. 2015). A
  localisation network reads the scene at low resolution and predicts a
  scale and a translation; ``affine_grid`` / ``grid_sample`` cut a small
  glimpse from the full-resolution scene; the classifier sees only the
  glimpse.
- ``ResizedClassifier``: the glimpse's baseline at about its compute: the same
  classifier on the whole scene resized to the glimpse's size.

Each model's ``where(images)`` returns where it looked; the chapter measures
it against the target's mask and box.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..data import NUM_CLASSES
from .multiscale import SharedCNN

#: The target's class is one of the shapes: background is never a label.
LABELS = NUM_CLASSES - 1
POOLS = ("average", "max", "attention")
#: The localisation network learns this many times slower than the classifier (Jaderberg et al.'s advice):
#: a step that moves the glimpse moves everything the classifier sees.
LOCATOR_LR = 0.3
#: Per-channel statistics of the cluttered scenes (2000 training scenes: 0.50 and 0.29), for the padding pitfall.
SCENE_MEAN, SCENE_STD = 0.5, 0.29
#: Channels of the trained head over the shared CNN's features.
WIDTH = 64


def conv_stack(channels: int, widths: tuple[int, ...]) -> nn.Sequential:
    """3x3 convolutions, each halving the resolution (stride 2), batch norm, ReLU: (B, C, H, W) -> (B, C', H/2^n, W/2^n)."""
    layers = []
    for width in widths:
        layers += [nn.Conv2d(channels, width, 3, stride=2, padding=1), nn.BatchNorm2d(width), nn.ReLU()]
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
    """Frozen shared CNN -> head -> one of ``POOLS`` -> linear: (B, 3, H, W) -> (B, LABELS) logits (class k+1 at k).

    The feature grid is 1/8 of the scene's side (8x8 on a 64-pixel scene).
    """

    def __init__(self, pool: str = "attention", width: int = WIDTH) -> None:
        super().__init__()
        if pool not in POOLS:
            raise ValueError(f"pool must be one of {POOLS}, got {pool!r}")
        self.pool_name = pool
        self.features = SharedCNN().requires_grad_(False)
        self.head = conv_stack(self.features.out_channels, (width, width))
        self.attention = SoftAttentionPool(width) if pool == "attention" else None
        self.classifier = nn.Linear(width, LABELS)

    def train(self, mode: bool = True) -> PooledClassifier:
        """Train mode everywhere but the frozen shared CNN, whose batch norm keeps chapter 3's statistics."""
        super().train(mode)
        self.features.eval()
        return self

    def grid(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) -> (B, width, H/8, W/8): the feature grid that is pooled."""
        return self.head(self.features(images))

    def pool(self, features: torch.Tensor) -> torch.Tensor:
        """(B, C, h, w) -> (B, C)."""
        if self.attention is not None:
            return self.attention(features)
        return features.mean((2, 3)) if self.pool_name == "average" else features.amax((2, 3))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.pool(self.grid(images)))

    def param_groups(self, lr: float) -> list[dict]:
        """One group at ``lr``: every trained parameter (the frozen shared CNN is left out)."""
        return [{"params": [p for p in self.parameters() if p.requires_grad], "lr": lr}]

    def where(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) -> (B, h, w): the share of the pooled vector each location supplies.

        Attention: its weights. Max pooling: the share of channels whose
        maximum lies there. Average pooling: uniform.
        """
        features = self.grid(images)
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


class GlimpseClassifier(PooledClassifier):
    """A spatial transformer: locate at low resolution, classify a full-resolution glimpse.

    (B, 3, H, W) -> (B, LABELS) logits. The localisation network reads the
    shared CNN's features of the scene resized to ``glimpse`` pixels and
    predicts a log scale and a shift; its last layer starts at zero, so the
    first glimpse is the whole scene (scale 1, centred): the same view as the
    resized baseline, which training then learns to narrow. The classifier
    (average pooling) sees only the glimpse.
    """

    def __init__(self, glimpse: int = 32, width: int = WIDTH, padding_mode: str = "border",
                 normalise: bool = False) -> None:
        super().__init__("average", width)
        if glimpse < 8:
            raise ValueError(f"glimpse must be at least 8 pixels, got {glimpse}")
        if padding_mode not in ("zeros", "border", "reflection"):
            raise ValueError(f"padding_mode must be zeros, border or reflection, got {padding_mode!r}")
        # normalise: scenes standardised *before* the sampler, as the PyTorch tutorial does (its issue #1117):
        # zero padding then fills outside the scene with the mean colour, a value the scenes' borders never show.
        self.glimpse, self.padding_mode, self.normalise = glimpse, padding_mode, normalise
        # The locator keeps the grid's layout up to its last layer (a flattened map, as the paper's localisation
        # networks end in fully connected layers): a global pooling would throw away where things are.
        cells = (glimpse // 4) ** 2  # the shared CNN halves the glimpse-sized view, the stride-2 layer halves it again
        self.locator = nn.Sequential(conv_stack(self.features.out_channels, (32,)), nn.Conv2d(32, 8, 1), nn.ReLU(),
                                     nn.Flatten(), nn.Linear(8 * cells, 3))
        nn.init.zeros_(self.locator[-1].weight)
        nn.init.zeros_(self.locator[-1].bias)

    def theta(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) -> (B, 2, 3): where to look, predicted from the scene at the glimpse's resolution."""
        if images.shape[-1] < self.glimpse:
            raise ValueError(f"glimpse: {self.glimpse} pixels is larger than the {images.shape[-1]}-pixel scene")
        small = F.interpolate(images, size=self.glimpse, mode="bilinear", antialias=True, align_corners=False)
        out = self.locator(self.features(small))
        return glimpse_theta(out[:, 0], out[:, 1:])

    def cut(self, images: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W), (B, 2, 3) -> (B, 3, glimpse, glimpse), sampled bilinearly from the full-resolution scene.

        Raises ``ValueError`` for a ``theta`` whose glimpse lies wholly outside
        the scene: it would sample nothing but padding.
        """
        corners = theta @ torch.tensor([[-1.0, -1, 1], [1, 1, 1]], device=theta.device).T  # (B, 2, 2): x, y of 2 corners
        low, high = corners.amin(2), corners.amax(2)
        if ((low >= 1) | (high <= -1)).any():
            raise ValueError("theta: the glimpse lies wholly outside the scene (normalised coordinates run from -1 "
                             "to 1); it would sample only padding")
        grid = F.affine_grid(theta, [images.shape[0], 3, self.glimpse, self.glimpse], align_corners=False)
        if not self.normalise:
            return F.grid_sample(images, grid, mode="bilinear", padding_mode=self.padding_mode, align_corners=False)
        standard = F.grid_sample((images - SCENE_MEAN) / SCENE_STD, grid, mode="bilinear",
                                 padding_mode=self.padding_mode, align_corners=False)
        return standard * SCENE_STD + SCENE_MEAN

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return super().forward(self.cut(images, self.theta(images)))

    def where(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) -> (B, 4) the glimpse's box, xyxy in pixels of the scene."""
        return theta_box(self.theta(images), images.shape[-1])

    def param_groups(self, lr: float) -> list[dict]:
        """The optimiser's groups: the classifier at ``lr``, the localisation network at ``LOCATOR_LR * lr``."""
        locator = {id(p) for p in self.locator.parameters()}
        rest = [p for p in self.parameters() if p.requires_grad and id(p) not in locator]
        return [{"params": rest, "lr": lr}, {"params": list(self.locator.parameters()), "lr": lr * LOCATOR_LR}]


class ResizedClassifier(PooledClassifier):
    """The same classifier on the whole scene resized to ``size``: (B, 3, H, W) -> (B, LABELS).

    The resize averages the pixels each output pixel covers (antialiased), the
    best a fixed view of the whole scene can do at the glimpse's resolution.
    """

    def __init__(self, size: int = 32, width: int = WIDTH) -> None:
        super().__init__("average", width)
        if size < 8:
            raise ValueError(f"size must be at least 8 pixels, got {size}")
        self.size = size

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        small = F.interpolate(images, size=self.size, mode="bilinear", antialias=True, align_corners=False)
        return super().forward(small)


def theta_box(theta: torch.Tensor, size: int) -> torch.Tensor:
    """(B, 2, 3) scale-and-shift matrices -> (B, 4) the boxes they sample, xyxy pixel edges on a ``size`` canvas."""
    scale, cx, cy = theta[:, 0, 0], theta[:, 0, 2], theta[:, 1, 2]
    to_pixels = lambda v: (v + 1) * size / 2  # noqa: E731  (align_corners=False: -1 and 1 are the outer edges)
    return torch.stack([to_pixels(cx - scale), to_pixels(cy - scale), to_pixels(cx + scale), to_pixels(cy + scale)], 1)



def box_theta(boxes: torch.Tensor, size: int) -> torch.Tensor:
    """(B, 4) square boxes, xyxy pixel edges on a ``size`` canvas -> (B, 2, 3) matrices that sample them (``theta_box``'s inverse).

    Normalised coordinates run from -1 (the canvas's left / top edge) to 1, so
    a box of side ``w`` pixels is a scale ``w / size`` and its centre ``c``
    pixels a translation ``2 c / size - 1``.
    """
    scale = (boxes[:, 2] - boxes[:, 0]) / size
    cx, cy = (boxes[:, 0] + boxes[:, 2]) / size - 1, (boxes[:, 1] + boxes[:, 3]) / size - 1
    zeros = torch.zeros_like(scale)
    return torch.stack([torch.stack([scale, zeros, cx], 1), torch.stack([zeros, scale, cy], 1)], 1)
