"""Chapter 7's pictures and counts: detections matched to objects, merges, error kinds, mask heads, the widget.

Detections are drawn as outlines on a grey copy of the scene (green: matched,
red: unmatched, white: an object nobody found), so no colour of a scene can
hide them. Used by ``lectures/07_instance_segmentation``; the methods are in
``utils/zoo/instances.py``.
"""

from __future__ import annotations

from collections.abc import Callable

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from scipy.ndimage import binary_fill_holes
from torchvision.models.detection.roi_heads import paste_masks_in_image
from torchvision.ops import roi_align, roi_pool

from .. import viz
from ..bootstrap import bootstrap, share_interval
from ..data import CLASS_NAMES, Shapes
from ..metrics import class_matches, mask_average_precision, mask_iou
from ..models.mask_heads import MASK_SIZE
from ..timing import best_seconds
from ..zoo.instances import METHODS, detect_all
from ..zoo.seeds import seed_differences

#: Test scenes the widget can show of each kind (128x128, like the FCN family's).
WIDGET_SCENES = 30
#: The two test sets: ordinary scenes, and crowded ones (touching objects of one class).
SCENE_KINDS = {"ordinary": 0.0, "crowded": 1.0}
#: Outline colours: a detection that matches an object, one that matches none, an object nobody found.
MATCHED, UNMATCHED, MISSED = (0.1, 0.85, 0.2), (1.0, 0.15, 0.15), (1.0, 1.0, 1.0)
#: Error kinds of a detection, after SDS's diagnosis: the IoU at which a detection counts as touching an object.
NEAR_IOU = 0.1
#: An object counts as merged (or split) when a detection covers this share of it.
COVER_SHARE = 0.5


def ap_seed_differences(better: str, worse: str, seed0: float, kind: str = "ordinary", key: str = "ap50",
                        fixed: float | None = None) -> tuple[float, ...]:
    """AP(``better``) - AP(``worse``) for every training seed, ``seed0`` (the chapter's own measurement) first.

    Methods are ``METHODS``; SDS's box- and region-only classifiers are read
    from ``sds``'s records (``ap50_box``, ``ap50_region``: AP50 only). ``kind``
    is one of ``SCENE_KINDS``, ``key`` one of ap50, ap75, ap. A ``worse``
    method that nothing trains (connected components read the shipped
    FCN-8s) scores ``fixed`` whatever the seed.
    """
    if kind not in SCENE_KINDS:
        raise ValueError(f"kind must be one of {tuple(SCENE_KINDS)}, got {kind!r}")
    suffix = "_crowded" if kind == "crowded" else ""

    def record(method: str) -> tuple[str, Callable[[dict], float]]:
        name, tag = ("sds", method.removeprefix("sds")) if method.startswith("sds") else (method, "")
        return name, lambda metrics: metrics[f"{key}{tag}{suffix}"]

    (ours, pick_ours), (theirs, pick_theirs) = record(better), record(worse if fixed is None else better)
    return seed_differences(ours, theirs, seed0, pick_ours,
                            pick_theirs if fixed is None else lambda metrics: fixed)


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


def test_scenes(kind: str, length: int = WIDGET_SCENES) -> Shapes:
    """The first ``length`` 128x128 test scenes of ``kind`` (one of ``SCENE_KINDS``)."""
    if kind not in SCENE_KINDS:
        raise ValueError(f"kind must be one of {tuple(SCENE_KINDS)}, got {kind!r}")
    return Shapes("test", length, image_size=128, crowded=SCENE_KINDS[kind])


def draw_detections(ax: plt.Axes, image: torch.Tensor, prediction: dict, target: dict,
                    iou_threshold: float = 0.5) -> None:
    """Each detection's outline and box on a grey ``image``: green if it matches an object, red if not; missed white."""
    hit, found = matches(prediction, target, iou_threshold)
    colours = [MATCHED if h else UNMATCHED for h in hit]
    picture = viz.draw_outlines(viz.greyscale(image), target["masks"][torch.from_numpy(~found)], [MISSED] * (~found).sum())
    viz.show(ax, viz.draw_outlines(picture, prediction["masks"], colours))
    for (x0, y0, x1, y1), label, score, colour in zip(prediction["boxes"].tolist(), prediction["labels"].tolist(),
                                                     prediction["scores"].tolist(), colours):
        ax.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, ec=colour, lw=0.8))
        ax.text(x0 - 0.5, y0 - 1.5, f"{CLASS_NAMES[label]} {score:.2f}", color=colour, fontsize=6, va="bottom")
    for (x0, y0, x1, y1), ok in zip(target["boxes"].tolist(), found):
        if not ok:
            ax.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, ec=MISSED, lw=1.0, ls="--"))


#: Every method's detections on each widget scene met so far, by (kind, index): the widget and its twin redraw often.
_DETECTIONS: dict[tuple[str, int], dict[str, dict]] = {}


def scene_detections(kind: str, index: int) -> dict[str, dict]:
    """Every method's detections on widget scene ``index`` of ``kind``, computed once (or from ``share_detections``)."""
    if (kind, index) not in _DETECTIONS:
        _DETECTIONS[kind, index] = detect_all(METHODS, test_scenes(kind)[index][0])
    return _DETECTIONS[kind, index]


def share_detections(predictions: dict[str, list[dict]], data: Shapes) -> None:
    """Hand the widget detections already computed by ``instances.predict_scenes(METHODS, data)``.

    ``data`` must be test scenes of one of ``SCENE_KINDS`` (128x128, seed 0);
    its first ``WIDGET_SCENES`` scenes are then never run through the methods again.
    """
    kinds = [kind for kind, share in SCENE_KINDS.items() if share == data.crowded]
    if (data.split, data.seed, data.image_size) != ("test", 0, 128) or not kinds or set(predictions) != set(METHODS):
        raise ValueError("predictions must hold every method of METHODS on test_scenes(kind, N)")
    for index in range(min(WIDGET_SCENES, len(data))):
        _DETECTIONS[kinds[0], index] = {method: predictions[method][index] for method in METHODS}


def above(prediction: dict, score_threshold: float) -> dict:
    """The detections scoring at least ``score_threshold``."""
    check_threshold("score_threshold", score_threshold)
    keep = prediction["scores"] >= score_threshold
    return {key: value[keep] for key, value in prediction.items()}


def draw_instances(index: int = 0, method: str = "hypercolumn", score_threshold: float = 0.5,
                   iou_threshold: float = 0.5, kind: str = "ordinary") -> Figure:
    """Test scene ``index`` of ``kind``: the truth, and ``method``'s detections above ``score_threshold``."""
    if not 0 <= index < WIDGET_SCENES:
        raise ValueError(f"index must be a test scene in 0..{WIDGET_SCENES - 1}, got {index}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    check_threshold("iou_threshold", iou_threshold)
    image, target = test_scenes(kind)[index]
    prediction = above(scene_detections(kind, index)[method], score_threshold)
    ap = mask_average_precision([prediction], [target], (iou_threshold,))["ap"]
    fig, axes = plt.subplots(1, 2, figsize=(7.0, 3.8))
    truth = viz.draw_outlines(viz.greyscale(image), target["masks"], viz.instance_colors(len(target["masks"])))
    viz.show(axes[0], truth, f"truth: {len(target['labels'])} objects\n({kind} scene {index})")
    viz.draw_boxes(axes[0], target["boxes"], target["labels"])
    draw_detections(axes[1], image, prediction, target, iou_threshold)
    hit, found = matches(prediction, target, iou_threshold)
    axes[1].set_title(f"{method}: AP@{iou_threshold:.2f} {ap:.2f}\n{hit.sum()} matched (green), {(~hit).sum()} "
                      f"false (red), {(~found).sum()} missed (white)", fontsize=8)
    return fig


def best_iou(prediction: dict, mask: torch.Tensor) -> tuple[float, torch.Tensor]:
    """The IoU of ``prediction``'s detection that best matches ``mask`` (H, W), and that detection's mask."""
    ious = mask_iou(prediction["masks"], mask[None])[:, 0]
    if len(ious) == 0:
        return 0.0, torch.zeros_like(mask)
    return ious.max().item(), prediction["masks"][int(ious.argmax())]


def largest_object(target: dict) -> int:
    """Index of the object of ``target`` with the most visible pixels."""
    return int(target["masks"].flatten(1).sum(1).argmax())


def most_changed_scene(before: list[dict], after: list[dict], targets: list[dict]) -> int:
    """The scene whose largest object's best-matching mask changes most in IoU from ``before`` to ``after``."""
    def change(i: int) -> float:
        mask = targets[i]["masks"][largest_object(targets[i])]
        return abs(best_iou(after[i], mask)[0] - best_iou(before[i], mask)[0])
    return max(range(len(targets)), key=change)


def draw_mask_heads(image: torch.Tensor, target: dict, predictions: dict[str, dict]) -> Figure:
    """The largest object: its true outline (white) and, per method, the best-matching detection's outline (green)."""
    obj = largest_object(target)
    x0, y0, x1, y1 = (int(v) for v in target["boxes"][obj].tolist())
    pad = 4
    window = (slice(max(0, y0 - pad), y1 + pad), slice(max(0, x0 - pad), x1 + pad))
    grey = viz.greyscale(image)[window]
    truth = target["masks"][obj][window]
    panels = [("image", image[:, window[0], window[1]]), ("truth", viz.draw_outlines(grey, truth[None], [MISSED]))]
    for name, prediction in predictions.items():
        iou, best = best_iou(prediction, target["masks"][obj])
        picture = viz.draw_outlines(grey, torch.stack([truth, best[window]]), [MISSED, MATCHED])
        panels.append((f"{name}: IoU {iou:.2f}", picture))
    fig, axes = plt.subplots(1, len(panels), figsize=(2.0 * len(panels), 2.3))
    for ax, (title, picture) in zip(axes, panels):
        viz.show(ax, picture, title)
    return fig


def draw_proposals(image: torch.Tensor, target: dict, masks: torch.Tensor) -> Figure:
    """The image, and for each object the proposal (of ``masks`` (P, H, W)) that overlaps it best (green, on the
    object's own outline in white), with its IoU."""
    ious = mask_iou(target["masks"], masks)
    best = ious.argmax(1)
    fig, axes = plt.subplots(1, 1 + len(best), figsize=(2.3 * (1 + len(best)), 2.6))
    viz.show(axes[0], image, f"{len(masks)} proposals")
    for k, (ax, b) in enumerate(zip(axes[1:], best.tolist())):
        picture = viz.draw_outlines(viz.greyscale(image), torch.stack([target["masks"][k], masks[b]]),
                                    [MISSED, MATCHED])
        viz.show(ax, picture, f"best for the {CLASS_NAMES[int(target['labels'][k])]}: IoU {ious[k, b]:.2f}")
    return fig


def merged_objects(prediction: dict, target: dict) -> torch.Tensor:
    """bool (G,): the objects that share one covering detection of their class with another object (a merge)."""
    merged = torch.zeros(len(target["labels"]), dtype=torch.bool)
    for c in target["labels"].unique().tolist():
        objects = torch.nonzero(target["labels"] == c).flatten()
        dt = prediction["masks"][prediction["labels"] == c]
        if len(dt) == 0:
            continue
        gt = target["masks"][objects]
        share = (gt[:, None] & dt[None]).flatten(2).sum(2).double() / gt.flatten(1).sum(1, keepdim=True)
        for d in range(len(dt)):
            covered = share[:, d] >= COVER_SHARE
            if covered.sum() > 1:
                merged[objects[covered]] = True
    return merged


def only_objects(prediction: dict, target: dict, keep: torch.Tensor) -> tuple[dict, dict]:
    """The scene scored on the objects ``keep`` (bool (G,)) alone: their targets, and the detections not matching
    another object at IoU 0.5 (those are neither right nor wrong about the kept objects: COCO's "ignore")."""
    others = ~keep
    drop = torch.zeros(len(prediction["labels"]), dtype=torch.bool)
    if others.any() and len(drop):
        ious = mask_iou(prediction["masks"], target["masks"][others])
        same = prediction["labels"][:, None] == target["labels"][others][None]
        drop = ((ious >= 0.5) & same).any(1)
    kept = {key: value[~drop] for key, value in prediction.items()}
    return kept, {key: target[key][keep] for key in ("masks", "labels", "boxes")}


def error_kinds(prediction: dict, target: dict, iou_threshold: float = 0.5) -> dict[str, int]:
    """Each detection's fate, after SDS's diagnosis: ``correct``, ``duplicate`` (a found object found again),
    ``mislocalised`` (right class, IoU below the threshold), ``confused`` (another class's object), ``background``."""
    hit, _ = matches(prediction, target, iou_threshold)
    kinds = {"correct": int(hit.sum()), "duplicate": 0, "mislocalised": 0, "confused": 0, "background": 0}
    ious = mask_iou(prediction["masks"], target["masks"]) if len(target["labels"]) else None
    for d in np.flatnonzero(~hit):
        if ious is None or ious[d].max() < NEAR_IOU:
            kinds["background"] += 1
            continue
        same = target["labels"] == prediction["labels"][d]
        if (ious[d][same] >= iou_threshold).any():
            kinds["duplicate"] += 1
        elif (ious[d][same] >= NEAR_IOU).any():
            kinds["mislocalised"] += 1
        else:
            kinds["confused"] += 1
    return kinds


def disks_in_ring_holes(prediction: dict, target: dict) -> int:
    """Detections labelled disk whose mask lies mostly (over half) in the hole of a true ring."""
    ring, disk = CLASS_NAMES.index("ring"), CLASS_NAMES.index("disk")
    holes = []
    for mask in target["masks"][target["labels"] == ring]:
        filled = torch.from_numpy(binary_fill_holes(mask.numpy()))
        holes.append(filled & ~mask)
    if not holes:
        return 0
    hole = torch.stack(holes).any(0)
    masks = prediction["masks"][prediction["labels"] == disk]
    inside = (masks & hole).flatten(1).sum(1).double() / masks.flatten(1).sum(1).clamp(min=1)
    return int((inside > 0.5).sum())


def box_fill_by_class(data: Shapes) -> dict[str, float]:
    """Per object class, the mean share of its box that its mask fills, over every object of ``data``."""
    shares: dict[int, list[float]] = {}
    for _, target in data:
        boxes = target["boxes"]
        areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        for label, mask, area in zip(target["labels"].tolist(), target["masks"], areas.tolist()):
            shares.setdefault(label, []).append(mask.sum().item() / area)
    return {CLASS_NAMES[c]: float(np.mean(v)) for c, v in sorted(shares.items())}


def pooled_mask_iou(mask: torch.Tensor, stride: int = 8) -> dict[str, float]:
    """A mask's IoU with itself after a trip through a stride-``stride`` map and RoIPool or RoIAlign in its box.

    The mask (H, W) is averaged down to the feature grid, pooled into a
    MASK_SIZE x MASK_SIZE grid for its box, pasted back and cut at 0.5:
    RoIPool rounds the box to the grid (up to half a cell, ``stride / 2``
    pixels, per side), RoIAlign samples it where it is.
    """
    features = torch.nn.functional.avg_pool2d(mask[None, None].float(), stride)
    box = boxes_of_mask(mask)
    size = tuple(mask.shape)
    results = {}
    for name, pool in (("RoIPool", roi_pool), ("RoIAlign", roi_align)):
        kwargs = {"sampling_ratio": 2, "aligned": True} if pool is roi_align else {}
        cells = pool(features, [box], MASK_SIZE, spatial_scale=1 / stride, **kwargs)
        pasted = paste_masks_in_image(cells, box, size, padding=1)[0, 0] > 0.5
        results[name] = mask_iou(pasted[None], mask[None])[0, 0].item()
    results["rounding_px"] = float((box[0] / stride - (box[0] / stride).round()).abs().max() * stride)
    return results


def boxes_of_mask(mask: torch.Tensor) -> torch.Tensor:
    """The (1, 4) xyxy box of one mask, in pixel edges."""
    ys, xs = torch.nonzero(mask, as_tuple=True)
    return torch.tensor([[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]], dtype=torch.float32)


def scene_seconds(methods: tuple[str, ...], images: list[torch.Tensor], repeats: int = 2) -> dict[str, np.ndarray]:
    """Seconds per image of each method on each image: the fastest of ``repeats`` interleaved runs (``best_seconds``)."""
    times = {method: [] for method in methods}
    for image in images:
        best = best_seconds({method: (lambda method=method: detect_all((method,), image)) for method in methods}, repeats)
        for method in methods:
            times[method].append(best[method])
    return {method: np.array(values) for method, values in times.items()}


def speedup_interval(slow: np.ndarray, fast: np.ndarray) -> tuple[float, float, float]:
    """(ratio, low, high): mean time of ``slow`` over mean time of ``fast`` (per-image arrays), scenes resampled."""
    slow_t, fast_t = torch.from_numpy(slow), torch.from_numpy(fast)
    return bootstrap(lambda rows: (slow_t[rows].mean() / fast_t[rows].mean()).item(), len(slow))


def draw_recall(recall: dict[tuple[str, str], tuple[float, torch.Tensor]]) -> Figure:
    """One row per proposal setting and kind of scene: the share of objects some proposal overlaps at IoU 0.5 and 0.7.

    ``recall[(kind, setting)]`` is (mean proposals per image, best overlap of
    each object (N,)). Rows, not a curve: the settings are not points of one
    continuum. Intervals are Wilson's (``share_interval``).
    """
    fig, ax = plt.subplots(figsize=(7.0, 0.6 * len(recall) + 1.0))
    labels = []
    for row, ((kind, setting), (count, best)) in enumerate(recall.items()):
        for threshold, marker, shift in ((0.5, "o", -0.12), (0.7, "s", 0.12)):
            value, low, high = share_interval(best >= threshold)
            ax.errorbar(value, row + shift, xerr=[[value - low], [high - value]], fmt=marker, capsize=3,
                        color="C0" if threshold == 0.5 else "C1", label=f"IoU >= {threshold}" if row == 0 else None)
        labels.append(f"{setting} ({kind})\n{count:.0f} proposals per image, {len(best)} objects")
    ax.set_yticks(range(len(labels)), labels)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.02)
    ax.set_xlabel("share of objects with a proposal at IoU >= t (95% interval)")
    ax.legend(fontsize=8, loc="lower left")
    return fig
