"""SDS (Hariharan et al. 2014): classify class-agnostic segment proposals from box and region features (chapter 7).

For each proposal, as in R-CNN: crop its bounding box from the image and warp
it to ``CROP_SIZE`` pixels (the *box* crop); the same crop with every pixel
outside the proposal's mask set to zero is the *region* crop. The frozen trunk
turns each crop into an ``fc7`` map, averaged into one vector. Three small
classifiers over the object classes plus background read the box vector, the
region vector, or both; they are trained together on the same proposals, so
the ablation is fair.

``CFM`` is the historical step from SDS towards MNC (Dai et al.'s
convolutional feature masking): the trunk runs *once* on the whole image, and
each proposal's box and region features are pooled from that one ``fc7`` map,
inside the box and inside the mask. The classifiers are SDS's. The image is
enlarged ``CFM_SCALE`` times first, as CFM ran its network on an image
pyramid: at 128 pixels a stride-32 map has 4x4 cells, fewer than the objects
it must tell apart, while SDS's warped crops enlarge a typical object about
as much.
Taught in ``lectures/07_instance_segmentation``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.ops import roi_align

from ..data import NUM_CLASSES
from .trunk import FrozenTrunk

#: Side of the warped crops: a multiple of 32, the trunk's largest stride, and an object size its scenes hold.
CROP_SIZE = 64
#: Cells of the grid CFM pools each box's features on.
CFM_GRID = 4
#: How many times CFM enlarges the image before its one trunk pass (the ``fc7`` map grows as much).
CFM_SCALE = 2
#: The three feature sets SDS compares.
MODES = ("box", "region", "both")


def indexed_boxes(boxes: torch.Tensor) -> torch.Tensor:
    """(P, 4) xyxy boxes -> (P, 5) rows ``(p, x0, y0, x1, y1)``: box p applied to batch element p (``roi_align``)."""
    return torch.cat([torch.arange(len(boxes), dtype=boxes.dtype)[:, None], boxes], 1)


def crops(image: torch.Tensor, masks: torch.Tensor, boxes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Box crops and region crops (P, 3, CROP_SIZE, CROP_SIZE) of ``image`` (3, H, W) for ``masks`` (P, H, W).

    ``boxes`` (P, 4) xyxy in pixel edges; ``roi_align`` samples each box on a
    ``CROP_SIZE`` grid, warping it to a square as R-CNN does.
    """
    box_crops = roi_align(image[None], [boxes], CROP_SIZE, sampling_ratio=2, aligned=True)
    inside = roi_align(masks[:, None].float(), indexed_boxes(boxes), CROP_SIZE, sampling_ratio=2, aligned=True)
    return box_crops, box_crops * (inside > 0.5)


def classifier(in_features: int, hidden: int = 128, num_classes: int = NUM_CLASSES) -> nn.Sequential:
    """A small MLP: features -> scores over the object classes plus background (class 0)."""
    return nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU(inplace=True), nn.Dropout(0.2),
                         nn.Linear(hidden, num_classes))


class SDS(nn.Module):
    """Box and region ``fc7`` features of proposals -> class scores (P, NUM_CLASSES) for each of ``MODES``."""

    def __init__(self, trunk: FrozenTrunk | None = None) -> None:
        super().__init__()
        self.trunk = FrozenTrunk() if trunk is None else trunk
        width = self.trunk.channels["fc7"]
        self.classifiers = nn.ModuleDict({"box": classifier(width), "region": classifier(width),
                                          "both": classifier(2 * width)})

    def features(self, image: torch.Tensor, masks: torch.Tensor, boxes: torch.Tensor) -> dict[str, torch.Tensor]:
        """``{"box": (P, 256), "region": (P, 256)}``: the trunk's ``fc7`` on each crop, averaged over its cells."""
        box_crops, region_crops = crops(image, masks, boxes)
        return {"box": self.trunk(box_crops)["fc7"].mean((2, 3)), "region": self.trunk(region_crops)["fc7"].mean((2, 3))}

    def forward(self, features: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        both = torch.cat([features["box"], features["region"]], 1)
        return {"box": self.classifiers["box"](features["box"]),
                "region": self.classifiers["region"](features["region"]),
                "both": self.classifiers["both"](both)}


class CFM(SDS):
    """SDS's classifiers on features pooled from one ``fc7`` map of the enlarged image: the trunk runs once per image."""

    def features(self, image: torch.Tensor, masks: torch.Tensor, boxes: torch.Tensor) -> dict[str, torch.Tensor]:
        """``{"box": (P, 256), "region": (P, 256)}``: ``fc7`` averaged over each box, and over its mask's cells."""
        enlarged = F.interpolate(image[None], scale_factor=CFM_SCALE, mode="bilinear", align_corners=False)
        fc7 = self.trunk(enlarged)["fc7"]
        cells = roi_align(fc7, [boxes], CFM_GRID, spatial_scale=fc7.shape[-1] / image.shape[-1], sampling_ratio=2,
                          aligned=True)
        inside = roi_align(masks[:, None].float(), indexed_boxes(boxes), CFM_GRID, sampling_ratio=2, aligned=True)
        region = (cells * inside).sum((2, 3)) / inside.sum((2, 3)).clamp(min=1e-6)
        return {"box": cells.mean((2, 3)), "region": region}
