"""Evaluate shipped models: ``python -m utils.evaluate NAME... [--split test] [--seed S] [--length N] [--json]``.

``--json`` prints one JSON object ``{name: {"miou": ..., "pixel_accuracy": ...,
"iou_per_class": [...]}}`` (a class with no pixel in target or prediction has
IoU ``null``). Each model segments every pixel with its ``segment`` method, on
scenes of the size it was trained on (``ZOO[name].image_size``). The command
only parses and prints: the scoring is ``utils.zoo.scoring``. Chapter 7 names
it for the instance methods; the README's retraining recipes and ``make train-gpu`` run it.
``--data voc:PATH [--split val]`` scores a model trained there with
``python -m utils.train NAME --data voc:PATH`` (read from ``runs/`` unless
``--weights-dir`` says otherwise; chapter 9).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .data import CLASS_NAMES
from .models import ZOO
from .voc import DataFolderError
from .zoo import checkpoints
from .zoo.folders import evaluate_on_folder, load_folder_model
from .zoo.scoring import DEFAULT_LENGTH, INSTANCE_LENGTH, INSTANCE_METHODS, zoo_metrics


def print_table(results: dict, split: str, seed: int) -> None:
    """The human-readable form of ``results``: semantic models by class IoU, instance methods by mask AP,
    chapter 8's classifiers by accuracy and where they looked."""
    semantic = {n: r for n, r in results.items() if "miou" in r}
    instance = {n: r for n, r in results.items() if "ap50" in r}
    classifiers = {n: r for n, r in results.items() if "accuracy" in r}
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
    if classifiers:
        print(f"{split} split, seed {seed}, cluttered scenes\n{'model':<22}{'accuracy':>9}{'mass on target':>16}"
              f"{'pointing':>10}{'glimpse IoU':>13}{'multiply-adds':>15}")
        for name, r in classifiers.items():
            where = [f"{r[k]:{w}.3f}" if k in r else f"{'-':>{w}}" for k, w in (("mass", 16), ("pointing", 10),
                                                                              ("box_iou", 13))]
            print(f"{name:<22}{r['accuracy']:9.3f}{''.join(where)}{r['multiply_adds'] / 1e6:13.1f} M")


def evaluate_folder(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """``--data``: load each model trained on the folder, score it on ``--split``, print or ``--json``."""
    results = {}
    try:
        for name in args.names:
            model, classes = load_folder_model(name, args.weights_dir or checkpoints.EXPERIMENTS_DIR)
            results[name] = evaluate_on_folder(model, classes, args.data, args.split, ZOO[name].image_size)
    except DataFolderError as err:
        parser.exit(2, f"error: {err}\n")
    if args.json:
        print(json.dumps(results))
        return
    print(f"{args.data}, {args.split} split\n{'model':<22}{'mIoU':>8}{'pix acc':>9}")
    for name, r in results.items():
        print(f"{name:<22}{r['miou']:8.4f}{r['pixel_accuracy']:9.4f}")


def main(argv: list[str] | None = None) -> None:
    names = [*ZOO, *(m for m in INSTANCE_METHODS if m not in ZOO)]
    parser = argparse.ArgumentParser(prog="python -m utils.evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="+", metavar="NAME", help=f"shipped models or methods, from: {', '.join(names)}")
    parser.add_argument("--split", default="test", choices=["train", "val", "test"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--length", type=int, default=None,
                        help=f"scenes to evaluate (default {DEFAULT_LENGTH}; {INSTANCE_LENGTH} for instance methods)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--weights-dir", type=Path, default=None,
                        help="read the models from here (e.g. an experiment's folder; default: the shipped weights, "
                             f"or ./{checkpoints.EXPERIMENTS_DIR} with --data)")
    parser.add_argument("--data", default=None, metavar="voc:PATH",
                        help="score models trained on a VOC-layout folder with utils.train --data, on its --split")
    args = parser.parse_args(argv)
    if args.data is not None:
        evaluate_folder(args, parser)
        return
    args.weights_dir = args.weights_dir or checkpoints.WEIGHTS_DIR
    unknown = [n for n in args.names if n not in names]
    if unknown:
        parser.error(checkpoints.unknown_names(unknown, names))
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
