"""The speed and size table: ``python -m utils.zoo.bench [--quick]``.

Measures, on this machine: scenes per second of the data set (one core, the
training path and full targets), training images per second of every zoo model
on the CPU (and on CUDA when present), evaluation seconds per 1000 test scenes
(chapter 7's pipelines in ``scoring.instance_workers()`` processes, also timed
in this one), and the size of every shipped weights file. Prints one table;
asserts nothing. The data and training rates are the best of repeats
(``utils.timing.best_seconds``); the loader, pipeline and evaluation times
are single runs, so a busy spell of the machine can slow those rows.
"""

from __future__ import annotations

import argparse
import time

import torch
from torch.utils.data import DataLoader

from ..data import Shapes
from ..models import FCN_IMAGE_SIZE, ZOO
from ..timing import best_seconds
from . import checkpoints
from .instances import predict_scenes
from .scoring import INSTANCE_METHODS, instance_workers, zoo_metrics
from .training import Batches, to_device, train_step


def data_rates(image_size: int = 64, scenes: int = 500) -> dict[str, float]:
    """Scenes per second: images + semantic maps (``batch``, the training path) and full targets (``[i]``)."""
    data = Shapes("train", scenes, image_size=image_size)
    seconds = best_seconds({"images + semantic maps": lambda: data.batch(range(scenes)),
                            "full targets (masks, boxes)": lambda: [data[i] for i in range(scenes)]})
    return {path: scenes / s for path, s in seconds.items()}


def loader_rate(workers: int, image_size: int = 64, batch_size: int = 32, batches: int = 24) -> float:
    """Scenes per second through ``utils.train``'s own data path (``Batches`` in a ``DataLoader``) with ``workers``."""
    data = Shapes("train", batches * batch_size, image_size=image_size)
    loader = DataLoader(Batches(data, batch_size, "dense"), batch_size=None, num_workers=workers,
                        prefetch_factor=4 if workers else None)
    start = time.perf_counter()
    for _ in loader:
        pass
    return batches * batch_size / (time.perf_counter() - start)


def pipeline_rate(workers: int, scenes: int = 16) -> float:
    """Test scenes per second through chapter 7's SDS + hypercolumn pipeline in ``workers`` processes."""
    data = Shapes("test", scenes, image_size=FCN_IMAGE_SIZE)
    start = time.perf_counter()
    predict_scenes(("sds", "hypercolumn"), data, workers=workers)
    return scenes / (time.perf_counter() - start)


def training_rate(name: str, device: torch.device, steps: int = 4) -> float:
    """Training images per second of a fresh ``name`` on ``device`` (one warm-up step, then ``steps``)."""
    spec = ZOO[name]
    model = spec.build().to(device).train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=spec.lr)
    images, targets = Batches(Shapes("train", spec.batch_size, image_size=spec.image_size), spec.batch_size, spec.task)[0]
    images, targets = images.to(device), to_device(targets, device)
    generator = torch.Generator().manual_seed(0)

    def step() -> None:
        train_step(model, optimizer, spec, images, targets, generator)
        if device.type == "cuda":
            torch.cuda.synchronize()

    seconds = best_seconds({name: lambda: [step() for _ in range(steps)]}, repeats=2)[name]
    return steps * spec.batch_size / seconds


def evaluation_seconds(name: str, scenes: int = 200) -> float:
    """CPU seconds per 1000 test scenes of ``python -m utils.evaluate NAME`` (measured on ``scenes``)."""
    model = checkpoints.load(name)
    start = time.perf_counter()
    zoo_metrics(name, model, "test", 0, scenes)
    return (time.perf_counter() - start) * 1000 / scenes


def processes(workers: int, alone: str) -> str:
    """A table row's label: ``alone`` for no worker processes, else how many."""
    return alone if workers == 0 else f"{workers} worker{'s' if workers > 1 else ''}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m utils.zoo.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (a rough table in seconds)")
    args = parser.parse_args(argv)
    try:  # every shipped model must load before the benchmark spends minutes on any of them
        for name in ZOO:
            checkpoints.load(name)
    except checkpoints.CheckpointError as err:
        parser.exit(2, f"error: {err}\n")
    scenes, steps, eval_scenes = (100, 1, 20) if args.quick else (500, 4, 200)
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads"
          + (f", {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ""))
    print(f"\n{'data set (one core)':<34}{'64x64 scenes/s':>16}{'128x128 scenes/s':>18}")
    small, large = data_rates(64, scenes), data_rates(128, scenes)
    for path in small:
        print(f"{path:<34}{small[path]:>16,.0f}{large[path]:>18,.0f}")
    print(f"\n{'training data path (DataLoader)':<34}{'64x64 scenes/s':>16}")
    for workers in (0, 1, 2):
        print(f"{processes(workers, 'in the training process'):<34}"
              f"{loader_rate(workers, batches=8 if args.quick else 24):>16,.0f}")
    print(f"\n{'SDS + hypercolumn pipeline':<34}{'128x128 scenes/s':>16}")
    for workers in sorted({0, instance_workers()}):
        print(f"{processes(workers, 'in this process'):<34}{pipeline_rate(workers, 8 if args.quick else 16):>16,.1f}")
    header = f"\n{'model':<22}{'image':>7}" + "".join(f"{'train img/s ' + d.type:>18}" for d in devices)
    print(header + f"{'eval s/1000':>13}{'weights KB':>12}")
    for name, spec in ZOO.items():
        rates = "".join(f"{training_rate(name, d, steps):>18,.1f}" for d in devices)
        size = (checkpoints.WEIGHTS_DIR / f"{name}.safetensors").stat().st_size / 1024
        # instance pipelines cost about a tenth of a second per scene: time fewer
        count = max(2, eval_scenes // 10) if name in INSTANCE_METHODS else eval_scenes
        print(f"{name:<22}{spec.image_size:>7}{rates}{evaluation_seconds(name, count):>13.2f}{size:>12,.0f}")


if __name__ == "__main__":
    main()
