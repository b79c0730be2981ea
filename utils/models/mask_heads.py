"""Mask heads: refine a detection's mask in its box from per-pixel features (Hariharan et al. 2015; chapter 7).

A *hypercolumn* is the stack of every layer's activations above one pixel:
fine, well-localised features from early layers beside coarse, semantic ones
from late layers. For a box, each chosen layer of the frozen trunk is sampled
on a ``MASK_SIZE`` x ``MASK_SIZE`` grid inside it (``roi_align``), the samples
are stacked per grid point with the point's position in the box (a stand-in
for the paper's location-specific classifiers) and with the detection's
proposal mask sampled on the same grid (as SDS's refinement read the top
features *and* the proposal), and 1x1 convolutions classify every point as
figure or ground, one output per object class. The ``last_layer`` head reads
``fc7`` alone; the ``hypercolumn`` head reads ``pool2``, ``pool3``, ``pool4``
and ``fc7``. Taught in ``lectures/07_instance_segmentation``.
"""

from __future__ import annotations

import torch
from torch import nn
from torchvision.ops import roi_align

from ..data import NUM_CLASSES
from .sds import indexed_boxes
from .trunk import FrozenTrunk

#: Side of the grid a head predicts in each box (Mask R-CNN uses 28).
MASK_SIZE = 28
LAST_LAYER: tuple[str, ...] = ("fc7",)
HYPERCOLUMN: tuple[str, ...] = ("pool2", "pool3", "pool4", "fc7")


def box_grid(count: int, size: int = MASK_SIZE) -> torch.Tensor:
    """(count, 2, size, size): each grid point's (y, x) position in its box, from -1 to 1."""
    line = torch.linspace(-1.0, 1.0, size)
    grid = torch.stack(torch.meshgrid(line, line, indexing="ij"))
    return grid.expand(count, -1, -1, -1)


class MaskHead(nn.Module):
    """Trunk features and boxes -> figure/ground logits (K, NUM_CLASSES - 1, MASK_SIZE, MASK_SIZE), one map per class."""

    def __init__(self, layers: tuple[str, ...], trunk: FrozenTrunk | None = None, hidden: int = 64) -> None:
        super().__init__()
        self.trunk = FrozenTrunk() if trunk is None else trunk
        unknown = set(layers) - set(self.trunk.channels)
        if not layers or unknown:
            raise ValueError(f"layers must be a non-empty subset of {sorted(self.trunk.channels)}, got {layers}")
        self.layers = layers
        width = sum(self.trunk.channels[name] for name in layers) + 3  # + the grid point's (y, x) + the proposal
        self.classifier = nn.Sequential(
            nn.Conv2d(width, hidden, 1), nn.ReLU(inplace=True),
            nn.Conv2d(hidden, hidden, 1), nn.ReLU(inplace=True),
            nn.Conv2d(hidden, NUM_CLASSES - 1, 1),
        )

    def hypercolumns(self, features: dict[str, torch.Tensor], boxes: list[torch.Tensor], proposals: list[torch.Tensor],
                     image_size: int) -> torch.Tensor:
        """(K, channels + 3, MASK_SIZE, MASK_SIZE): the chosen layers sampled in every box, the box grid, the proposal.

        ``boxes`` holds one (K_i, 4) xyxy tensor per image of the batch ``features``
        came from, ``proposals`` the matching (K_i, H, W) proposal masks.
        """
        columns = [roi_align(features[name], boxes, MASK_SIZE, spatial_scale=features[name].shape[-1] / image_size,
                             sampling_ratio=2, aligned=True) for name in self.layers]
        masks = torch.cat(proposals)[:, None].to(columns[0])
        inside = roi_align(masks, indexed_boxes(torch.cat(boxes)), MASK_SIZE, sampling_ratio=2, aligned=True)
        return torch.cat([*columns, box_grid(len(columns[0])).to(columns[0]), inside], 1)

    def forward(self, features: dict[str, torch.Tensor], boxes: list[torch.Tensor], proposals: list[torch.Tensor],
                image_size: int) -> torch.Tensor:
        return self.classifier(self.hypercolumns(features, boxes, proposals, image_size))
