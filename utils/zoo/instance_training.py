"""How chapter 7's instance models learn: their training targets and losses, plugged into ``utils.zoo.training``.

``utils.zoo.training.fit`` runs every model of the zoo; for the instance tasks it
hands each loss the images and one torchvision-style target dict per scene,
made by ``TARGETS[task]`` (in the data workers, so SDS's proposals are
computed in parallel on a many-core machine). Taught in ``lectures/07_instance_segmentation``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.ops import roi_align

from ..metrics import mask_iou
from ..models.mask_heads import MASK_SIZE
from ..models.sds import MODES, indexed_boxes
from ..proposals import boxes_of, proposals

#: A proposal overlapping an object by at least this IoU is labelled with its class, else background (SDS, R-CNN).
POSITIVE_IOU = 0.5
#: Proposals per training scene for SDS's classifiers: at most this many positives, and this many in all.
POSITIVES_PER_SCENE, PROPOSALS_PER_SCENE = 6, 16
#: Proposals per training scene for a mask head, besides the objects' own masks.
HEAD_PROPOSALS = 6


def instance_target(image: torch.Tensor, target: dict) -> dict:
    """The torchvision detection target of a scene: ``boxes``, ``labels`` and ``masks`` (uint8, as MaskRCNN wants)."""
    return {"boxes": target["boxes"], "labels": target["labels"], "masks": target["masks"].to(torch.uint8)}


def proposal_target(image: torch.Tensor, target: dict) -> dict:
    """``instance_target`` plus ``proposals`` (P, H, W) uint8: the scene's selective-search proposals."""
    return {**instance_target(image, target), "proposals": proposals(image).to(torch.uint8)}


TARGETS = {"sds": proposal_target, "mask_head": proposal_target, "maskrcnn": instance_target}


def proposal_labels(masks: torch.Tensor, truth: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Class of each proposal (P, H, W): that of the object it overlaps most if IoU >= POSITIVE_IOU, else 0."""
    ious = mask_iou(masks, truth)
    best, which = ious.max(1)
    return torch.where(best >= POSITIVE_IOU, labels[which], torch.zeros_like(labels[which]))


def sample_proposals(classes: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Indices of up to POSITIVES_PER_SCENE positives and background proposals filling PROPOSALS_PER_SCENE."""
    order = torch.randperm(len(classes), generator=generator)
    positive, negative = order[classes[order] > 0], order[classes[order] == 0]
    positive = positive[:POSITIVES_PER_SCENE]
    return torch.cat([positive, negative[:PROPOSALS_PER_SCENE - len(positive)]])


def sds_loss(model: nn.Module, images: torch.Tensor, targets: list[dict], generator: torch.Generator) -> torch.Tensor:
    """Cross-entropy of SDS's three classifiers (box, region, both) on the same sampled proposals.

    The true masks join each scene's proposals as extra positives, as in R-CNN.
    """
    features, classes = {"box": [], "region": []}, []
    for image, target in zip(images, targets):
        masks = torch.cat([target["proposals"], target["masks"]]).bool()
        labels = proposal_labels(masks.cpu(), target["masks"].bool().cpu(), target["labels"].cpu())
        pick = sample_proposals(labels, generator).to(masks.device)
        chosen = model.features(image, masks[pick], boxes_of(masks[pick]))
        for key in features:
            features[key].append(chosen[key])
        classes.append(labels.to(masks.device)[pick])
    scores = model({key: torch.cat(value) for key, value in features.items()})
    classes = torch.cat(classes)
    return sum(F.cross_entropy(scores[mode].float(), classes) for mode in MODES) / len(MODES)


def head_examples(target: dict, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One scene's training examples for a mask head: (proposal masks (K, H, W), their objects' masks, labels).

    Every object's true mask (a perfect proposal) and up to HEAD_PROPOSALS of
    the proposals that overlap an object by POSITIVE_IOU, each paired with
    that object: the head learns to turn a rough proposal into the object.
    """
    truth, labels = target["masks"].bool(), target["labels"]
    candidates = target["proposals"].bool()
    best, which = mask_iou(candidates.cpu(), truth.cpu()).max(1) if len(candidates) else (torch.zeros(0), None)
    positive = torch.nonzero(best >= POSITIVE_IOU).flatten()
    pick = positive[torch.randperm(len(positive), generator=generator)[:HEAD_PROPOSALS]]
    objects = torch.cat([torch.arange(len(truth)), which[pick] if len(pick) else torch.zeros(0, dtype=torch.long)])
    proposals = torch.cat([truth, candidates[pick.to(candidates.device)]])
    return proposals, truth[objects.to(truth.device)], labels[objects.to(labels.device)]


def mask_head_loss(model: nn.Module, images: torch.Tensor, targets: list[dict],
                   generator: torch.Generator) -> torch.Tensor:
    """Per-pixel binary cross-entropy of a mask head, in each proposal's box, on its object's own class map."""
    size = images.shape[-1]
    examples = [head_examples(t, generator) for t in targets]
    proposals = [p.float() for p, _, _ in examples]
    boxes = [boxes_of(p.bool()) for p in proposals]
    logits = model(model.trunk(images), boxes, proposals, size)
    labels = torch.cat([lab for _, _, lab in examples])
    masks = torch.cat([m for _, m, _ in examples])[:, None].float()
    truth = roi_align(masks, indexed_boxes(torch.cat(boxes)), MASK_SIZE, sampling_ratio=2, aligned=True)[:, 0] > 0.5
    own = logits[torch.arange(len(labels)), labels - 1]
    return F.binary_cross_entropy_with_logits(own.float(), truth.float())


def maskrcnn_loss(model: nn.Module, images: torch.Tensor, targets: list[dict], generator: torch.Generator) -> torch.Tensor:
    """The sum of torchvision's Mask R-CNN losses: RPN objectness and boxes, box classes and boxes, masks."""
    return sum(model(list(images), targets).values())


INSTANCE_LOSSES = {"sds": sds_loss, "mask_head": mask_head_loss, "maskrcnn": maskrcnn_loss}
