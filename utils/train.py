"""Train the demo models: ``python -m utils.train NAME [--device auto|cpu|cuda] [--seed S] [--steps N]``.

``python -m utils.train --all`` trains the whole zoo in dependency order. Data
are generated on the fly (every training scene is new), training is seeded,
runs on CUDA with bfloat16 mixed precision when there is a GPU and on the CPU
otherwise, and ends by evaluating on the test split and writing the weights and
their manifest entry (``utils.checkpoints.save``).
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from . import checkpoints
from .data import Shapes
from .evaluate import MANIFEST_EVAL, evaluate_model
from .models import ZOO, ModelSpec
from .models.patchnet import OUTPUT_STRIDE, pad_for_patches
from .models.upsampling import Upsample


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


def initialise_from(model: nn.Module, source: str) -> None:
    """Copy the trained weights of ``source`` into ``model`` where names and shapes match.

    Fixed (non-learnable) upsampling layers keep their bilinear kernel: a
    frozen layer must not inherit weights another model learned.
    """
    state = checkpoints.load(source).state_dict()
    frozen = {f"{n}.weight" for n, m in model.named_modules() if isinstance(m, Upsample) and not m.learnable}
    own = model.state_dict()
    own.update({k: v for k, v in state.items() if k in own and k not in frozen and v.shape == own[k].shape})
    model.load_state_dict(own)


def dense_loss(model: nn.Module, images: torch.Tensor, semantic: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Cross-entropy of (B, C, H, W) scores against (B, H, W) labels at every pixel."""
    return F.cross_entropy(model(images), semantic)


def patch_loss(model: nn.Module, images: torch.Tensor, semantic: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Cross-entropy of the patch classifier on the centre pixels of a random stride-4 grid of patches.

    One dense pass computes the classifier on every patch of the grid at once
    (chapter 2 shows it gives the same numbers), so this is patch-wise training
    without cutting the patches out.
    """
    dy, dx = torch.randint(OUTPUT_STRIDE, (2,), generator=generator).tolist()
    scores = model.dense(pad_for_patches(images)[..., dy:, dx:])
    labels = semantic[:, dy::OUTPUT_STRIDE, dx::OUTPUT_STRIDE]
    return F.cross_entropy(scores, labels)


LOSSES = {"dense": dense_loss, "patch": patch_loss}


def train_step(model: nn.Module, optimizer: torch.optim.Optimizer, spec: ModelSpec, images: torch.Tensor,
               semantic: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """One optimisation step on a batch already on the model's device; returns the loss (autocast on CUDA)."""
    with torch.autocast(images.device.type, dtype=torch.bfloat16, enabled=images.device.type == "cuda"):
        loss = LOSSES[spec.task](model, images, semantic, generator)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss


def fit(model: nn.Module, spec: ModelSpec, steps: int, seed: int, device: torch.device,
        progress: bool = True) -> tuple[float, list[float]]:
    """Train ``model`` in place for ``steps`` AdamW steps with a one-cycle schedule.

    Returns the seconds taken and the loss of every step.
    """
    data = Shapes("train", steps * spec.batch_size, image_size=spec.image_size, seed=seed)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=spec.lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=spec.lr, total_steps=steps, pct_start=0.1)
    generator = torch.Generator().manual_seed(seed)
    losses = []
    # channels_last lets oneDNN / cuDNN pick their fastest convolutions (about 1.3x on a 2-core CPU).
    model.to(device, memory_format=torch.channels_last).train()
    start = time.perf_counter()
    bar = tqdm(range(steps), desc=spec.name, disable=not progress, mininterval=1.0)
    for step in bar:
        images, semantic = data.batch(range(step * spec.batch_size, (step + 1) * spec.batch_size))
        images = images.to(device, memory_format=torch.channels_last, non_blocking=True)
        semantic = semantic.to(device, non_blocking=True)
        loss = train_step(model, optimizer, spec, images, semantic, generator)
        schedule.step()
        losses.append(loss.item())
        if step % 10 == 0:
            bar.set_postfix(loss=f"{losses[-1]:.3f}")
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start, losses


def train(
    name: str, device: str = "auto", seed: int = 0, steps: int | None = None, progress: bool = True,
    weights_dir: Path = checkpoints.WEIGHTS_DIR, evaluation: dict | None = None,
) -> dict:
    """Train zoo model ``name``, evaluate it, save it; returns its manifest entry.

    ``evaluation`` (split, seed, length) defaults to ``MANIFEST_EVAL``, the
    evaluation the tests re-run on the shipped weights.
    """
    if name not in ZOO:
        raise ValueError(f"unknown model {name!r}; the zoo has: {', '.join(ZOO)}")
    spec, torch_device = ZOO[name], resolve_device(device)
    steps = spec.steps if steps is None else steps
    if steps < 1:
        raise ValueError(f"steps must be a positive number of optimisation steps, got {steps}")
    torch.manual_seed(seed)
    model = spec.build()
    if spec.init_from:
        initialise_from(model, spec.init_from)
    seconds, losses = fit(model, spec, steps, seed, torch_device, progress)
    evaluation = MANIFEST_EVAL if evaluation is None else evaluation
    metrics = evaluate_model(model.eval(), image_size=spec.image_size, device=torch_device, **evaluation)
    info = {
        "description": spec.description, "chapter": spec.chapter, "device": describe_device(torch_device),
        "steps": steps, "batch_size": spec.batch_size, "lr": spec.lr, "seed": seed, "init_from": spec.init_from,
        "image_size": spec.image_size, "train_seconds": round(seconds, 1), "trained_on": time.strftime("%Y-%m-%d"),
        "final_loss": round(sum(losses[-20:]) / len(losses[-20:]), 4), "metrics": {**evaluation, **metrics},
    }
    return checkpoints.save(name, model.cpu(), info, weights_dir)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m utils.train", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"models to train, from: {', '.join(ZOO)}")
    parser.add_argument("--all", action="store_true", help="train the whole zoo in dependency order")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=None, help="override the zoo's number of steps")
    args = parser.parse_args(argv)
    names = list(ZOO) if args.all else args.names
    if not names:
        parser.error("name at least one model, or pass --all")
    unknown = [n for n in names if n not in ZOO]
    if unknown:
        parser.error(f"unknown model(s) {', '.join(unknown)}; the zoo has: {', '.join(ZOO)}")
    for name in names:
        entry = train(name, args.device, args.seed, args.steps)
        m = entry["metrics"]
        print(f"{name}: mIoU {m['miou']:.4f}, pixel accuracy {m['pixel_accuracy']:.4f}, "
              f"{entry['train_seconds']} s on {entry['device']}")


if __name__ == "__main__":
    main()
