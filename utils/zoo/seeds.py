"""Training-seed noise: the compared models retrained with other seeds, scored on the chapters' own test scenes.

A chapter's bootstrap interval says how much a difference would move on
other test scenes; it says nothing about other training runs. So every model
a chapter states a verdict about is trained again with seeds 1 and 2 (the
shipped weights are seed 0), at exactly the zoo's recipe otherwise, and
scored on the test scenes the chapter uses. The weights stay in
``runs/seeds/`` (not shipped; a model that starts from another, such as
FCN-16s from FCN-32s or chapter 8's classifiers from chapter 3's CNN, starts
from that model's run with the same seed when there is one, so a seed is a
whole pipeline retrained); their scores, the chapters' own measures where
a verdict reads more than a score (``utils.zoo.seed_measures``; ``--remeasure``
adds them to recorded seeds from the kept weights), and how each run was
trained, are recorded in ``utils/weights/seeds.json``, which the chapters and the
model card read, beside seed 0: the shipped weights scored on the same scenes
(not retrained), so the spread over seeds compares like with like.
``python -m utils.zoo.seeds NAME... [--seeds 0 1 2]`` (``make seeds``) writes
it. Used by chapters 3, 4, 5, 7, 8 and 9 and the model card.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

from ..models import ZOO
from .checkpoints import WEIGHTS_DIR, check_name, load, load_shared, read_manifest, unknown_names
from .scoring import zoo_metrics
from .seed_measures import measure
from .training import train

#: What a record keeps of how its model was trained.
TRAINED_KEYS = ("steps", "batch_size", "lr", "seed", "device", "train_seconds", "torch", "loss_curve")
#: Where the seed runs' scores live (committed), and where their weights go (not committed).
RECORDS, RUNS = WEIGHTS_DIR / "seeds.json", Path("runs") / "seeds"
#: The test scenes each chapter scores on: (split, seed, scenes). Every seed of a model is scored on its chapter's.
CHAPTER_SCENES = {"03_multiscale": ("test", 0, 200), "04_iterative_refinement": ("test", 0, 300),
                  "05_upsampling_skip_connections": ("test", 0, 300), "07_instance_segmentation": ("test", 0, 30),
                  "08_attention": ("test", 0, 1000), "09_your_own_data": ("test", 0, 500)}


def read_records(path: Path = RECORDS) -> dict[str, dict[str, dict]]:
    """``{name: {seed: {"metrics": ..., "trained": ...}}}`` (seeds as strings, JSON keys); empty if none yet."""
    return json.loads(path.read_text()) if path.exists() else {}


def seed_scores(name: str, key: str = "miou", path: Path = RECORDS) -> dict[int, object]:
    """``{seed: metrics[key]}`` of every recorded seed of ``name`` (0: the shipped weights, on the same scenes)."""
    return {int(seed): run["metrics"][key] for seed, run in read_records(path).get(name, {}).items()}


def miou(metrics: dict) -> float:
    """The default score of a seed record: its mIoU on the chapter's test scenes."""
    return metrics["miou"]


def accuracy(metrics: dict) -> float:
    """A classifier's score in a seed record (chapter 8): its accuracy on the chapter's test scenes."""
    return metrics["accuracy"]


def seed_differences(better: str, worse: str, seed0: float, pick_better: Callable[[dict], float] = miou,
                     pick_worse: Callable[[dict], float] | None = None, path: Path = RECORDS) -> tuple[float, ...]:
    """The difference ``better - worse`` for every training seed: seed 0's (the chapter's own) first.

    Seeds 1, 2, ... come from the records of every seed trained for *both*
    models; ``pick_better`` / ``pick_worse`` read the score from a record's
    metrics (the mIoU by default; e.g. ``lambda m: m["miou_by_iteration"][1]``
    for a pass of a recurrent model, so ``better`` and ``worse`` may be one model).
    """
    pick_worse = pick_worse or pick_better
    records = read_records(path)
    ours, theirs = records.get(better, {}), records.get(worse, {})
    common = sorted((set(ours) & set(theirs)) - {"0"}, key=int)  # seed 0 is the chapter's own measurement
    return (seed0, *(pick_better(ours[s]["metrics"]) - pick_worse(theirs[s]["metrics"]) for s in common))


def seed_contrast(weights: dict[str, float], seed0: float, pick: Callable[[dict], float] = miou,
                  path: Path = RECORDS) -> tuple[float, ...]:
    """``sum(weights[m] * score of m)`` for every training seed: seed 0's (the chapter's own) first.

    The seed-by-seed twin of ``utils.bootstrap.contrast_interval``: seeds 1,
    2, ... are those recorded for *every* model in ``weights``.
    """
    records = read_records(path)
    runs = [records.get(name, {}) for name in weights]
    common = sorted(set.intersection(*(set(run) for run in runs)) - {"0"}, key=int)
    return (seed0, *(sum(w * pick(run[s]["metrics"]) for w, run in zip(weights.values(), runs)) for s in common))


def chapter_scenes(name: str) -> dict:
    """The evaluation (split, seed, length) of the chapter that compares ``name`` by seed; refuses other models."""
    check_name(name)
    chapter = ZOO[name].chapter
    if chapter not in CHAPTER_SCENES:
        raise ValueError(f"name: {name} belongs to {chapter}, which states no verdict on seeds; "
                         f"choose a model of {', '.join(CHAPTER_SCENES)}")
    return dict(zip(("split", "seed", "length"), CHAPTER_SCENES[chapter]))


def shipped_record(name: str) -> dict:
    """Seed 0, the shipped weights (not retrained): scored on the same chapter scenes as the other seeds."""
    evaluation = chapter_scenes(name)
    entry = read_manifest()[name]
    model = load_shared(name).eval()
    metrics = zoo_metrics(name, model, **evaluation)
    trained = {key: entry[key] for key in TRAINED_KEYS if key in entry}
    return {"metrics": {**evaluation, **metrics, **measure(name, model)}, "trained": trained}


def run_seed(name: str, seed: int, device: str = "auto", runs: Path = RUNS, steps: int | None = None) -> dict:
    """Train ``name`` with ``seed`` (the zoo's ``steps`` unless given) into ``runs/seed{seed}``; score it on its chapter's scenes."""
    evaluation = chapter_scenes(name)
    folder = runs / f"seed{seed}"
    folder.mkdir(parents=True, exist_ok=True)
    entry = train(name, device, seed, steps, weights_dir=folder, evaluation=evaluation)
    trained = {key: entry[key] for key in TRAINED_KEYS}
    return {"metrics": {**entry["metrics"], **measure(name, load(name, weights_dir=folder))}, "trained": trained}


def remeasure(name: str, seed: int, runs: Path = RUNS) -> dict:
    """``seed_measures.measure`` of ``name``'s recorded ``seed`` from its kept weights, without retraining."""
    if seed == 0:
        return measure(name, load_shared(name))
    folder = runs / f"seed{seed}"
    if not (folder / f"{name}.safetensors").exists():
        raise ValueError(f"seed: {name} seed {seed} has no weights in {folder} (they are not shipped); "
                         f"retrain it with python -m utils.zoo.seeds {name} --seeds {seed}")
    return measure(name, load(name, weights_dir=folder))


def _write(name: str, seed: int, record: dict) -> None:
    """Put ``record`` in the records as ``name``'s ``seed``, read again first: another run may have written meanwhile."""
    records = read_records(RECORDS)
    records.setdefault(name, {})[str(seed)] = record
    RECORDS.write_text(json.dumps(records, indent=1, sort_keys=True) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m utils.zoo.seeds", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="+", help="models to retrain with other seeds")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2],
                        help="0 scores the shipped weights on the chapter's scenes (no training); others retrain")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--steps", type=int, default=None, help="override the zoo's steps (a dry run of make train-gpu)")
    parser.add_argument("--remeasure", action="store_true",
                        help="no training: add utils.zoo.seed_measures to recorded seeds, from their kept weights")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in ZOO]
    if unknown:
        parser.error(unknown_names(unknown))
    if args.steps is not None and args.steps < 1:
        parser.error(f"--steps must be a positive number of optimisation steps, got {args.steps}")
    for name in args.names:
        for seed in args.seeds:
            if args.remeasure:
                record = read_records(RECORDS).get(name, {}).get(str(seed))
                if record is None:
                    parser.error(f"--remeasure: {name} seed {seed} is not recorded yet; train it without --remeasure")
                try:
                    record["metrics"].update(remeasure(name, seed))
                except ValueError as error:
                    parser.error(str(error))
            else:
                record = shipped_record(name) if seed == 0 else run_seed(name, seed, args.device, steps=args.steps)
            _write(name, seed, record)
            score = {k: v for k, v in record["metrics"].items() if k in ("miou", "accuracy", "ap50")}
            print(f"{name} seed {seed}: {score}")


if __name__ == "__main__":
    main()
