"""A small Mask R-CNN (He et al. 2017) on the course's frozen trunk: the cascade, with shared features (chapter 7).

torchvision's ``MaskRCNN`` with nothing downloaded: the backbone is chapter 5's
trained FCN-8s (frozen) whose ``pool3``, ``pool4`` and ``pool5`` are fused into
one stride-8 map (1x1 convolutions, upsampled and added, a one-level FPN).
Everything after it is torchvision's: the region proposal network proposes
boxes, RoIAlign pools the shared map for each box, one head classifies and
refines the box, another predicts its mask. Sizes are cut to our 128-pixel
scenes with at most four objects. Taught in ``lectures/07_instance_segmentation``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models.detection import MaskRCNN
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
from torchvision.models.detection.mask_rcnn import MaskRCNNHeads, MaskRCNNPredictor
from torchvision.ops import MultiScaleRoIAlign

from ..data import NUM_CLASSES
from .trunk import FrozenTrunk

#: Channels of the fused feature map, and the layers fused into it.
FUSED_CHANNELS = 128
FUSED_LAYERS = ("pool3", "pool4", "pool5")


class FusedFeatures(nn.Module):
    """(B, 3, H, W) -> (B, FUSED_CHANNELS, H/8, W/8): the trunk's pool3, pool4, pool5 projected and summed."""

    def __init__(self, trunk: FrozenTrunk | None = None) -> None:
        super().__init__()
        self.trunk = FrozenTrunk() if trunk is None else trunk
        self.lateral = nn.ModuleDict({name: nn.Conv2d(self.trunk.channels[name], FUSED_CHANNELS, 1)
                                      for name in FUSED_LAYERS})
        self.out_channels = FUSED_CHANNELS  # what MaskRCNN reads to size its heads

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        features = self.trunk(images)
        size = features[FUSED_LAYERS[0]].shape[-2:]
        return sum(F.interpolate(self.lateral[name](features[name]), size=size, mode="bilinear", align_corners=False)
                   for name in FUSED_LAYERS)


def course_maskrcnn(trunk: FrozenTrunk | None = None, image_size: int = 128) -> MaskRCNN:
    """torchvision's ``MaskRCNN`` sized for our scenes, on ``FusedFeatures`` of the frozen trunk.

    A backbone returning one tensor is torchvision's feature map ``"0"``: both
    RoI poolers read it, and the anchor generator has one size tuple for it.
    Images are not resized (``min_size = max_size = image_size``) and not
    normalised (the trunk was trained on raw [0, 1] pixels).
    """
    backbone = FusedFeatures(trunk)
    hidden = 256
    return MaskRCNN(
        backbone, num_classes=None, min_size=image_size, max_size=image_size,
        image_mean=[0.0, 0.0, 0.0], image_std=[1.0, 1.0, 1.0],
        rpn_anchor_generator=AnchorGenerator(sizes=((8, 16, 32, 64, 128),), aspect_ratios=((0.5, 1.0, 2.0),)),
        rpn_pre_nms_top_n_train=600, rpn_post_nms_top_n_train=200,
        rpn_pre_nms_top_n_test=300, rpn_post_nms_top_n_test=100, rpn_batch_size_per_image=128,
        box_roi_pool=MultiScaleRoIAlign(["0"], output_size=7, sampling_ratio=2),
        box_head=TwoMLPHead(FUSED_CHANNELS * 7 * 7, hidden),
        box_predictor=FastRCNNPredictor(hidden, NUM_CLASSES),
        box_batch_size_per_image=64, box_detections_per_img=20, box_score_thresh=0.05,
        mask_roi_pool=MultiScaleRoIAlign(["0"], output_size=14, sampling_ratio=2),
        mask_head=MaskRCNNHeads(FUSED_CHANNELS, (64, 64), 1),
        mask_predictor=MaskRCNNPredictor(64, 64, NUM_CLASSES),
    )
