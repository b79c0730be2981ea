"""The losses the zoo trains with, one per task: ``LOSSES[task](model, images, targets, generator)``.

Dense cross-entropy (chapters 3 and 5), the patch classifier's loss on a
random grid of patch centres (chapter 2), the recurrent network's loss on every
pass or the last one only (chapter 4), chapter 7's instance losses (``instance_training``),
chapter 8's scene classification and chapter 9's losses for a rare class
(``utils.imbalance``). Every dense loss leaves out ``VOID`` pixels.
"""

from __future__ import annotations

from functools import cache

import torch
import torch.nn.functional as F
from torch import nn

from ..data import NUM_CLASSES, RARE_CROSSES, VOID, Shapes
from ..imbalance import focal_loss, median_frequency_weights, soft_dice_loss, weighted_cross_entropy
from ..models.patchnet import OUTPUT_STRIDE, pad_for_patches
from .instance_training import INSTANCE_LOSSES

#: Training scenes whose class frequencies set the weighted loss's weights (seed 0, whatever the run's seed).
WEIGHT_SCENES = 512


def dense_loss(model: nn.Module, images: torch.Tensor, semantic: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Cross-entropy of (B, C, H, W) scores against (B, H, W) labels at every labelled pixel."""
    return F.cross_entropy(model(images), semantic, ignore_index=VOID)


@cache
def rare_class_weights() -> torch.Tensor:
    """(NUM_CLASSES,) median-frequency weights of chapter 9's rare-class training distribution."""
    _, semantic = Shapes("train", WEIGHT_SCENES, distribution=RARE_CROSSES).batch(range(WEIGHT_SCENES))
    return median_frequency_weights(semantic, NUM_CLASSES)


def weighted_loss(model: nn.Module, images: torch.Tensor, semantic: torch.Tensor,
                  generator: torch.Generator) -> torch.Tensor:
    """Cross-entropy weighted by ``rare_class_weights`` (chapter 9)."""
    return weighted_cross_entropy(model(images), semantic, rare_class_weights())


def dice_loss(model: nn.Module, images: torch.Tensor, semantic: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Soft Dice averaged over classes (chapter 9)."""
    return soft_dice_loss(model(images), semantic)


def dense_focal_loss(model: nn.Module, images: torch.Tensor, semantic: torch.Tensor,
                     generator: torch.Generator) -> torch.Tensor:
    """Focal loss, gamma = 2 (chapter 9)."""
    return focal_loss(model(images), semantic)


def patch_loss(model: nn.Module, images: torch.Tensor, semantic: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Cross-entropy of the patch classifier on the centre pixels of a random stride-4 grid of patches.

    One dense pass computes the classifier on every patch of the grid at once
    (chapter 2 shows it gives the same numbers), so this is patch-wise training
    without cutting the patches out.
    """
    dy, dx = torch.randint(OUTPUT_STRIDE, (2,), generator=generator).tolist()
    scores = model.dense(pad_for_patches(images)[..., dy:, dx:])
    labels = semantic[:, dy::OUTPUT_STRIDE, dx::OUTPUT_STRIDE]
    return F.cross_entropy(scores, labels)


def recurrent_loss(model: nn.Module, images: torch.Tensor, semantic: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Mean cross-entropy of the scores after *every* unrolled pass (Pinheiro & Collobert: a loss on each instance).

    Every pass is pushed towards the right labels, so the first pass learns to
    label alone and later passes learn to correct what earlier ones give them.
    """
    return torch.stack([F.cross_entropy(scores, semantic) for scores in model(images)]).mean()


def last_pass_loss(model: nn.Module, images: torch.Tensor, semantic: torch.Tensor,
                   generator: torch.Generator) -> torch.Tensor:
    """Cross-entropy after the last unrolled pass only (chapter 4's Exercise 4.2: what the loss on every pass buys)."""
    return F.cross_entropy(model(images)[-1], semantic)


def classify_loss(model: nn.Module, images: torch.Tensor, labels: torch.Tensor,
                  generator: torch.Generator) -> torch.Tensor:
    """Cross-entropy of (B, NUM_CLASSES - 1) logits against (B,) labels 1..NUM_CLASSES-1 (background is no label)."""
    return F.cross_entropy(model(images), labels - 1)


LOSSES = {"classify": classify_loss, "dense": dense_loss, "dense_weighted": weighted_loss, "dense_dice": dice_loss,
          "dense_focal": dense_focal_loss, "patch": patch_loss, "recurrent": recurrent_loss,
          "recurrent_last": last_pass_loss, **INSTANCE_LOSSES}
