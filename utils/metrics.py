"""Segmentation metrics: pixel accuracy, confusion matrix, IoU, mIoU, mask IoU and mask AP.

Taught in ``lectures/01_segmentation_tasks``; the chapter writes short versions
out for the reader and a test checks them against these. These in turn are
checked against torchmetrics and pycocotools in ``tests/test_metrics.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

#: COCO's IoU thresholds for AP@[.5:.95].
COCO_IOU_THRESHOLDS: tuple[float, ...] = tuple(np.round(np.linspace(0.5, 0.95, 10), 2).tolist())
_RECALL_POINTS = np.linspace(0.0, 1.0, 101)


def _check_label_maps(pred: torch.Tensor, target: torch.Tensor) -> None:
    if pred.shape != target.shape:
        raise ValueError(f"pred and target must have the same shape, got {tuple(pred.shape)} and {tuple(target.shape)}")


def confusion_matrix(
    pred: torch.Tensor, target: torch.Tensor, num_classes: int, ignore_index: int | None = None
) -> torch.Tensor:
    """Counts of (true class, predicted class) pairs: int64 (num_classes, num_classes).

    ``pred`` and ``target`` are integer label maps of the same shape (any,
    e.g. (H,W) or (B,H,W)). Rows are the target class, columns the prediction.
    Pixels whose target equals ``ignore_index`` are left out.
    """
    _check_label_maps(pred, target)
    pred, target = torch.as_tensor(pred).reshape(-1).long(), torch.as_tensor(target).reshape(-1).long()
    if ignore_index is not None:
        keep = target != ignore_index
        pred, target = pred[keep], target[keep]
    for name, labels in (("pred", pred), ("target", target)):
        if labels.numel() and (labels.min() < 0 or labels.max() >= num_classes):
            raise ValueError(f"{name} labels must lie in 0..{num_classes - 1} (num_classes={num_classes})")
    counts = torch.bincount(target * num_classes + pred, minlength=num_classes**2)
    return counts.reshape(num_classes, num_classes)


def pixel_accuracy(pred: torch.Tensor, target: torch.Tensor, ignore_index: int | None = None) -> float:
    """Fraction of pixels whose predicted label equals the target label."""
    _check_label_maps(pred, target)
    keep = torch.ones_like(target, dtype=torch.bool) if ignore_index is None else target != ignore_index
    if not keep.any():
        raise ValueError("target has no pixel to score (all are ignore_index)")
    return (pred[keep] == target[keep]).double().mean().item()


def iou_from_confusion(confusion: torch.Tensor) -> torch.Tensor:
    """Per-class IoU = TP / (TP + FP + FN) from a confusion matrix: float64 (C,).

    A class absent from both target and prediction has no IoU: NaN.
    """
    confusion = confusion.double()
    tp = confusion.diag()
    union = confusion.sum(0) + confusion.sum(1) - tp
    return torch.where(union > 0, tp / union.clamp(min=1), torch.full_like(tp, float("nan")))


def iou_per_class(
    pred: torch.Tensor, target: torch.Tensor, num_classes: int, ignore_index: int | None = None
) -> torch.Tensor:
    """IoU of every class over all pixels of ``pred`` / ``target``: float64 (num_classes,), NaN where undefined."""
    return iou_from_confusion(confusion_matrix(pred, target, num_classes, ignore_index))


def mean_iou(pred: torch.Tensor, target: torch.Tensor, num_classes: int, ignore_index: int | None = None) -> float:
    """Mean IoU over the classes that appear in target or prediction."""
    return iou_per_class(pred, target, num_classes, ignore_index).nanmean().item()


def boundary_band(target: torch.Tensor, width: int) -> torch.Tensor:
    """Pixels within ``width`` pixels (chessboard distance) of a label change in ``target`` (..., H, W): bool.

    Scoring only these pixels (a "trimap" evaluation) measures how well a
    model places edges and thin parts, which whole-image mIoU dilutes.
    """
    if width < 0:
        raise ValueError(f"width must be a non-negative number of pixels, got {width}")
    labels = target.reshape(-1, 1, *target.shape[-2:]).double()
    # A pixel is on an edge if its 3x3 neighbourhood holds another label: max and min of the labels differ.
    high = torch.nn.functional.max_pool2d(labels, 3, 1, 1)
    low = -torch.nn.functional.max_pool2d(-labels, 3, 1, 1)
    edges = (high != low).double()
    band = torch.nn.functional.max_pool2d(edges, 2 * width + 1, 1, width) if width else edges
    return band.bool().reshape(target.shape)


def object_recall(pred: torch.Tensor, masks: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Fraction of each object's pixels that ``pred`` (H,W) gives its class: float64 (N,).

    ``masks`` bool (N,H,W) and ``labels`` (N,) are one scene's instance targets.
    Where a per-class IoU pools every object of a class, this scores objects one
    by one, so results can be broken down by object size.
    """
    if masks.shape[1:] != pred.shape:
        raise ValueError(f"masks must be (N,H,W) over pred's {tuple(pred.shape)}, got {tuple(masks.shape)}")
    hits = (pred[None] == labels[:, None, None]) & masks
    return hits.flatten(1).sum(1).double() / masks.flatten(1).sum(1).clamp(min=1)


def mean_by_bin(values: torch.Tensor, keys: torch.Tensor, edges: Sequence[float]) -> list[float]:
    """Mean of ``values`` (N,) within each bin of ``keys`` (N,) cut at ``edges`` (NaN for an empty bin).

    ``edges`` e0 < e1 < ... give the bins [e0, e1), [e1, e2), ...
    """
    if list(edges) != sorted(edges) or len(edges) < 2:
        raise ValueError(f"edges must be at least two increasing values, got {edges}")
    means = []
    for low, high in zip(edges[:-1], edges[1:]):
        inside = (keys >= low) & (keys < high)
        means.append(values[inside].double().mean().item() if inside.any() else float("nan"))
    return means


def object_sizes_and_recall(labels: torch.Tensor, targets: Sequence[dict]) -> tuple[torch.Tensor, torch.Tensor]:
    """Every object's size (the square root of its area, pixels) and ``object_recall``: two float64 (N_objects,).

    ``labels`` (N, H, W) label maps, one target dict per scene.
    """
    if len(labels) != len(targets):
        raise ValueError(f"labels and targets must cover the same scenes, got {len(labels)} and {len(targets)}")
    sizes = torch.cat([t["masks"].flatten(1).sum(1).double().sqrt() for t in targets])
    recall = torch.cat([object_recall(pred, t["masks"], t["labels"]) for pred, t in zip(labels, targets)])
    return sizes, recall


def recall_by_size(labels: torch.Tensor, targets: Sequence[dict], edges: Sequence[float]) -> list[float]:
    """Mean ``object_recall`` of the objects in each size bin: label maps (N, H, W), one target dict per scene.

    An object's size is the square root of its area in pixels (its side, were
    it a square), binned at ``edges`` as in ``mean_by_bin``. Chapters 3 and 5
    use it to ask which objects a change of architecture rescues.
    """
    sizes, recall = object_sizes_and_recall(labels, targets)
    return mean_by_bin(recall, sizes, edges)


def mask_iou(masks_a: torch.Tensor, masks_b: torch.Tensor) -> torch.Tensor:
    """Pairwise IoU of boolean masks: (N,H,W) x (M,H,W) -> float64 (N,M); two empty masks give 0."""
    if masks_a.shape[1:] != masks_b.shape[1:]:
        raise ValueError(f"masks must share their (H,W), got {tuple(masks_a.shape)} and {tuple(masks_b.shape)}")
    a = masks_a.reshape(masks_a.shape[0], -1).double()
    b = masks_b.reshape(masks_b.shape[0], -1).double()
    intersection = a @ b.T
    union = a.sum(1)[:, None] + b.sum(1)[None, :] - intersection
    return intersection / union.clamp(min=1)


def match_detections(ious: np.ndarray, threshold: float) -> np.ndarray:
    """Greedy COCO matching of score-sorted detections to ground truth.

    ``ious`` (D,G) between detections (sorted by falling score) and ground
    truths of one image and class. Each detection in turn takes the unmatched
    ground truth it overlaps most, if that IoU is at least ``threshold``.
    Returns the matched ground-truth index per detection, -1 for none: int (D,).
    """
    matched = np.full(ious.shape[0], -1)
    taken = np.zeros(ious.shape[1], dtype=bool)
    for d in range(ious.shape[0]):
        candidates = np.where(taken, -1.0, ious[d])
        if candidates.size and candidates.max() >= threshold:
            g = int(candidates.argmax())
            matched[d], taken[g] = g, True
    return matched


def interpolated_ap(is_tp: np.ndarray, num_gt: int) -> float:
    """COCO's 101-point interpolated AP from score-sorted true-positive flags (D,) and the number of objects."""
    if is_tp.size == 0:
        return 0.0
    tp, fp = np.cumsum(is_tp), np.cumsum(~is_tp)
    recall = tp / num_gt
    precision = tp / np.maximum(tp + fp, np.finfo(np.float64).eps)
    precision = np.maximum.accumulate(precision[::-1])[::-1]  # the envelope: best precision at >= this recall
    idx = np.searchsorted(recall, _RECALL_POINTS, side="left")
    return float(np.where(idx < len(precision), precision[np.minimum(idx, len(precision) - 1)], 0.0).mean())


def class_matches(prediction: dict, target: dict, cls: int,
                  thresholds: Sequence[float]) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    """Class ``cls`` of one image: its detections best score first, its objects, and COCO's greedy matching.

    Returns ``(detections (D,), objects (G,), matched (T, D))``: indices into
    ``prediction`` and ``target``, and per IoU ``thresholds[t]`` the object each
    detection matched (an index into ``objects``, -1 for none). The one
    matching behind mask AP (``scene_matches``) and chapter 7's green and red boxes.
    """
    objects = torch.nonzero(target["labels"] == cls).flatten()
    detections = torch.nonzero(prediction["labels"] == cls).flatten()
    detections = detections[torch.argsort(prediction["scores"][detections], descending=True, stable=True)]
    dt, gt = prediction["masks"][detections], target["masks"][objects]
    ious = mask_iou(dt, gt).numpy() if len(dt) and len(gt) else np.zeros((len(dt), len(gt)))
    matched = np.stack([match_detections(ious, t) for t in thresholds]).reshape(len(thresholds), len(dt))
    return detections, objects, matched


def scene_matches(prediction: dict, target: dict, thresholds: Sequence[float]) -> dict[int, tuple]:
    """One image's matching, class by class: ``{class: (scores (D,), flags (T, D) bool, number of objects)}``.

    Detections sorted by falling score; ``flags[t]`` marks those that match an
    object at IoU ``thresholds[t]``. COCO matches within an image only, so
    these records can be pooled over any set of images (a bootstrap resample).
    """
    records = {}
    for cls in sorted({int(c) for c in target["labels"]} | {int(c) for c in prediction["labels"]}):
        detections, objects, matched = class_matches(prediction, target, cls, thresholds)
        records[cls] = (prediction["scores"][detections].double().numpy(), matched >= 0, len(objects))
    return records


def ap_from_matches(matches: Sequence[dict[int, tuple]], num_thresholds: int) -> np.ndarray:
    """AP per IoU threshold (T,), averaged over the classes that have objects, from pooled ``scene_matches``."""
    classes = sorted({c for m in matches for c, (_, _, n) in m.items() if n})
    table = []
    for cls in classes:
        found = [m[cls] for m in matches if cls in m]
        scores = np.concatenate([f[0] for f in found])
        flags = np.concatenate([f[1] for f in found], axis=1)
        order = np.argsort(-scores, kind="mergesort")
        table.append([interpolated_ap(row[order], sum(f[2] for f in found)) for row in flags])
    return np.array(table).mean(0) if table else np.full(num_thresholds, np.nan)


def mask_average_precision(
    predictions: Sequence[dict], targets: Sequence[dict], iou_thresholds: Sequence[float] = COCO_IOU_THRESHOLDS
) -> dict[str, float]:
    """COCO-style mask AP over a set of images.

    ``predictions[i]``: ``masks`` bool (N,H,W), ``labels`` int64 (N,), ``scores``
    float (N,); ``targets[i]``: ``masks`` bool (M,H,W), ``labels`` int64 (M,)
    (torchvision conventions). AP is averaged over classes with ground truth.
    Returns ``ap`` (mean over ``iou_thresholds``) and ``ap50`` / ``ap75`` when
    those thresholds are included. Unlike COCO there is no area range and no
    cap of 100 detections per image (the course's scenes hold at most 4 objects).
    """
    if len(predictions) != len(targets):
        raise ValueError(f"predictions and targets must be lists of the same length, got {len(predictions)} and {len(targets)}")
    if not iou_thresholds or not all(0.0 < t <= 1.0 for t in iou_thresholds):
        raise ValueError(f"iou_thresholds must be a non-empty list of values in (0, 1], got {iou_thresholds}")
    matches = [scene_matches(p, t, iou_thresholds) for p, t in zip(predictions, targets)]
    per_threshold = ap_from_matches(matches, len(iou_thresholds))
    result = {"ap": float(np.mean(per_threshold))}
    for name, t in (("ap50", 0.5), ("ap75", 0.75)):
        if t in iou_thresholds:
            result[name] = float(per_threshold[list(iou_thresholds).index(t)])
    return result
