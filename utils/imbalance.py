"""Losses for a rare class: weighted cross-entropy's weights, soft Dice, focal loss (chapter 9).

Every loss takes scores (B, C, H, W) and labels (B, H, W) and leaves out the
pixels labelled ``VOID``, like ``F.cross_entropy(..., ignore_index=VOID)``.

- Weighted cross-entropy multiplies each pixel's loss by its class's weight;
  ``median_frequency_weights`` gives the classic choice (Eigen & Fergus, 2015):
  the median class frequency over the class's own, so a class ten times rarer
  than the median counts ten times as much.
- Soft Dice (Milletari et al., 2016, V-Net) scores each class by the overlap
  of its predicted probabilities with its true mask, 2|P.G| / (|P| + |G|), and
  averages over classes: a rare class weighs as much as the background.
- Focal loss (Lin et al., 2017) multiplies cross-entropy by (1 - p_t)^gamma,
  so pixels the model already gets right (p_t near 1) count for little.

Taught in ``lectures/09_your_own_data``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .data import VOID

#: Focal loss's focusing parameter: the paper's default.
FOCAL_GAMMA = 2.0
#: Soft Dice's smoothing term: keeps a class absent from both prediction and truth at a loss of 0, not 0/0.
DICE_SMOOTH = 1.0


def _valid(scores: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """(B, H, W) bool: the pixels that carry a label; refuses mismatched shapes."""
    if scores.dim() != 4 or labels.shape != (scores.shape[0], *scores.shape[2:]):
        raise ValueError(f"scores must be (B, C, H, W) and labels (B, H, W) alike: got {tuple(scores.shape)} "
                         f"and {tuple(labels.shape)}")
    return labels != VOID


def class_frequencies(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """(C,) share of the labelled pixels of ``labels`` (any shape) in each class (``VOID`` left out)."""
    counts = torch.bincount(labels[labels != VOID].reshape(-1), minlength=num_classes)[:num_classes].double()
    return counts / counts.sum()


def median_frequency_weights(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """(C,) float32 weights median(f) / f_c from the class frequencies of ``labels``; refuses an absent class."""
    frequency = class_frequencies(labels, num_classes)
    if (frequency == 0).any():
        absent = (frequency == 0).nonzero().flatten().tolist()
        raise ValueError(f"labels: classes {absent} never occur, so they have no frequency to weigh by")
    return (frequency.median() / frequency).float()


def weighted_cross_entropy(scores: torch.Tensor, labels: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Cross-entropy with each pixel weighted by its class's ``weights`` (C,), normalised by the weights' sum."""
    _valid(scores, labels)
    return F.cross_entropy(scores, labels, weight=weights.to(scores), ignore_index=VOID)


def soft_dice_loss(scores: torch.Tensor, labels: torch.Tensor, smooth: float = DICE_SMOOTH) -> torch.Tensor:
    """1 - the mean over classes of 2 sum(p * g) / (sum(p) + sum(g)), sums over the batch's labelled pixels."""
    valid = _valid(scores, labels)[:, None]
    probabilities = scores.softmax(1) * valid
    truth = F.one_hot(labels.where(valid[:, 0], 0), scores.shape[1]).permute(0, 3, 1, 2) * valid
    overlap = (probabilities * truth).sum((0, 2, 3))
    sizes = probabilities.sum((0, 2, 3)) + truth.sum((0, 2, 3))
    return 1 - ((2 * overlap + smooth) / (sizes + smooth)).mean()


def focal_loss(scores: torch.Tensor, labels: torch.Tensor, gamma: float = FOCAL_GAMMA) -> torch.Tensor:
    """Mean over labelled pixels of -(1 - p_t)^gamma log p_t, p_t the probability of the true class."""
    if gamma < 0:
        raise ValueError(f"gamma must be 0 (cross-entropy) or more, got {gamma}")
    valid = _valid(scores, labels)
    log_p = F.log_softmax(scores, 1).gather(1, labels.where(valid, 0)[:, None])[:, 0]
    loss = -((1 - log_p.exp()) ** gamma) * log_p
    return loss[valid].mean() if valid.any() else scores.sum() * 0  # a batch of void only: nothing to learn
