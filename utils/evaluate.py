"""Evaluate shipped models: ``python -m utils.evaluate NAME... [--split test] [--seed S] [--length N] [--json]``.

``--json`` prints one JSON object ``{name: {"miou": ..., "pixel_accuracy": ...,
"iou_per_class": [...]}}`` (a class with no pixel in target or prediction has
IoU ``null``). Each model segments every pixel with its ``segment`` method, on
scenes of the size it was trained on (``ZOO[name].image_size``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
from pathlib import Path

import torch
from torch import nn

from . import checkpoints
from .data import CLASS_NAMES, NUM_CLASSES, Shapes
from .metrics import boundary_band, confusion_matrix, iou_from_confusion
from .models import FCN_IMAGE_SIZE, ZOO

#: The evaluation recorded in the manifest at training time (and re-checked by the tests).
MANIFEST_EVAL: dict = {"split": "test", "seed": 0, "length": 1000}


#: Images per forward pass on a CPU: small batches keep the activations in cache (3x faster than 300 at once).
CHUNK = 25


@torch.no_grad()
def in_chunks(run, images: torch.Tensor, size: int = CHUNK):
    """``run(images)`` computed ``size`` images at a time and put back together.

    ``run`` returns a tensor (B, ...) or a list of them (a recurrent model's
    passes); the result has the same form, for all of ``images`` (B, 3, H, W).
    """
    parts = [run(chunk) for chunk in images.split(size)]
    if isinstance(parts[0], torch.Tensor):
        return torch.cat(parts)
    return [torch.cat(group) for group in zip(*parts)]


@torch.no_grad()
def predict(model: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """Label maps (B, H, W) for images (B, 3, H, W): the arg-max of the model's per-pixel scores."""
    return in_chunks(model.segment, images).argmax(1)


@torch.no_grad()
def band_confusions_of(pred: torch.Tensor, semantic: torch.Tensor, widths: tuple[int, ...] = ()) -> dict:
    """Confusion matrices (NUM_CLASSES, NUM_CLASSES) of label maps ``pred`` against ``semantic`` (both (B, H, W)).

    Key ``"all"``: every pixel. Key ``w`` for each of ``widths``: only pixels
    within ``w`` pixels of a true label edge (``metrics.boundary_band``).
    """
    totals = {"all": confusion_matrix(pred, semantic, NUM_CLASSES)}
    for width in widths:
        band = boundary_band(semantic, width)
        totals[width] = confusion_matrix(pred[band], semantic[band], NUM_CLASSES)
    return totals


def band_confusions(
    model: nn.Module, split: str = "test", seed: int = 0, length: int = 1000, image_size: int = 64,
    widths: tuple[int, ...] = (), batch_size: int = 50, device: str | torch.device = "cpu",
) -> dict:
    """``band_confusions_of`` ``model``'s labels over ``length`` scenes of ``split``, summed batch by batch."""
    data = Shapes(split, length, image_size=image_size, seed=seed)
    totals = {key: torch.zeros(NUM_CLASSES, NUM_CLASSES, dtype=torch.int64) for key in ("all", *widths)}
    for start in range(0, length, batch_size):
        images, semantic = data.batch(range(start, min(start + batch_size, length)))
        for key, counts in band_confusions_of(predict(model, images.to(device)).cpu(), semantic, widths).items():
            totals[key] += counts
    return totals


def confusion_on(model: nn.Module, split: str = "test", seed: int = 0, length: int = 1000, image_size: int = 64,
                 device: str | torch.device = "cpu") -> torch.Tensor:
    """Confusion matrix (NUM_CLASSES, NUM_CLASSES) of ``model`` over every pixel of ``length`` scenes of ``split``."""
    return band_confusions(model, split, seed, length, image_size, device=device)["all"]


def summarise(confusion: torch.Tensor) -> dict:
    """``miou``, ``pixel_accuracy`` and ``iou_per_class`` (NaN -> None) from a confusion matrix."""
    iou = iou_from_confusion(confusion)
    return {
        "miou": round(iou.nanmean().item(), 6),
        "pixel_accuracy": round((confusion.diag().sum() / confusion.sum()).item(), 6),
        "iou_per_class": [None if math.isnan(v) else round(v, 6) for v in iou.tolist()],
    }


def evaluate_model(model: nn.Module, split: str = "test", seed: int = 0, length: int = 1000, image_size: int = 64,
                   device: str | torch.device = "cpu") -> dict:
    """Metrics of ``model`` (in eval mode) on ``length`` scenes of ``split`` generated with ``seed``."""
    model.eval()
    return summarise(confusion_on(model, split, seed, length, image_size, device=device))


@torch.no_grad()
def refinement_metrics(model: nn.Module, split: str = "test", seed: int = 0, length: int = 1000, image_size: int = 64,
                       device: str | torch.device = "cpu", iterations: int = 5) -> dict:
    """``miou_by_iteration`` and ``pixel_accuracy_by_iteration`` of a recurrent model after passes 1..``iterations``.

    One unrolled run per batch scores every pass at once (chapter 4).
    """
    model.eval()
    data = Shapes(split, length, image_size=image_size, seed=seed)
    totals = torch.zeros(iterations, NUM_CLASSES, NUM_CLASSES, dtype=torch.int64)
    for start in range(0, length, 50):
        images, semantic = data.batch(range(start, min(start + 50, length)))
        for t, scores in enumerate(in_chunks(lambda x: model(x, iterations), images.to(device))):
            totals[t] += confusion_matrix(scores.argmax(1).cpu(), semantic, NUM_CLASSES)
    summaries = [summarise(c) for c in totals]
    return {"miou_by_iteration": [s["miou"] for s in summaries],
            "pixel_accuracy_by_iteration": [s["pixel_accuracy"] for s in summaries]}


def zoo_metrics(name: str, model: nn.Module, split: str = "test", seed: int = 0, length: int = 1000,
                device: str | torch.device = "cpu") -> dict:
    """What ``python -m utils.evaluate NAME`` reports for zoo model ``name`` (and the manifest records).

    Every semantic model: ``miou``, ``pixel_accuracy``, ``iou_per_class``; a
    recurrent one adds its per-iteration scores.
    """
    if name in INSTANCE_METHODS:
        return instance_report(name, model, split, seed, length)
    spec = ZOO[name]
    metrics = evaluate_model(model, split, seed, length, spec.image_size, device)
    if spec.task == "recurrent":
        metrics.update(refinement_metrics(model, split, seed, length, spec.image_size, device))
    return metrics


#: What ``python -m utils.evaluate NAME`` runs for each instance method (chapter 7): SDS also reports its ablation.
INSTANCE_METHODS: dict[str, tuple[str, ...]] = {
    "connected_components": ("connected_components",), "sds": ("sds", "sds_box", "sds_region"),
    "last_layer": ("last_layer",), "hypercolumn": ("hypercolumn",), "maskrcnn": ("maskrcnn",),
}


def instance_workers() -> int:
    """Processes for the instance pipelines (CPU-bound, one scene each): one per core, none on a single core.

    On a 2-core machine two workers evaluate about 1.4x faster than one
    process with two threads; on a 16-core GPU machine about ten times.
    """
    cores = os.cpu_count() or 1
    return 0 if cores < 2 else min(cores, 15)


def instance_report(name: str, model: nn.Module | None, split: str, seed: int, length: int) -> dict:
    """``ap50``, ``ap75``, ``ap`` of instance method ``name`` (and ``ap50_box`` / ``ap50_region`` for ``sds``).

    ``model`` replaces the shipped one (``None`` for connected components, which
    only read the shipped FCN-8s); scenes are 128x128, like FCN-8s's.
    """
    from .instances import instance_metrics  # the instance methods load the zoo: imported only when needed

    methods = INSTANCE_METHODS[name]
    models = {name: model.cpu()} if model is not None and name in ZOO else None  # the pipelines run on the CPU
    results = instance_metrics(methods, split, seed, length, FCN_IMAGE_SIZE, models, workers=instance_workers())
    report = {key: round(value, 6) for key, value in results[methods[0]].items()}
    for method in methods[1:]:
        report[f"ap50_{method.removeprefix('sds_')}"] = round(results[method]["ap50"], 6)
    return report


#: Scenes evaluated when ``--length`` is not given: instance methods (chapter 7) are slower per scene.
DEFAULT_LENGTH, INSTANCE_LENGTH = 1000, 200


def print_table(results: dict, split: str, seed: int) -> None:
    """The human-readable form of ``results``: semantic models by class IoU, instance methods by mask AP."""
    semantic = {n: r for n, r in results.items() if "miou" in r}
    instance = {n: r for n, r in results.items() if "ap50" in r}
    if semantic:
        header = f"{'model':<22}{'mIoU':>8}{'pix acc':>9}  " + " ".join(f"{c[:6]:>6}" for c in CLASS_NAMES)
        print(f"{split} split, seed {seed}\n{header}")
        for name, r in semantic.items():
            per_class = " ".join("   n/a" if v is None else f"{v:6.3f}" for v in r["iou_per_class"])
            print(f"{name:<22}{r['miou']:8.4f}{r['pixel_accuracy']:9.4f}  {per_class}")
    if instance:
        print(f"{split} split, seed {seed}, mask AP\n{'method':<22}{'AP50':>8}{'AP75':>8}{'AP':>8}")
        for name, r in instance.items():
            print(f"{name:<22}{r['ap50']:8.4f}{r['ap75']:8.4f}{r['ap']:8.4f}")


def main(argv: list[str] | None = None) -> None:
    names = [*ZOO, *(m for m in INSTANCE_METHODS if m not in ZOO)]
    parser = argparse.ArgumentParser(prog="python -m utils.evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="+", metavar="NAME", help=f"shipped models or methods, from: {', '.join(names)}")
    parser.add_argument("--split", default="test", choices=["train", "val", "test"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--length", type=int, default=None,
                        help=f"scenes to evaluate (default {DEFAULT_LENGTH}; {INSTANCE_LENGTH} for instance methods)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--weights-dir", type=Path, default=checkpoints.WEIGHTS_DIR,
                        help="read the models from here (e.g. an experiment's folder; default: the shipped weights)")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in names]
    if unknown:
        parser.error(f"unknown model(s) {', '.join(unknown)}; choose from: {', '.join(names)}")
    if args.length is not None and args.length < 1:
        parser.error(f"--length must be a positive number of scenes, got {args.length}")
    models = {}
    for name in args.names:  # load (and verify) every model before spending time on any evaluation
        try:
            models[name] = checkpoints.load(name, weights_dir=args.weights_dir) if name in ZOO else None
        except checkpoints.CheckpointError as err:
            parser.exit(2, f"error: {err}\n")
    results = {}
    for name, model in models.items():
        length = args.length or (INSTANCE_LENGTH if name in INSTANCE_METHODS else DEFAULT_LENGTH)
        results[name] = zoo_metrics(name, model, args.split, args.seed, length)
    if args.json:
        print(json.dumps(results))
    else:
        print_table(results, args.split, args.seed)


if __name__ == "__main__":
    main()
