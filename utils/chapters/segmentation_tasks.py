"""The three tasks on one scene, and predictions made worse on purpose to see how each metric reacts.

Chapter 1 (``lectures/01_segmentation_tasks``): ``class_presence`` is the
classification target, ``touching_same_class`` finds scenes where semantic
segmentation cannot count objects, ``degrade`` turns ground truth into a
controlled bad prediction, and ``draw_tasks`` / ``draw_degraded`` are the
chapter's figures.
"""

from __future__ import annotations

import numpy as np
import torch
from matplotlib.figure import Figure
from scipy import ndimage as ndi

from .. import viz
from ..data import CLASS_NAMES, NUM_CLASSES, Shapes
from ..metrics import mask_average_precision, mean_iou, pixel_accuracy


def class_presence(target: dict) -> torch.Tensor:
    """Classification target: which object classes occur, bool (NUM_CLASSES,) (background excluded)."""
    present = torch.zeros(NUM_CLASSES, dtype=torch.bool)
    present[target["labels"]] = True
    return present


def touching_same_class(target: dict) -> bool:
    """True if two objects of the same class touch, so the semantic map merges them into one region."""
    masks, labels = target["masks"].numpy(), target["labels"].tolist()
    for a in range(len(labels)):
        grown = ndi.binary_dilation(masks[a])
        if any(labels[b] == labels[a] and (grown & masks[b]).any() for b in range(a + 1, len(labels))):
            return True
    return False


def find_scene(data: Shapes, predicate, start: int = 0) -> int:
    """Index of the first scene from ``start`` whose target satisfies ``predicate``."""
    for index in range(start, len(data)):
        if predicate(data[index][1]):
            return index
    raise ValueError(f"no scene in {data.split}[{start}:{len(data)}] satisfies {predicate.__name__}")


def _move(masks: np.ndarray, grow: int, shift: int) -> np.ndarray:
    """Dilate (grow > 0) or erode (grow < 0) each mask by |grow| pixels, then shift it right and down."""
    out = []
    for mask in masks:
        if grow:
            op = ndi.binary_dilation if grow > 0 else ndi.binary_erosion
            mask = op(mask, iterations=abs(grow))
        if shift:
            mask = np.pad(mask, ((shift, 0), (shift, 0)))[: mask.shape[0], : mask.shape[1]]
        out.append(mask)
    return np.stack(out) if out else masks


def degrade(target: dict, grow: int = 0, shift: int = 0, flip: float = 0.0, merge: bool = False,
            drop_class: int = 0, seed: int = 0) -> dict:
    """A prediction made from ground truth, worse in controlled ways.

    ``grow`` dilates (>0) or erodes (<0) every object by that many pixels,
    ``shift`` moves them right and down, ``merge`` fuses the two largest
    objects into one instance, ``drop_class`` (1..C-1; 0 = none) predicts
    background for that class, and ``flip`` gives that fraction of pixels a
    random label in the semantic map. Returns ``semantic`` (H,W), and
    ``masks`` (N,H,W), ``labels`` (N,), ``scores`` (N,) for mask AP.
    """
    if not 0.0 <= flip <= 1.0:
        raise ValueError(f"flip must be a fraction in [0, 1], got {flip}")
    if not 0 <= drop_class < NUM_CLASSES:
        raise ValueError(f"drop_class must be 0 (none) or a class in 1..{NUM_CLASSES - 1}, got {drop_class}")
    if shift < 0:
        raise ValueError(f"shift must be a non-negative number of pixels, got {shift}")
    keep = target["labels"] != drop_class
    masks, labels = _move(target["masks"][keep].numpy(), grow, shift), target["labels"][keep].clone()
    if merge and len(masks) >= 2:
        a, b = np.argsort(-masks.sum((1, 2)))[:2]
        masks[a] |= masks[b]
        masks, labels = np.delete(masks, b, 0), torch.cat([labels[:b], labels[b + 1:]])
    semantic = np.zeros(target["semantic"].shape, dtype=np.int64)
    for mask, label in zip(masks, labels.tolist()):
        semantic[mask] = label
    rng = np.random.default_rng(seed)
    noisy = rng.random(semantic.shape) < flip
    semantic[noisy] = rng.integers(0, NUM_CLASSES, int(noisy.sum()))
    masks = torch.from_numpy(masks).bool()
    return {"semantic": torch.from_numpy(semantic), "masks": masks, "labels": labels,
            "scores": torch.linspace(1.0, 0.5, len(labels)) if len(labels) else torch.zeros(0)}


def score(prediction: dict, target: dict) -> dict[str, float]:
    """Pixel accuracy and mIoU of the semantic map, mask AP50 / AP75 of the instances, for one scene."""
    ap = mask_average_precision([prediction], [target], (0.5, 0.75))
    return {"pixel accuracy": pixel_accuracy(prediction["semantic"], target["semantic"]),
            "mIoU": mean_iou(prediction["semantic"], target["semantic"], NUM_CLASSES),
            "mask AP50": ap["ap50"], "mask AP75": ap["ap75"]}


def mean_scores(length: int = 64, **degradation) -> dict[str, float]:
    """``score`` averaged over the first ``length`` validation scenes, each degraded the same way."""
    data = Shapes("val", length)
    rows = [score(degrade(target, seed=i, **degradation), target) for i, (_, target) in enumerate(data)]
    return {name: float(np.mean([r[name] for r in rows])) for name in rows[0]}


def degraded_labels(length: int = 64, flip: float = 0.1, shift: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Label maps (length, H, W) of the first ``length`` validation scenes, degraded, and their ground truth."""
    data = Shapes("val", length)
    targets = [data[i][1] for i in range(length)]
    predictions = [degrade(t, shift=shift, flip=flip, seed=i)["semantic"] for i, t in enumerate(targets)]
    return torch.stack(predictions), torch.stack([t["semantic"] for t in targets])


def quiet_miss(data: Shapes) -> tuple[int, int]:
    """(scene, class) where missing one class costs pixel accuracy least relative to mIoU.

    Over the scenes of ``data``, drop each scene's least-covered class and
    keep the case with the largest gap between pixel accuracy and mIoU: the
    metrics' disagreement at its clearest.
    """
    best, best_gap = (0, 0), -1.0
    for index, (_, target) in enumerate(data):
        areas = target["masks"].flatten(1).sum(1)
        cls = int(target["labels"][areas.argmin()])
        scores = score(degrade(target, drop_class=cls), target)
        gap = scores["pixel accuracy"] - scores["mIoU"]
        if gap > best_gap:
            best, best_gap = (index, cls), gap
    return best


def instance_outlines(image: torch.Tensor, masks: torch.Tensor) -> np.ndarray:
    """Each mask of ``masks`` (N,H,W) outlined in its own colour on ``image`` (3,H,W) dimmed to grey; (H,W,3).

    Outlines rather than filled masks keep the scene inside each object visible;
    the grey keeps an outline from vanishing on an object of its own hue. The
    colours are ``viz.draw_boxes``'s, so an outline and its box match.
    """
    return viz.draw_outlines(viz.greyscale(image), masks, viz.instance_colors(len(masks)))


def draw_tasks(image: torch.Tensor, target: dict, title: str = "") -> Figure:
    """The scene as classification (class list), semantic segmentation and instance segmentation."""
    present = [CLASS_NAMES[c] for c in torch.nonzero(class_presence(target)).flatten().tolist()]
    fig = viz.grid([[image, target["semantic"], instance_outlines(image, target["masks"])]],
                   titles=["classification:\n" + ", ".join(present), "semantic segmentation:\none class per pixel",
                           "instance segmentation:\none mask per object"], cell=2.6)
    viz.draw_boxes(fig.axes[2], target["boxes"], target["labels"])
    if title:
        fig.suptitle(title)
    return fig


def draw_degraded(index: int = 0, grow: int = 0, shift: int = 0, flip: float = 0.0, merge: bool = False,
                  drop_class: int = 0, data: Shapes | None = None) -> Figure:
    """Ground truth, the degraded semantic map and degraded instances of scene ``index``, with their scores."""
    data = data if data is not None else Shapes("val", 64)
    image, target = data[index]
    prediction = degrade(target, grow, shift, flip, merge, drop_class, seed=index)
    metrics = score(prediction, target)
    fig = viz.grid([[image, target["semantic"], prediction["semantic"],
                     instance_outlines(image, prediction["masks"])]],
                   titles=["image", "ground truth", "prediction (semantic)", "prediction (instances)"], cell=2.3)
    fig.suptitle("   ".join(f"{name} {value:.3f}" for name, value in metrics.items()))
    return fig
