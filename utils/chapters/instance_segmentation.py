"""Chapter 7's pictures and counts: detections matched to objects, merge and split failures, mask heads, the widget.

Used by ``lectures/07_instance_segmentation``; the methods are in ``utils/zoo/instances.py``.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from .. import viz
from ..data import CLASS_NAMES, Shapes
from ..metrics import class_matches, mask_average_precision, mask_iou
from ..zoo.instances import METHODS, detect_all

#: Test scenes the widget can show (128x128, like the FCN family's).
WIDGET_SCENES = 30
#: An object counts as merged (or split) when a detection covers this share of it.
COVER_SHARE = 0.5


def check_threshold(name: str, value: float) -> None:
    if not 0 <= value <= 1:
        raise ValueError(f"{name} must lie in [0, 1], got {value}")


def matches(prediction: dict, target: dict, iou_threshold: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Which detections are true positives (bool (D,)) and which objects were found (bool (G,)), class by class.

    ``metrics.class_matches``: the very matching mask AP counts, so the
    figure's green and red agree with the reported AP.
    """
    check_threshold("iou_threshold", iou_threshold)
    hit = np.zeros(len(prediction["labels"]), dtype=bool)
    found = np.zeros(len(target["labels"]), dtype=bool)
    for c in target["labels"].unique().tolist():
        detections, objects, matched = class_matches(prediction, target, c, (iou_threshold,))
        hit[detections.numpy()[matched[0] >= 0]] = True
        found[objects.numpy()[matched[0][matched[0] >= 0]]] = True
    return hit, found


def failures(prediction: dict, target: dict) -> dict[str, int]:
    """Objects ``merged`` with another of their class into one detection, and objects ``split`` over several.

    A detection *covers* an object when it holds at least COVER_SHARE of the
    object's pixels: merged objects share a covering detection; a split object
    has two or more detections of its class holding at least 1 - COVER_SHARE of it each.
    """
    merged, split = set(), 0
    for c in target["labels"].unique().tolist():
        gt, dt = target["masks"][target["labels"] == c], prediction["masks"][prediction["labels"] == c]
        if len(dt) == 0:
            continue
        share = (gt[:, None] & dt[None]).flatten(2).sum(2).double() / gt.flatten(1).sum(1, keepdim=True)
        for d in range(len(dt)):
            covered = torch.nonzero(share[:, d] >= COVER_SHARE).flatten().tolist()
            if len(covered) > 1:
                merged.update((c, g) for g in covered)
        split += int(((share >= 1 - COVER_SHARE).sum(1) >= 2).sum())
    return {"merged": len(merged), "split": split}


def draw_detections(ax: plt.Axes, image: torch.Tensor, prediction: dict, target: dict,
                    iou_threshold: float = 0.5) -> None:
    """Each detection's mask and box on ``image``: green if it matches an object, red if not; missed objects dashed."""
    hit, found = matches(prediction, target, iou_threshold)
    colours = np.array([[0.1, 0.8, 0.2] if h else [0.9, 0.1, 0.1] for h in hit]).reshape(-1, 3)
    picture = viz.image_to_rgb(image).copy()
    for mask, colour in zip(prediction["masks"].numpy(), colours):
        picture[mask] = 0.45 * picture[mask] + 0.55 * colour
    viz.show(ax, picture)
    for (x0, y0, x1, y1), label, score, colour in zip(prediction["boxes"].tolist(), prediction["labels"].tolist(),
                                                     prediction["scores"].tolist(), colours):
        ax.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, ec=colour, lw=1.2))
        ax.text(x0 - 0.5, y0 - 1.5, f"{CLASS_NAMES[label]} {score:.2f}", color=colour, fontsize=6, va="bottom")
    for (x0, y0, x1, y1), ok in zip(target["boxes"].tolist(), found):
        if not ok:
            ax.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, ec="white", lw=1.2, ls="--"))


#: Every method's detections on each widget scene met so far: the widget and its twin redraw often.
_DETECTIONS: dict[int, dict[str, dict]] = {}


def scene_detections(index: int) -> dict[str, dict]:
    """Every method's detections on widget scene ``index``, computed once (or taken from ``share_detections``)."""
    if index not in _DETECTIONS:
        _DETECTIONS[index] = detect_all(METHODS, Shapes("test", WIDGET_SCENES, image_size=128)[index][0])
    return _DETECTIONS[index]


def share_detections(predictions: dict[str, list[dict]], data: Shapes) -> None:
    """Hand the widget detections already computed by ``instances.predict_scenes(METHODS, data)``.

    ``data`` must be the widget's scenes (the 128x128 ``test`` split, seed 0);
    its first ``WIDGET_SCENES`` scenes are then never run through the methods again.
    """
    if (data.split, data.seed, data.image_size) != ("test", 0, 128) or set(predictions) != set(METHODS):
        raise ValueError("predictions must hold every method of METHODS on Shapes('test', N, image_size=128, seed=0)")
    for index in range(min(WIDGET_SCENES, len(data))):
        _DETECTIONS[index] = {method: predictions[method][index] for method in METHODS}


def above(prediction: dict, score_threshold: float) -> dict:
    """The detections scoring at least ``score_threshold``."""
    check_threshold("score_threshold", score_threshold)
    keep = prediction["scores"] >= score_threshold
    return {key: value[keep] for key, value in prediction.items()}


def draw_instances(index: int = 0, method: str = "hypercolumn", score_threshold: float = 0.5,
                   iou_threshold: float = 0.5) -> Figure:
    """Test scene ``index``: the truth, and ``method``'s detections above ``score_threshold`` matched at ``iou_threshold``."""
    if not 0 <= index < WIDGET_SCENES:
        raise ValueError(f"index must be a test scene in 0..{WIDGET_SCENES - 1}, got {index}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    check_threshold("iou_threshold", iou_threshold)
    image, target = Shapes("test", WIDGET_SCENES, image_size=128)[index]
    prediction = above(scene_detections(index)[method], score_threshold)
    ap = mask_average_precision([prediction], [target], (iou_threshold,))["ap"]
    fig, axes = plt.subplots(1, 2, figsize=(7.0, 3.8))
    viz.show(axes[0], viz.overlay_instances(image, target["masks"]), "truth")
    viz.draw_boxes(axes[0], target["boxes"], target["labels"])
    draw_detections(axes[1], image, prediction, target, iou_threshold)
    hit, found = matches(prediction, target, iou_threshold)
    axes[1].set_title(f"{method}: {hit.sum()} matched, {(~hit).sum()} false, {(~found).sum()} missed; "
                      f"AP@{iou_threshold:.2f} {ap:.2f}", fontsize=8)
    return fig


def draw_mask_heads(image: torch.Tensor, target: dict, predictions: dict[str, dict]) -> Figure:
    """One object: its true mask beside each method's mask for the detection that matches it best."""
    obj = int(target["masks"].flatten(1).sum(1).argmax())
    x0, y0, x1, y1 = (int(v) for v in target["boxes"][obj].tolist())
    pad = 4
    window = (slice(max(0, y0 - pad), y1 + pad), slice(max(0, x0 - pad), x1 + pad))
    panels = [("image", image[:, window[0], window[1]]), ("truth", target["masks"][obj][window].float())]
    for name, prediction in predictions.items():
        ious = mask_iou(prediction["masks"], target["masks"][obj:obj + 1])[:, 0]
        best = prediction["masks"][int(ious.argmax())] if len(ious) else torch.zeros_like(target["masks"][obj])
        iou = ious.max().item() if len(ious) else 0.0
        panels.append((f"{name}: IoU {iou:.2f}", best[window].float()))
    fig, axes = plt.subplots(1, len(panels), figsize=(2.0 * len(panels), 2.3))
    for ax, (title, picture) in zip(axes, panels):
        viz.show(ax, picture, title)
    return fig


def draw_proposals(image: torch.Tensor, target: dict, masks: torch.Tensor) -> Figure:
    """The image, and for each object the proposal (of ``masks`` (P, H, W)) that overlaps it best, with its IoU."""
    ious = mask_iou(target["masks"], masks)
    best = ious.argmax(1)
    fig, axes = plt.subplots(1, 1 + len(best), figsize=(2.3 * (1 + len(best)), 2.6))
    viz.show(axes[0], image, f"{len(masks)} proposals")
    for k, (ax, b) in enumerate(zip(axes[1:], best.tolist())):
        viz.show(ax, viz.overlay_instances(image, masks[b:b + 1]),
                 f"best for the {CLASS_NAMES[int(target['labels'][k])]}: IoU {ious[k, b]:.2f}")
    return fig
