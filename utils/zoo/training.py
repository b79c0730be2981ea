"""Training the zoo's models: the device, the data stream, one step, the loop, and a whole zoo entry.

``train(name)`` builds zoo model ``name``, starts it from its ``init_from``
model, runs ``fit`` (AdamW, one-cycle schedule, batches from ``DataLoader``
workers, bfloat16 autocast on CUDA), scores it (``scoring.zoo_metrics``) and
saves it with its manifest entry (``checkpoints.save``). Used by ``python -m
utils.train``, the benchmark, and chapter 2's few seconds of live training.
"""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from ..augment import augment_batch, joint_augmentation
from ..data import DISTRIBUTIONS, Cluttered, Shapes
from ..models import ZOO, ModelSpec
from ..models.upsampling import Upsample
from . import checkpoints
from .instance_training import TARGETS
from .losses import LOSSES
from .scoring import INSTANCE_LENGTH, INSTANCE_METHODS, MANIFEST_EVAL, zoo_metrics


def resolve_device(choice: str = "auto") -> torch.device:
    """``"auto"`` picks CUDA when available, else the CPU; ``"cuda"`` without a GPU is refused."""
    if choice not in ("auto", "cpu", "cuda"):
        raise ValueError(f"device must be one of auto, cpu, cuda; got {choice!r}")
    if choice == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' was asked for but torch sees no CUDA GPU; use --device cpu or auto")
    return torch.device("cuda" if choice == "cuda" or (choice == "auto" and torch.cuda.is_available()) else "cpu")


def describe_device(device: torch.device) -> str:
    """What the manifest records: e.g. ``cuda: NVIDIA H100 80GB HBM3`` or ``cpu: x86_64, 2 threads``."""
    if device.type == "cuda":
        return f"cuda: {torch.cuda.get_device_name(device)}"
    return f"cpu: {platform.machine()}, {torch.get_num_threads()} threads"


def initialise_from(model: nn.Module, source: str, weights_dir: Path = checkpoints.WEIGHTS_DIR) -> None:
    """Copy the trained weights of ``source`` into ``model`` where names and shapes match.

    Fixed (non-learnable) upsampling layers keep their bilinear kernel: a
    frozen layer must not inherit weights another model learned.
    """
    state = checkpoints.load(source, weights_dir=weights_dir).state_dict()
    frozen = {f"{n}.weight" for n, m in model.named_modules() if isinstance(m, Upsample) and not m.learnable}
    own = model.state_dict()
    own.update({k: v for k, v in state.items() if k in own and k not in frozen and v.shape == own[k].shape})
    model.load_state_dict(own)


class Batches(Dataset):
    """Batch ``i`` of a training stream: scenes ``i * batch_size`` .. ``(i + 1) * batch_size - 1`` of ``data``.

    An item is ``(images (B, 3, H, W), targets)``: the semantic maps (B, H, W),
    or for the instance tasks one target dict per scene (``TARGETS[task]`` adds
    what the task needs, e.g. SDS's proposals). ``steps`` batches are drawn;
    when ``data`` holds fewer scenes (a model's ``pool``) the stream cycles
    through them and each scene's targets are made once per process. A pure
    function of the index, so ``DataLoader`` workers can make batches in
    parallel without changing them.
    """

    def __init__(self, data: Shapes, batch_size: int, task: str, steps: int | None = None,
                 augment: bool = False) -> None:
        self.data, self.batch_size, self.task = data, batch_size, task
        self.steps = len(data) // batch_size if steps is None else steps
        self.made: dict[int, tuple[torch.Tensor, dict]] = {}
        self.augment = joint_augmentation(data.image_size) if augment else None

    def __len__(self) -> int:
        return self.steps

    def item(self, i: int) -> tuple[torch.Tensor, dict]:
        """Scene ``i`` and its task's targets, made once."""
        if i not in self.made:
            image, target = self.data[i]
            self.made[i] = image, TARGETS[self.task](image, target)
        return self.made[i]

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor | list[dict]]:
        indices = [i % len(self.data) for i in range(index * self.batch_size, (index + 1) * self.batch_size)]
        if self.task not in TARGETS:
            images, semantic = self.data.batch(indices)
            if self.augment is None:
                return images, semantic
            return augment_batch(images, semantic, self.augment, generator_seed=self.data.seed * 1_000_003 + index)
        items = [self.item(i) for i in indices]
        return torch.stack([image for image, _ in items]), [target for _, target in items]


def to_device(targets: torch.Tensor | list[dict], device: torch.device) -> torch.Tensor | list[dict]:
    """Semantic maps or a list of target dicts, moved to ``device``."""
    if isinstance(targets, torch.Tensor):
        return targets.to(device, non_blocking=True)
    return [{key: value.to(device, non_blocking=True) for key, value in t.items()} for t in targets]


def train_step(model: nn.Module, optimizer: torch.optim.Optimizer, spec: ModelSpec, images: torch.Tensor,
               targets: torch.Tensor | list[dict], generator: torch.Generator) -> torch.Tensor:
    """One optimisation step on a batch already on the model's device; returns the loss (autocast on CUDA)."""
    with torch.autocast(images.device.type, dtype=torch.bfloat16, enabled=images.device.type == "cuda"):
        loss = LOSSES[spec.task](model, images, targets, generator)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss


def default_workers(device: torch.device) -> int:
    """Data workers: none on the CPU (the model needs every core), all but two cores beside a GPU."""
    return 0 if device.type == "cpu" else max(0, min(12, (os.cpu_count() or 1) - 2))


def training_scenes(spec: ModelSpec, length: int, seed: int) -> Shapes | Cluttered:
    """The ``length`` training scenes ``spec`` names (``spec.scenes``), drawn with ``seed``."""
    if spec.scenes == "cluttered":
        return Cluttered("train", length, image_size=spec.image_size, seed=seed)
    return Shapes("train", length, image_size=spec.image_size, seed=seed, crowded=spec.crowded,
                  distribution=DISTRIBUTIONS[spec.scenes])


def param_groups(model: nn.Module, lr: float) -> list[dict]:
    """The optimiser's parameter groups: the model's own ``param_groups(lr)`` if it has one, else one group at ``lr``.

    Frozen parameters (a trunk) are left out.
    """
    if hasattr(model, "param_groups"):
        return model.param_groups(lr)
    return [{"params": [p for p in model.parameters() if p.requires_grad], "lr": lr}]


def fit(model: nn.Module, spec: ModelSpec, steps: int, seed: int, device: torch.device,
        progress: bool = True, workers: int | None = None, batches: Dataset | None = None) -> tuple[float, list[float]]:
    """Train ``model`` in place for ``steps`` AdamW steps with a one-cycle schedule.

    Batches are made by ``workers`` ``DataLoader`` processes (``default_workers``
    if ``None``); the batches, and so the result, do not depend on how many.
    ``batches`` replaces the zoo's stream of ``spec``'s scenes (chapter 9: a
    folder of your images). Returns the seconds taken and the loss of every step.
    """
    if batches is None:
        data = training_scenes(spec, spec.pool or steps * spec.batch_size, seed)
        batches = Batches(data, spec.batch_size, spec.task, steps, spec.augment)
    workers = default_workers(device) if workers is None else workers
    loader = DataLoader(batches, batch_size=None, num_workers=workers, pin_memory=device.type == "cuda",
                        prefetch_factor=4 if workers else None)
    groups = param_groups(model, spec.lr)
    optimizer = torch.optim.AdamW(groups, lr=spec.lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=[g["lr"] for g in groups], total_steps=steps,
                                                   pct_start=0.1)
    generator = torch.Generator().manual_seed(seed)
    # channels_last lets oneDNN / cuDNN pick their fastest convolutions (about 1.3x on a 2-core CPU).
    model.to(device, memory_format=torch.channels_last).train()
    start = time.perf_counter()
    bar = tqdm(loader, total=steps, desc=spec.name, disable=not progress, mininterval=1.0)
    with torch.enable_grad():  # a caller (a chapter) may have switched gradients off
        losses = _steps(model, optimizer, schedule, spec, bar, generator, device)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start, losses


def _steps(model: nn.Module, optimizer: torch.optim.Optimizer, schedule, spec: ModelSpec, bar,
           generator: torch.Generator, device: torch.device) -> list[float]:
    """The loop of ``fit``: one ``train_step`` per batch of ``bar``; the loss of every step."""
    losses = []
    for step, (images, targets) in enumerate(bar):
        images = images.to(device, memory_format=torch.channels_last, non_blocking=True)
        loss = train_step(model, optimizer, spec, images, to_device(targets, device), generator)
        schedule.step()
        losses.append(loss.item())
        if step % 10 == 0:
            bar.set_postfix(loss=f"{losses[-1]:.3f}")
    return losses


#: Points of the learning curve the manifest keeps for each model (the model card plots them).
CURVE_POINTS = 50


def loss_curve(losses: list[float], points: int = CURVE_POINTS) -> list[list[float]]:
    """``[[step, mean loss of the steps up to it], ...]``: the losses averaged in ``points`` consecutive windows."""
    window, curve = max(1, len(losses) // points), []
    for start in range(0, len(losses), window):
        chunk = losses[start:start + window]
        curve.append([start + len(chunk), round(sum(chunk) / len(chunk), 4)])
    return curve


def train(
    name: str, device: str = "auto", seed: int = 0, steps: int | None = None, progress: bool = True,
    weights_dir: Path = checkpoints.WEIGHTS_DIR, evaluation: dict | None = None,
) -> dict:
    """Train zoo model ``name``, evaluate it, save it; returns its manifest entry.

    ``evaluation`` (split, seed, length) defaults to ``MANIFEST_EVAL``, the
    evaluation the tests re-run on the shipped weights.
    """
    checkpoints.check_name(name)
    spec, torch_device = ZOO[name], resolve_device(device)
    steps = spec.steps if steps is None else steps
    if steps < 1:
        raise ValueError(f"steps must be a positive number of optimisation steps, got {steps}")
    torch.manual_seed(seed)
    model = checkpoints.build(name, weights_dir)
    if spec.init_from:
        initialise_from(model, spec.init_from, checkpoints.source_dir(spec.init_from, weights_dir))
    seconds, losses = fit(model, spec, steps, seed, torch_device, progress)
    if evaluation is None:
        evaluation = {**MANIFEST_EVAL, "length": INSTANCE_LENGTH} if name in INSTANCE_METHODS else MANIFEST_EVAL
    metrics = zoo_metrics(name, model.eval(), **evaluation, weights_dir=weights_dir)
    info = {
        "description": spec.description, "chapter": spec.chapter, "device": describe_device(torch_device),
        "steps": steps, "batch_size": spec.batch_size, "lr": spec.lr, "seed": seed, "init_from": spec.init_from,
        "image_size": spec.image_size, "train_seconds": round(seconds, 1), "trained_on": time.strftime("%Y-%m-%d"),
        "final_loss": round(sum(losses[-20:]) / len(losses[-20:]), 4), "loss_curve": loss_curve(losses),
        "metrics": {**evaluation, **metrics},
    }
    entry = checkpoints.save(name, model, info, weights_dir)
    checkpoints.load_shared.cache_clear()  # later models in this run must see the new weights, not cached ones
    return entry


