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

import torch
from torch import nn

from . import checkpoints
from .data import CLASS_NAMES, NUM_CLASSES, Shapes
from .metrics import boundary_band, confusion_matrix, iou_from_confusion
from .models import ZOO

#: The evaluation recorded in the manifest at training time (and re-checked by the tests).
MANIFEST_EVAL: dict = {"split": "test", "seed": 0, "length": 1000}


@torch.no_grad()
def predict(model: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """Label maps (B, H, W) for images (B, 3, H, W): the arg-max of the model's per-pixel scores."""
    return model.segment(images).argmax(1)


@torch.no_grad()
def band_confusions(
    model: nn.Module, split: str = "test", seed: int = 0, length: int = 1000, image_size: int = 64,
    widths: tuple[int, ...] = (), batch_size: int = 50, device: str | torch.device = "cpu",
) -> dict:
    """Confusion matrices (NUM_CLASSES, NUM_CLASSES) of ``model`` over ``length`` scenes of ``split``.

    Key ``"all"``: every pixel. Key ``w`` for each of ``widths``: only pixels
    within ``w`` pixels of a true label edge (``metrics.boundary_band``).
    """
    data = Shapes(split, length, image_size=image_size, seed=seed)
    totals = {key: torch.zeros(NUM_CLASSES, NUM_CLASSES, dtype=torch.int64) for key in ("all", *widths)}
    for start in range(0, length, batch_size):
        images, semantic = data.batch(range(start, min(start + batch_size, length)))
        pred = predict(model, images.to(device)).cpu()
        totals["all"] += confusion_matrix(pred, semantic, NUM_CLASSES)
        for width in widths:
            band = boundary_band(semantic, width)
            totals[width] += confusion_matrix(pred[band], semantic[band], NUM_CLASSES)
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m utils.evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="+", help="shipped models to evaluate")
    parser.add_argument("--split", default="test", choices=["train", "val", "test"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--length", type=int, default=1000)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args(argv)
    results = {}
    for name in args.names:
        try:
            model = checkpoints.load(name)
        except (ValueError, checkpoints.CheckpointError) as err:
            parser.exit(2, f"error: {err}\n")
        results[name] = evaluate_model(model, args.split, args.seed, args.length, ZOO[name].image_size)
    if args.json:
        print(json.dumps(results))
        return
    header = f"{'model':<22}{'mIoU':>8}{'pix acc':>9}  " + " ".join(f"{c[:6]:>6}" for c in CLASS_NAMES)
    print(f"{args.split} split, seed {args.seed}, {args.length} scenes\n{header}")
    for name, r in results.items():
        per_class = " ".join("   n/a" if v is None else f"{v:6.3f}" for v in r["iou_per_class"])
        print(f"{name:<22}{r['miou']:8.4f}{r['pixel_accuracy']:9.4f}  {per_class}")


if __name__ == "__main__":
    main()
