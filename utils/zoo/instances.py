"""Chapter 7's instance methods, one interface: ``detect(method, image) -> prediction``.

A prediction is torchvision's detection output for one image: ``masks`` bool
(N, H, W), ``labels`` int64 (N,), ``scores`` float (N,), ``boxes`` float (N, 4)
xyxy. The methods: connected components of FCN-8s's label map; SDS (proposals
classified from box, region or both features of warped crops); CFM (the same
proposals classified from features pooled out of one full-image feature
map); SDS followed by the ``last_layer`` or ``hypercolumn`` mask head; and the
small Mask R-CNN.
``instance_metrics`` scores any of them with ``utils.metrics``' mask AP.
Taught in ``lectures/07_instance_segmentation``.
"""

from __future__ import annotations

import numpy as np
import torch
from skimage.measure import label as connected_regions
from torch import nn
from torch.utils.data import DataLoader, Dataset
from torchvision.models.detection.roi_heads import paste_masks_in_image

from ..book_build import progress
from ..data import Shapes
from ..metrics import mask_average_precision, mask_iou
from ..proposals import boxes_of, check_image, proposals
from . import checkpoints

#: Every instance method, in the order the chapter builds them.
METHODS = ("connected_components", "sds_box", "sds_region", "sds", "cfm", "last_layer", "hypercolumn", "maskrcnn")
#: The SDS variants and the classifier each uses.
SDS_MODES = {"sds_box": "box", "sds_region": "region", "sds": "both"}
#: Two SDS detections of one class overlapping more than this (mask IoU) are one object: keep the better.
NMS_IOU = 0.3
#: At most this many detections per image (our scenes hold at most four objects).
MAX_DETECTIONS = 20


def empty_prediction(height: int, width: int) -> dict[str, torch.Tensor]:
    return {"masks": torch.zeros(0, height, width, dtype=torch.bool), "labels": torch.zeros(0, dtype=torch.int64),
            "scores": torch.zeros(0), "boxes": torch.zeros(0, 4)}


def mask_nms(masks: torch.Tensor, scores: torch.Tensor, threshold: float = NMS_IOU) -> torch.Tensor:
    """Indices of the masks (N, H, W) kept by greedy non-maximum suppression on mask IoU, best score first."""
    if not 0 <= threshold <= 1:
        raise ValueError(f"threshold must lie in [0, 1], got {threshold}")
    order = torch.argsort(scores, descending=True, stable=True)
    ious = mask_iou(masks[order], masks[order])
    keep: list[int] = []
    for i in range(len(order)):
        if all(ious[i, j] <= threshold for j in keep):
            keep.append(i)
    return order[keep]


def as_prediction(masks: torch.Tensor, labels: torch.Tensor, scores: torch.Tensor) -> dict[str, torch.Tensor]:
    """Class-wise mask NMS, the best MAX_DETECTIONS, and their boxes: a prediction dict."""
    keep = torch.cat([torch.zeros(0, dtype=torch.int64)] + [
        torch.nonzero(labels == c).flatten()[mask_nms(masks[labels == c], scores[labels == c])]
        for c in labels.unique()])
    keep = keep[torch.argsort(scores[keep], descending=True, stable=True)][:MAX_DETECTIONS]
    if len(keep) == 0:
        return empty_prediction(*masks.shape[-2:])
    return {"masks": masks[keep], "labels": labels[keep], "scores": scores[keep], "boxes": boxes_of(masks[keep])}


def model_for(name: str, models: dict[str, nn.Module] | None) -> nn.Module:
    """``models[name]`` if given (a model being trained), else the shipped ``name``."""
    return models[name] if models and name in models else checkpoints.load_shared(name)


@torch.no_grad()
def connected_components(image: torch.Tensor, models: dict | None = None) -> dict[str, torch.Tensor]:
    """Every 4-connected region of one class in FCN-8s's label map is an object; its score the mean probability."""
    probabilities = model_for("fcn8s", models)(image[None])[0].softmax(0)
    labels = probabilities.argmax(0).numpy()
    masks, classes, scores = [], [], []
    for c in np.unique(labels[labels > 0]):
        regions = connected_regions(labels == c, connectivity=1)
        for r in range(1, regions.max() + 1):
            mask = torch.from_numpy(regions == r)
            masks.append(mask)
            classes.append(int(c))
            scores.append(probabilities[c][mask].mean().item())
    if not masks:
        return empty_prediction(*image.shape[-2:])
    masks = torch.stack(masks)
    return {"masks": masks, "labels": torch.tensor(classes), "scores": torch.tensor(scores), "boxes": boxes_of(masks)}


def classified(masks: torch.Tensor, scores: torch.Tensor) -> dict[str, torch.Tensor]:
    """Each proposal keeps its best object class and that class's probability; class-wise mask NMS prunes duplicates."""
    best, labels = scores.softmax(1)[:, 1:].max(1)
    return as_prediction(masks, labels + 1, best)


@torch.no_grad()
def sds_modes(image: torch.Tensor, masks: torch.Tensor, models: dict | None = None) -> dict[str, dict[str, torch.Tensor]]:
    """SDS on ``image`` (3, H, W) and its proposals ``masks`` with each classifier: ``sds_box``, ``sds_region``, ``sds``.

    The crops' features are computed once for the three classifiers.
    """
    if len(masks) == 0:
        return {name: empty_prediction(*image.shape[-2:]) for name in SDS_MODES}
    net = model_for("sds", models)
    scores = net(net.features(image, masks, boxes_of(masks)))
    return {name: classified(masks, scores[mode]) for name, mode in SDS_MODES.items()}


@torch.no_grad()
def cfm(image: torch.Tensor, masks: torch.Tensor, models: dict | None = None) -> dict[str, torch.Tensor]:
    """CFM on ``image`` and its proposals: box and region features pooled from one full-image map, both read."""
    if len(masks) == 0:
        return empty_prediction(*image.shape[-2:])
    net = model_for("cfm", models)
    return classified(masks, net(net.features(image, masks, boxes_of(masks)))["both"])


@torch.no_grad()
def refine(image: torch.Tensor, detections: dict[str, torch.Tensor], head: str,
           models: dict | None = None) -> dict[str, torch.Tensor]:
    """The same detections with each mask predicted anew in its box by mask head ``head`` (``last_layer`` or
    ``hypercolumn``), which reads the detection's own (proposal) mask beside the trunk's features."""
    if head not in ("last_layer", "hypercolumn"):
        raise ValueError(f"head must be 'last_layer' or 'hypercolumn', got {head!r}")
    if len(detections["labels"]) == 0:
        return detections
    net = model_for(head, models)
    logits = net(net.trunk(image[None]), [detections["boxes"]], [detections["masks"].float()], image.shape[-1])
    own = logits[torch.arange(len(logits)), detections["labels"] - 1].sigmoid()[:, None]
    masks = paste_masks_in_image(own, detections["boxes"], tuple(image.shape[-2:]), padding=1)[:, 0] > 0.5
    return {**detections, "masks": masks}


@torch.no_grad()
def maskrcnn(image: torch.Tensor, score_threshold: float = 0.05, models: dict | None = None) -> dict[str, torch.Tensor]:
    """The small Mask R-CNN's detections on ``image`` (3, H, W), masks cut at probability 0.5."""
    check_image(image)
    if not 0 <= score_threshold <= 1:
        raise ValueError(f"score_threshold must lie in [0, 1], got {score_threshold}")
    output = model_for("maskrcnn", models)([image])[0]
    keep = output["scores"] >= score_threshold
    return {"masks": output["masks"][keep, 0] > 0.5, "labels": output["labels"][keep],
            "scores": output["scores"][keep], "boxes": output["boxes"][keep]}


def models_read(methods: tuple[str, ...]) -> list[str]:
    """The zoo models ``detect_all(methods, ...)`` runs: the mask heads refine SDS, connected components read FCN-8s."""
    reads = {"connected_components": ("fcn8s",), "last_layer": ("sds", "last_layer"),
             "hypercolumn": ("sds", "hypercolumn"), "cfm": ("cfm",), "maskrcnn": ("maskrcnn",)}
    return sorted({name for method in methods for name in reads.get(method, ("sds",))})


def detect_all(methods: tuple[str, ...], image: torch.Tensor, models: dict | None = None) -> dict[str, dict]:
    """Every method of ``methods`` (from ``METHODS``) on ``image`` (3, H, W), sharing the work they share.

    The SDS variants share one set of proposals and crop features; the mask
    heads refine SDS's detections. ``models`` maps zoo names to models that
    replace the shipped ones (e.g. one being trained).
    """
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"method must be one of {METHODS}, got {unknown}")
    predictions = {}
    if any(m not in ("connected_components", "maskrcnn") for m in methods):
        check_image(image)
        masks = proposals(image)
        if any(m in (*SDS_MODES, "last_layer", "hypercolumn") for m in methods):
            predictions.update(sds_modes(image, masks, models))
        if "cfm" in methods:
            predictions["cfm"] = cfm(image, masks, models)
    for head in ("last_layer", "hypercolumn"):
        if head in methods:
            predictions[head] = refine(image, predictions["sds"], head, models)
    if "connected_components" in methods:
        predictions["connected_components"] = connected_components(image, models)
    if "maskrcnn" in methods:
        predictions["maskrcnn"] = maskrcnn(image, models=models)
    return {method: predictions[method] for method in methods}


def detect(method: str, image: torch.Tensor, models: dict | None = None) -> dict[str, torch.Tensor]:
    """One method of ``METHODS`` on ``image`` (3, H, W): a prediction dict."""
    return detect_all((method,), image, models)[method]


class SceneDetections(Dataset):
    """Scene ``i`` of ``data`` -> (its target, every method's prediction): the unit ``DataLoader`` workers share out.

    The pipelines run on the CPU (proposals and NMS are NumPy and Python), one
    scene per worker, each worker on one thread; their results do not depend
    on which worker ran them.
    """

    def __init__(self, methods: tuple[str, ...], data: Shapes, models: dict | None = None) -> None:
        self.methods, self.data, self.models = methods, data, models

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> tuple[dict, dict[str, dict]]:
        image, target = self.data[index]
        return target, detect_all(self.methods, image, self.models)


def predict_scenes(methods: tuple[str, ...], data: Shapes, models: dict | None = None,
                   workers: int = 0) -> tuple[dict, list[dict]]:
    """Every method's prediction on every scene of ``data``, and the scenes' targets.

    ``workers`` > 0 runs the scenes in that many ``DataLoader`` processes
    (``utils.zoo.scoring.instance_workers`` picks one per core); the results
    do not depend on it.
    """
    if workers < 0:
        raise ValueError(f"workers must be 0 (this process) or a positive number of processes, got {workers}")
    for name in models_read(methods):  # loaded here once, so forked workers inherit them instead of each loading
        model_for(name, models)
    loader = DataLoader(SceneDetections(methods, data, models), batch_size=None, num_workers=workers)
    predictions = {method: [] for method in methods}
    targets = []
    # The bar wraps the loader's iterator, not the loader: a notebook bar holding the loader made the next
    # call's worker processes print "can only test a child process" as they exited.
    for target, detections in progress(iter(loader), "scenes", len(data)):
        targets.append(target)
        for method, prediction in detections.items():
            predictions[method].append(prediction)
    return predictions, targets


def instance_metrics(methods: tuple[str, ...], split: str = "test", seed: int = 0, length: int = 200,
                     image_size: int = 128, models: dict | None = None, workers: int = 0,
                     crowded: float = 0.0) -> dict[str, dict[str, float]]:
    """``ap50``, ``ap75`` and ``ap`` (COCO's 0.5:0.95) of each method on ``length`` scenes of ``split``."""
    data = Shapes(split, length, image_size=image_size, seed=seed, crowded=crowded)
    predictions, targets = predict_scenes(methods, data, models, workers)
    return {method: mask_average_precision(predictions[method], targets) for method in methods}
