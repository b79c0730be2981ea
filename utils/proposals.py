"""Class-agnostic segment proposals, selective-search style, from scikit-image (chapter 7).

SDS (Hariharan et al. 2014) starts from a few hundred candidate object masks
that know nothing about classes. Like selective search (Uijlings et al. 2013),
we segment the image at several scales with Felzenszwalb and Huttenlocher's
graph-based method and group adjacent regions hierarchically (chapter 3's
``bottom_up.segmentation_tree``, merged all the way to the root): every region
and every merge is a proposal. Taught in ``lectures/07_instance_segmentation``.
"""

from __future__ import annotations

import numpy as np
import torch
from skimage.segmentation import felzenszwalb
from torchvision.ops import masks_to_boxes

from .bottom_up import segmentation_tree
from .metrics import mask_iou

#: Felzenszwalb scales (larger: larger regions), its smoothing and smallest region, in pixels.
PROPOSAL_SCALES: tuple[float, ...] = (100.0, 300.0)
PROPOSAL_SIGMA, PROPOSAL_MIN_SIZE = 0.8, 20
#: Proposals smaller than this many pixels, or covering more than this share of the image, are dropped.
MIN_AREA, MAX_SHARE = 16, 0.9


def check_image(image: torch.Tensor) -> None:
    """Refuse anything but a (3, H, W) float image with values in [0, 1]."""
    if image.dim() != 3 or image.shape[0] != 3 or not image.is_floating_point():
        raise ValueError(f"image must be a float (3, H, W) tensor, got {tuple(image.shape)} {image.dtype}")
    if image.min() < 0 or image.max() > 1:
        raise ValueError("image values must lie in [0, 1]")


def tree_masks(image: torch.Tensor, scale: float, grouping: bool = True) -> torch.Tensor:
    """Every region of one Felzenszwalb segmentation and, with ``grouping``, every merge of its tree: (P, H, W) bool."""
    regions = felzenszwalb(image.permute(1, 2, 0).double().numpy(), scale=scale, sigma=PROPOSAL_SIGMA,
                           min_size=PROPOSAL_MIN_SIZE)
    count = int(regions.max()) + 1
    nodes = segmentation_tree(image, regions, threshold=np.inf) if grouping else [[r] for r in range(count)]
    membership = np.zeros((len(nodes), count), dtype=bool)
    for row, members in enumerate(nodes):
        membership[row, members] = True
    return torch.from_numpy(membership[:, regions])  # node n covers pixel p iff p's region belongs to n


def proposals(image: torch.Tensor, scales: tuple[float, ...] = PROPOSAL_SCALES, grouping: bool = True) -> torch.Tensor:
    """Distinct proposal masks for ``image`` (3, H, W): (P, H, W) bool, small and near-whole-image ones dropped."""
    check_image(image)
    if not scales or min(scales) <= 0:
        raise ValueError(f"scales must be a non-empty list of positive Felzenszwalb scales, got {scales}")
    masks = torch.cat([tree_masks(image, scale, grouping) for scale in scales])
    area = masks.flatten(1).sum(1)
    masks = masks[(area >= MIN_AREA) & (area <= MAX_SHARE * masks[0].numel())]
    return torch.unique(masks, dim=0)


def best_overlap(masks: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """For every true mask (G, H, W), its best IoU with any proposal in ``masks`` (P, H, W): float64 (G,)."""
    if len(masks) == 0:
        return torch.zeros(len(truth), dtype=torch.float64)
    return mask_iou(truth, masks).max(1).values


def boxes_of(masks: torch.Tensor) -> torch.Tensor:
    """xyxy boxes (P, 4) in pixel edges enclosing each non-empty mask of (P, H, W), as in ``Shapes``' targets.

    torchvision's ``masks_to_boxes`` gives the last pixel's index; the edge is one further.
    """
    return masks_to_boxes(masks) + torch.tensor([0.0, 0.0, 1.0, 1.0])
