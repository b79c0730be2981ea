"""Scoring the zoo's models: what ``python -m utils.evaluate`` reports and the manifest records.

Semantic models: mIoU, pixel accuracy and per-class IoU over every pixel of
``length`` generated test scenes (optionally only the pixels near a true
edge); a recurrent model adds its score after each pass (chapter 4); chapter
7's instance methods report mask AP; chapter 8's classifiers their accuracy
and where they looked (``classification``). The evaluation never moves the caller's
model: the scenes go to the model's device.
"""

from __future__ import annotations

import copy
import math
import os
from pathlib import Path

import torch
from torch import nn

from ..bootstrap import miou_of, pixel_accuracy_of
from ..data import DISTRIBUTIONS, NUM_CLASSES, STANDARD, VOID, Distribution, Shapes
from ..metrics import boundary_band, confusion_matrix, iou_from_confusion
from ..models import FCN_IMAGE_SIZE, ZOO, RecurrentCNN
from .classification import classification_metrics
from .inference import in_chunks, predict
from .checkpoints import WEIGHTS_DIR, load, source_dir
from .instances import instance_metrics, models_read

#: Scenes a semantic model is scored on unless told otherwise; instance methods (chapter 7) are slower per scene.
DEFAULT_LENGTH, INSTANCE_LENGTH = 1000, 200
#: The evaluation recorded in the manifest at training time (and re-checked by the tests).
MANIFEST_EVAL: dict = {"split": "test", "seed": 0, "length": DEFAULT_LENGTH}
#: Scenes generated at once: the label maps of 50 scenes fit comfortably in memory.
SCENES_PER_BATCH = 50
#: What ``python -m utils.evaluate NAME`` runs for each instance method (chapter 7): SDS also reports its ablation.
INSTANCE_METHODS: dict[str, tuple[str, ...]] = {
    "connected_components": ("connected_components",), "sds": ("sds", "sds_box", "sds_region"), "cfm": ("cfm",),
    "last_layer": ("last_layer",), "hypercolumn": ("hypercolumn",), "maskrcnn": ("maskrcnn",),
}


def device_of(model: nn.Module) -> torch.device:
    """The device ``model``'s parameters live on (the CPU for a model without any)."""
    return next(model.parameters(), torch.empty(0)).device


def scene_batches(split: str, seed: int, length: int, image_size: int, distribution: Distribution = STANDARD):
    """``(images (B, 3, H, W), semantic (B, H, W))`` for ``length`` scenes of ``split``, SCENES_PER_BATCH at a time."""
    data = Shapes(split, length, image_size=image_size, seed=seed, distribution=distribution)
    for start in range(0, length, SCENES_PER_BATCH):
        yield data.batch(range(start, min(start + SCENES_PER_BATCH, length)))


@torch.no_grad()
def band_confusions_of(pred: torch.Tensor, semantic: torch.Tensor, widths: tuple[int, ...] = ()) -> dict:
    """Confusion matrices (NUM_CLASSES, NUM_CLASSES) of label maps ``pred`` against ``semantic`` (both (B, H, W)).

    Key ``"all"``: every labelled pixel (``VOID`` left out). Key ``w`` for each of ``widths``: only pixels
    within ``w`` pixels of a true label edge (``metrics.boundary_band``).
    """
    totals = {"all": confusion_matrix(pred, semantic, NUM_CLASSES, ignore_index=VOID)}
    for width in widths:
        band = boundary_band(semantic, width)
        totals[width] = confusion_matrix(pred[band], semantic[band], NUM_CLASSES)
    return totals


def band_confusions(model: nn.Module, split: str = "test", seed: int = 0, length: int = DEFAULT_LENGTH,
                    image_size: int = 64, widths: tuple[int, ...] = (), distribution: Distribution = STANDARD) -> dict:
    """``band_confusions_of`` ``model``'s labels over ``length`` scenes of ``split``, summed batch by batch."""
    totals = {key: torch.zeros(NUM_CLASSES, NUM_CLASSES, dtype=torch.int64) for key in ("all", *widths)}
    device = device_of(model)
    for images, semantic in scene_batches(split, seed, length, image_size, distribution):
        for key, counts in band_confusions_of(predict(model, images.to(device)).cpu(), semantic, widths).items():
            totals[key] += counts
    return totals


def summarise(confusion: torch.Tensor) -> dict:
    """``miou``, ``pixel_accuracy`` and ``iou_per_class`` (NaN -> None) from one confusion matrix (C, C)."""
    return {
        "miou": round(miou_of(confusion[None]), 6),
        "pixel_accuracy": round(pixel_accuracy_of(confusion[None]), 6),
        "iou_per_class": [None if math.isnan(v) else round(v, 6) for v in iou_from_confusion(confusion).tolist()],
    }


def evaluate_model(model: nn.Module, split: str = "test", seed: int = 0, length: int = DEFAULT_LENGTH,
                   image_size: int = 64, distribution: Distribution = STANDARD) -> dict:
    """Metrics of ``model`` (put in eval mode, left on its device) on ``length`` scenes of ``split`` made with ``seed``."""
    model.eval()
    return summarise(band_confusions(model, split, seed, length, image_size, distribution=distribution)["all"])


@torch.no_grad()
def refinement_metrics(model: nn.Module, split: str = "test", seed: int = 0, length: int = DEFAULT_LENGTH,
                       image_size: int = 64, iterations: int = 5) -> dict:
    """``miou_by_iteration`` and ``pixel_accuracy_by_iteration`` of a recurrent model after passes 1..``iterations``.

    One unrolled run per batch scores every pass at once (chapter 4).
    """
    model.eval()
    device = device_of(model)
    totals = torch.zeros(iterations, NUM_CLASSES, NUM_CLASSES, dtype=torch.int64)
    for images, semantic in scene_batches(split, seed, length, image_size):
        for t, scores in enumerate(in_chunks(lambda x: model(x, iterations), images.to(device))):
            totals[t] += confusion_matrix(scores.argmax(1).cpu(), semantic, NUM_CLASSES)
    summaries = [summarise(c) for c in totals]
    return {"miou_by_iteration": [s["miou"] for s in summaries],
            "pixel_accuracy_by_iteration": [s["pixel_accuracy"] for s in summaries]}


def zoo_metrics(name: str, model: nn.Module | None, split: str = "test", seed: int = 0,
                length: int = DEFAULT_LENGTH, weights_dir: Path = WEIGHTS_DIR) -> dict:
    """What ``python -m utils.evaluate NAME`` reports for zoo model or method ``name`` (and the manifest records).

    Every semantic model: ``miou``, ``pixel_accuracy``, ``iou_per_class``; a
    recurrent one adds its per-iteration scores; an instance method its mask AP
    (the other models its pipeline reads come from ``weights_dir`` when it
    holds them: a mask head trained there refines the SDS trained there).
    """
    if name in INSTANCE_METHODS:
        return instance_report(name, model, split, seed, length, weights_dir)
    spec = ZOO[name]
    if spec.task == "classify":
        return classification_metrics(model, split, seed, length, spec.image_size)
    metrics = evaluate_model(model, split, seed, length, spec.image_size,
                             DISTRIBUTIONS[spec.test_scenes or spec.scenes])
    if isinstance(model, RecurrentCNN):
        metrics.update(refinement_metrics(model, split, seed, length, spec.image_size, model.max_passes or 5))
    return metrics


def instance_workers() -> int:
    """Processes for the instance pipelines (CPU-bound, one scene each): one per core, none on a single core.

    On a 2-core machine two workers evaluate about 1.4x faster than one
    process with two threads (``python -m utils.zoo.bench`` times both).
    """
    cores = os.cpu_count() or 1
    return 0 if cores < 2 else min(cores, 15)


def instance_report(name: str, model: nn.Module | None, split: str, seed: int, length: int,
                    weights_dir: Path = WEIGHTS_DIR) -> dict:
    """``ap50``, ``ap75``, ``ap`` of instance method ``name`` on ordinary and (``_crowded``) on crowded scenes.

    ``sds`` also reports ``ap50_box`` / ``ap50_region``. ``model`` replaces the
    shipped one (``None`` for connected components, which only read the shipped
    FCN-8s); any other model the pipeline reads (SDS, under a mask head) comes
    from ``weights_dir`` if it holds one, else is the shipped one. Scenes are 128x128, like FCN-8s's. The pipelines run on the CPU
    (proposals and NMS are NumPy), so a model trained elsewhere is scored
    through a CPU copy: the caller's model stays where it is.
    """
    methods = INSTANCE_METHODS[name]
    models = {other: load(other, weights_dir=source_dir(other, weights_dir))
              for other in models_read(methods) if other != name and source_dir(other, weights_dir) != WEIGHTS_DIR}
    if model is not None and name in ZOO:
        models[name] = model if device_of(model).type == "cpu" else copy.deepcopy(model).cpu()
    report = {}
    for crowded, suffix in ((0.0, ""), (1.0, "_crowded")):
        results = instance_metrics(methods, split, seed, length, FCN_IMAGE_SIZE, models, instance_workers(), crowded)
        report.update({f"{key}{suffix}": round(value, 6) for key, value in results[methods[0]].items()})
        for method in methods[1:]:
            report[f"ap50_{method.removeprefix('sds_')}{suffix}"] = round(results[method]["ap50"], 6)
    return report
