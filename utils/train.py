"""Train the demo models: ``python -m utils.train NAME [--device auto|cpu|cuda] [--seed S] [--steps N]``.

``python -m utils.train --all`` trains the whole zoo in dependency order. Data
are generated on the fly (every training scene is new), training is seeded,
runs on CUDA with bfloat16 mixed precision when there is a GPU and on the CPU
otherwise, and ends by evaluating on the test split and writing the weights and
their manifest entry. The command only parses and prints: the training is
``utils.zoo.training``; chapter 2 (section 2.5) shows its loop. The README's
retraining recipes and ``make train`` run it. ``--data voc:PATH`` trains one
architecture on a folder of your own images instead (``utils.zoo.folders``,
chapter 9).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .models import ZOO
from .voc import DataFolderError
from .zoo import checkpoints
from .zoo.folders import check_model, open_folder, train_on_folder
from .zoo.scoring import MANIFEST_EVAL
from .zoo.training import resolve_device, train

EXPERIMENTS_DIR = checkpoints.EXPERIMENTS_DIR


def output_dir(args: argparse.Namespace) -> Path:
    """The shipped weights for a run of the zoo's own recipe (or with ``--replace-shipped``), else an experiment folder.

    A quick experiment (other steps, another seed) must never silently replace
    the weights the chapters load.
    """
    if args.weights_dir is not None:
        return args.weights_dir
    recipe = args.steps is None and args.seed == 0 and args.data is None
    return checkpoints.WEIGHTS_DIR if recipe or (args.replace_shipped and args.data is None) else EXPERIMENTS_DIR


def parser() -> argparse.ArgumentParser:
    """The command's options."""
    parser = argparse.ArgumentParser(prog="python -m utils.train", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"models to train, from: {', '.join(ZOO)}")
    parser.add_argument("--all", action="store_true", help="train the whole zoo in dependency order")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=None, help="override the zoo's number of steps")
    parser.add_argument("--weights-dir", type=Path, default=None,
                        help=f"where to write weights and manifest (default: the shipped weights for the zoo's "
                             f"recipe, ./{EXPERIMENTS_DIR} for any other --steps or --seed)")
    parser.add_argument("--replace-shipped", action="store_true",
                        help="write a run with other --steps or --seed over the shipped weights")
    parser.add_argument("--eval-scenes", type=int, default=None,
                        help="test scenes for the manifest's metrics (default: the zoo's; fewer for a dry run)")
    parser.add_argument("--data", default=None, metavar="voc:PATH",
                        help="train on a PASCAL VOC-layout folder of your own images instead (one model, from "
                             f"scratch, into ./{EXPERIMENTS_DIR}; see lectures/09_your_own_data)")
    return parser


def refusal(args: argparse.Namespace, names: list[str]) -> str | None:
    """Why the command cannot run as asked (one line), or ``None``."""
    unknown = [n for n in names if n not in ZOO]
    if not names:
        return "name at least one model, or pass --all"
    if unknown:
        return checkpoints.unknown_names(unknown)
    if args.steps is not None and args.steps < 1:
        return f"--steps must be a positive number of optimisation steps, got {args.steps}"
    if args.eval_scenes is not None and args.eval_scenes < 1:
        return f"--eval-scenes must be a positive number of scenes, got {args.eval_scenes}"
    if args.data is not None:
        if args.all or len(names) != 1:
            return "--data trains one model at a time: name it (e.g. fcn8s), without --all"
        try:
            check_model(names[0])
            open_folder(args.data, "train")
        except DataFolderError as err:
            return str(err)
    try:
        resolve_device(args.device)
    except ValueError as err:
        return str(err)
    return None


def main(argv: list[str] | None = None) -> None:
    options = parser()
    args = options.parse_args(argv)
    names = list(ZOO) if args.all else args.names
    if problem := refusal(args, names):
        options.exit(2, f"{options.prog}: error: {problem}\n")  # one line: the usage would bury it
    weights_dir = output_dir(args)
    weights_dir.mkdir(parents=True, exist_ok=True)
    if weights_dir != checkpoints.WEIGHTS_DIR:
        print(f"writing weights and manifest to {weights_dir}/ (the shipped weights stay as they are)")
    if args.data is not None:
        try:
            entry = train_on_folder(names[0], args.data, args.steps, args.seed, args.device, weights_dir)
        except DataFolderError as err:
            options.exit(2, f"error: {err}\n")
        score = f", val mIoU {entry['metrics']['miou']:.4f}" if "metrics" in entry else ""
        print(f"{names[0]}: {entry['num_classes']} classes from {args.data}{score}, "
              f"{entry['train_seconds']} s on {entry['device']}")
        return
    evaluation = None if args.eval_scenes is None else {**MANIFEST_EVAL, "length": args.eval_scenes}
    for name in names:
        try:
            entry = train(name, args.device, args.seed, args.steps, weights_dir=weights_dir, evaluation=evaluation)
        except checkpoints.CheckpointError as err:
            options.exit(2, f"error: {err}\n")
        m = entry["metrics"]
        score = (f"mask AP50 {m['ap50']:.4f}" if "ap50" in m else f"accuracy {m['accuracy']:.4f}" if "accuracy" in m
                 else f"mIoU {m['miou']:.4f}")
        print(f"{name}: {score}, {entry['train_seconds']} s on {entry['device']}")


if __name__ == "__main__":
    main()
