"""Scoring chapter 8's classifiers of cluttered scenes: accuracy, where each one looked, and what it cost.

Per scene (``scene_results``): whether the class was right; for a pooled
classifier, where its pooled vector came from (``where``: attention weights,
the share of max-pooled channels, or uniform for average pooling) against
the target's mask: the *attention mass* inside it, the *pointing game* (does
the peak cell touch the target?) and the IoU of the above-uniform cells with
the mask; for a spatial transformer, its glimpse's IoU with the target's box.
Each measure comes with its chance level (the target's share of the image;
the share of cells that touch it). ``classification_metrics`` averages them
for ``python -m utils.evaluate`` and the manifest.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode
from torchvision.ops import box_iou

from ..data import Cluttered
from ..models import CLUTTERED_SIZE
from ..models.attention import GlimpseClassifier, PooledClassifier

#: Scenes scored at once.
CHUNK = 100


@torch.no_grad()
def attention_measures(weights: torch.Tensor, masks: torch.Tensor) -> dict[str, torch.Tensor]:
    """Where a (B, h, w) map of weights (summing to 1) lies against (B, H, W) target masks, per scene.

    ``mass``: the weight inside the mask (each cell's weight spread evenly over
    its pixels); ``pointing``: whether the heaviest cell touches the mask;
    ``attention_iou``: IoU of the above-uniform cells (as pixels) with the mask.
    Chance levels: ``cover`` (the mask's share of the image: the mass of
    uniform weights) and ``pointing_chance`` (the share of cells touching it).
    """
    grid = weights.shape[-2:]
    share = F.adaptive_avg_pool2d(masks[:, None].float(), grid)[:, 0]  # (B, h, w) share of each cell on target
    touches = share > 0
    peak = weights.flatten(1).argmax(1)
    above = F.interpolate((weights > 1 / grid.numel())[:, None].float(), size=masks.shape[-2:], mode="nearest")[:, 0] > 0
    inter, union = (above & masks).sum((1, 2)), (above | masks).sum((1, 2))
    return {"mass": (weights * share).sum((1, 2)), "pointing": touches.flatten(1)[torch.arange(len(peak)), peak],
            "attention_iou": inter / union.clamp(min=1), "cover": masks.float().mean((1, 2)),
            "pointing_chance": touches.float().mean((1, 2))}


@torch.no_grad()
def scene_results(model: nn.Module, split: str = "test", seed: int = 0, length: int = 1000,
                  image_size: int = CLUTTERED_SIZE) -> dict[str, torch.Tensor]:
    """Per-scene results of ``model`` (eval mode) on ``length`` cluttered scenes: each value is (length,) or (length, k).

    Always ``correct`` (bool), ``label`` and ``probabilities`` (length, classes);
    ``attention_measures`` for a ``PooledClassifier`` that pools by max or attention; ``box_iou`` (glimpse vs
    target box) and ``glimpse_side`` (the glimpse's side over the scene's) for a
    ``GlimpseClassifier``.
    """
    model.eval()
    data, parts = Cluttered(split, length, image_size=image_size, seed=seed), []
    for start in range(0, length, CHUNK):
        items = [data[i] for i in range(start, min(start + CHUNK, length))]
        images = torch.stack([image for image, _ in items])
        labels = torch.stack([t["label"] for _, t in items])
        probabilities = model(images).softmax(1)
        part = {"correct": probabilities.argmax(1) + 1 == labels, "label": labels, "probabilities": probabilities}
        # Only a pooling that chooses has a "where": average pooling's map is uniform (its mass is the cover), and
        # the glimpse and resized models pool a view, not the scene's grid.
        if type(model) is PooledClassifier and model.pool_name != "average":
            part.update(attention_measures(model.where(images), torch.stack([t["mask"] for _, t in items])))
        if isinstance(model, GlimpseClassifier):
            boxes = model.where(images)
            part["box_iou"] = box_iou(boxes, torch.stack([t["box"] for _, t in items])).diagonal()
            part["glimpse_side"] = (boxes[:, 2] - boxes[:, 0]) / image_size
        parts.append(part)
    return {key: torch.cat([part[key] for part in parts]) for key in parts[0]}


def multiply_adds(model: nn.Module, image_size: int = CLUTTERED_SIZE) -> int:
    """Multiply-adds of one forward pass on one ``image_size`` scene, counted by ``torch.utils.flop_counter``.

    Convolutions and matrix products only (a FLOP counter counts a multiply-add
    as two FLOPs); the sampler and the pooling are a rounding error beside them.
    """
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model.eval()(torch.zeros(1, 3, image_size, image_size))
    return counter.get_total_flops() // 2


def classification_metrics(model: nn.Module, split: str = "test", seed: int = 0, length: int = 1000,
                           image_size: int = CLUTTERED_SIZE) -> dict:
    """What ``python -m utils.evaluate`` reports for a chapter-8 classifier: every per-scene measure averaged, and its cost."""
    results = scene_results(model, split, seed, length, image_size)
    metrics = {"accuracy": results["correct"].float().mean().item()}
    for key in ("mass", "pointing", "attention_iou", "cover", "pointing_chance", "box_iou", "glimpse_side"):
        if key in results:
            metrics[key] = results[key].float().mean().item()
    return {**{key: round(value, 6) for key, value in metrics.items()},
            "multiply_adds": multiply_adds(model, image_size)}
